// Cross-file consistency of a rendered overlay with itself, with the pipeline
// files (pipelines/*.pipeline), with the Secrets k8s/tools/make-secrets.sh makes,
// and with the broker topology the pipelines declare (gst/edgefaas-amqp.c).
// checkOverlay() returns a list of problems; empty = consistent.
import fs from 'node:fs';
import path from 'node:path';

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const LAUNCHER = 'edgefaas-launch';
const LAUNCHER_COMPONENTS = ['edge', 'inference', 'analytics'];
const ANALYTICS_PIPELINE = 'analytics.pipeline';
const GRACE_MARGIN_S = 10;

// ---- pipeline files --------------------------------------------------------
// ${VAR} and ${VAR:-default} (defaults may nest). Returns {required, optional}.
export function pipelineVariables(text) {
  const required = new Set(), optional = new Set();
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l)).join(' ');
  const scan = (s, inDefault) => {
    let i = 0;
    while ((i = s.indexOf('${', i)) >= 0) {
      let depth = 0, j = i;
      for (; j < s.length; j++) {
        if (s.startsWith('${', j)) { depth++; j++; } else if (s[j] === '}' && --depth === 0) break;
      }
      const body = s.slice(i + 2, j);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(body);
      if (m) {
        if (m[2] === undefined && !inDefault) required.add(m[1]); else optional.add(m[1]);
        if (m[2] !== undefined) scan(m[2], true);
      }
      i = j + 1;
    }
  };
  scan(lines, false);
  for (const r of required) optional.delete(r);
  return { required, optional };
}

// ---- helpers over rendered objects -----------------------------------------
export function podSpecs(objs) {
  const out = [];
  for (const o of objs) {
    const t = o.kind === 'ScaledJob' ? o.spec?.jobTargetRef?.template
      : ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'].includes(o.kind) ? o.spec?.template
        : o.kind === 'Pod' ? o : null;
    if (t?.spec) out.push({ owner: o, spec: t.spec, labels: t.metadata?.labels ?? {}, where: `${o.kind}/${o.metadata.name}` });
  }
  return out;
}
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);

function flag(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

// The environment a container sees: explicit env plus envFrom ConfigMaps.
function containerEnv(c, objs, errs, where) {
  const env = new Map();
  for (const ef of c.envFrom ?? []) {
    if (ef.configMapRef) {
      const cm = find(objs, 'ConfigMap', ef.configMapRef.name);
      if (!cm) { errs.push(`${where}: envFrom ConfigMap ${ef.configMapRef.name} is not in the overlay`); continue; }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { value: v, from: `configmap ${cm.metadata.name}` });
    } else errs.push(`${where}: envFrom other than configMapRef is not checked`);
  }
  for (const e of c.env ?? []) env.set(e.name, { value: e.value, valueFrom: e.valueFrom });
  return env;
}

// Kubernetes quantity -> bytes ("640Mi", "1G", "268435456"); NaN if unparsable.
export function quantityBytes(q) {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? ''));
  if (!m) return NaN;
  const mult = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1;
  return Number(m[1]) * mult;
}
const DEFAULT_SPOOL_MAX_BYTES = 268435456; // amqpsink spool-max-bytes default

// The edge spool (amqpsink spool-dir): a writable volume that holds twice
// spool-max-bytes (the file shrinks only once the spool is empty, so a replay
// interrupted by a second outage leaves the replayed part in the file).
function checkSpool(c, env, volumes, cw, objs, errs) {
  const dir = env.get('EDGEFAAS_SPOOL_DIR')?.value;
  if (!dir) { errs.push(`${cw}: EDGEFAAS_SPOOL_DIR unset: frames the broker has not confirmed are lost when it is down (the edge must spool)`); return; }
  const maxRaw = env.get('EDGEFAAS_SPOOL_MAX_BYTES')?.value;
  const max = maxRaw === undefined ? DEFAULT_SPOOL_MAX_BYTES : Number(maxRaw);
  if (!(max > 0)) { errs.push(`${cw}: EDGEFAAS_SPOOL_MAX_BYTES '${maxRaw}' is not a positive byte count`); return; }
  const norm = (p) => p.replace(/\/+$/, '');
  const m = (c.volumeMounts ?? []).filter((x) => norm(dir) === norm(x.mountPath) || norm(dir).startsWith(norm(x.mountPath) + '/'))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!m) { errs.push(`${cw}: EDGEFAAS_SPOOL_DIR ${dir} is on the read-only root filesystem (no volume mounted there)`); return; }
  if (m.readOnly) errs.push(`${cw}: EDGEFAAS_SPOOL_DIR ${dir} is mounted read-only`);
  const v = volumes.get(m.name);
  let size = NaN;
  if (v?.emptyDir) {
    if (v.emptyDir.medium === 'Memory') errs.push(`${cw}: the spool volume ${m.name} is in memory (counts against the memory limit)`);
    size = quantityBytes(v.emptyDir.sizeLimit);
    if (v.emptyDir.sizeLimit === undefined) errs.push(`${cw}: the spool emptyDir ${m.name} has no sizeLimit`);
  } else if (v?.persistentVolumeClaim) {
    size = quantityBytes(objs.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === v.persistentVolumeClaim.claimName)?.spec?.resources?.requests?.storage);
  } else errs.push(`${cw}: the spool volume ${m.name} is neither an emptyDir nor a PersistentVolumeClaim`);
  if (Number.isFinite(size) && size < 2 * max) errs.push(`${cw}: spool volume ${m.name} holds ${size} bytes < 2 x spool-max-bytes ${max} (the kubelet evicts the pod when the spool grows past it)`);
  if (env.get('FRAME_STORE')?.value && norm(dir).startsWith(norm(env.get('FRAME_STORE').value))) errs.push(`${cw}: EDGEFAAS_SPOOL_DIR is inside FRAME_STORE`);
}

function parseAmqpUrl(url) {
  const m = /^amqps?:\/\/([^@/:]+)(?::([^@/]*))?@([^/:?]+)(?::(\d+))?\/([^?]*)(?:\?(.*))?$/.exec(url ?? '');
  if (!m) return null;
  const q = Object.fromEntries(new URLSearchParams(m[6] ?? ''));
  return { user: m[1], password: m[2], host: m[3], port: Number(m[4] ?? 5672), vhost: decodeURIComponent(m[5]), query: q };
}

// ---- frame mode ------------------------------------------------------------
// FRAME_STORE set: frames by reference through a shared directory (amqpsink
// frame-store, amqpsrc frame-root). Unset or empty: inline frames (the pipelines
// use ${FRAME_STORE:-NULL}). One launcher container's view of it:
function frameStoreOf(c, env, volumes, labels, cw, errs, out) {
  const fs_ = env.get('FRAME_STORE');
  if (fs_?.valueFrom) { errs.push(`${cw}: FRAME_STORE from valueFrom is not checked; set it as a value or in a ConfigMap`); return; }
  const value = fs_?.value ?? '';
  const entry = { cw, component: labels['app.kubernetes.io/component'], value, claim: null };
  out.push(entry);
  if (!value) return;
  if (!value.startsWith('/')) { errs.push(`${cw}: FRAME_STORE '${value}' is not an absolute path`); return; }
  const m = (c.volumeMounts ?? []).find((x) => x.mountPath.replace(/\/+$/, '') === value.replace(/\/+$/, ''));
  if (!m) { errs.push(`${cw}: FRAME_STORE ${value} is not a mounted volume (the root filesystem is read-only, and the other side could not see it)`); return; }
  const v = volumes.get(m.name);
  if (!v?.persistentVolumeClaim) { errs.push(`${cw}: FRAME_STORE ${value} is mounted from volume ${m.name}, not a PersistentVolumeClaim (edge and inference pods must share it)`); return; }
  entry.claim = v.persistentVolumeClaim.claimName;
  if (entry.component === 'edge' && (m.readOnly || v.persistentVolumeClaim.readOnly)) errs.push(`${cw}: the edge writes frames to FRAME_STORE ${value}, but it is mounted read-only`);
}

function checkFrameStores(entries, objs, pods, ctx, errs) {
  const edge = entries.filter((e) => e.component === 'edge');
  const inf = entries.filter((e) => e.component === 'inference');
  const stores = entries.filter((e) => e.value);
  // Every edge stores and every inference reads from the same place, or none does.
  if (stores.length && stores.length !== entries.length) {
    const storing = stores.map((e) => e.cw).join(', ');
    const inline = entries.filter((e) => !e.value).map((e) => e.cw).join(', ');
    const hint = edge.some((e) => e.value) && inf.some((e) => !e.value)
      ? ' — the inference side would dead-letter every frame reference (no-frame-root)' : '';
    errs.push(`frame mode differs: FRAME_STORE set on ${storing} but not on ${inline}${hint}`);
  }
  const paths = new Set(stores.map((e) => e.value.replace(/\/+$/, '')));
  if (paths.size > 1) errs.push(`FRAME_STORE differs between launchers: ${stores.map((e) => `${e.cw}=${e.value}`).join(', ')} (amqpsrc frame-root must be the directory amqpsink writes)`);
  const claims = new Set(stores.map((e) => e.claim).filter(Boolean));
  if (claims.size > 1) errs.push(`FRAME_STORE is mounted from different claims: ${[...claims].join(', ')}`);
  for (const name of claims) {
    const pvc = objs.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === name);
    if (!pvc) continue; // reported with the volume
    const modes = pvc.spec?.accessModes ?? [];
    // Edge and inference on different nodes (a GPU pool) need ReadWriteMany.
    if (ctx.gpu && !modes.includes('ReadWriteMany')) errs.push(`PersistentVolumeClaim ${name} (frame store) is ${modes.join(',')}: edge and GPU inference nodes differ, it must be ReadWriteMany`);
  }
  // Claims nobody mounts (e.g. a frame store left behind in an inline overlay).
  const used = new Set(pods.flatMap(({ spec }) => (spec.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter(Boolean)));
  for (const o of objs) if (o.kind === 'PersistentVolumeClaim' && !used.has(o.metadata.name)) errs.push(`PersistentVolumeClaim ${o.metadata.name} is used by no pod`);
}

// ---- cameras -----------------------------------------------------------------
// ConfigMap edgefaas-cameras lists cameras (<camera>.id, .uri, .site). Every
// camera has exactly one pipeline, on one node of its site: a Deployment (or
// StatefulSet) with one replica (Recreate, so a rollout never runs two), whose
// nodeSelector names the site. A DaemonSet would run every camera on every
// matching node (each event published once per node).
const CAMERA_CM = 'edgefaas-cameras';
const selectsLabels = (sel, lbls) => Object.entries(sel.matchLabels ?? {}).every(([k, v]) => lbls[k] === v)
  && (sel.matchExpressions ?? []).every((e) => (e.operator === 'In' ? e.values.includes(lbls[e.key]) : e.operator === 'Exists' ? e.key in lbls : true));
function checkCameras(objs, pods, errs) {
  const cm = find(objs, 'ConfigMap', CAMERA_CM);
  const edgePods = pods.filter((p) => p.labels['app.kubernetes.io/component'] === 'edge');
  if (!cm) { if (edgePods.length) errs.push(`ConfigMap ${CAMERA_CM} missing`); return; }
  const data = cm.data ?? {};
  const cameras = [...new Set(Object.keys(data).map((k) => /^(.+)\.(id|uri|site|region)$/.exec(k)?.[1]).filter(Boolean))];
  for (const k of Object.keys(data)) if (!/^(.+)\.(id|uri|site|region)$/.test(k)) errs.push(`${CAMERA_CM}: key '${k}' is not <camera>.id|uri|site|region`);
  const ids = new Map();
  for (const cam of cameras) {
    for (const part of ['id', 'site']) if (!data[`${cam}.${part}`]) errs.push(`${CAMERA_CM}: camera ${cam} has no ${cam}.${part}`);
    const id = data[`${cam}.id`];
    if (id && ids.has(id)) errs.push(`${CAMERA_CM}: cameras ${ids.get(id)} and ${cam} share the id '${id}' (one routing key for two streams)`);
    if (id) ids.set(id, cam);
  }
  // Camera URIs: RTSP only over TCP (rtspt://, rtspst://); a port the edge may
  // reach; a camera inside the cluster is a Service of the overlay.
  const edgeLabels = edgePods[0]?.labels ?? { 'app.kubernetes.io/component': 'edge' };
  const nps = objs.filter((o) => o.kind === 'NetworkPolicy');
  const egressAllows = (port) => nps.some((n) => selectsLabels(n.spec.podSelector, edgeLabels) && (n.spec.policyTypes ?? []).includes('Egress')
    && (n.spec.egress ?? []).some((r) => (r.ports ?? []).some((p) => (p.protocol ?? 'TCP') === 'TCP' && (p.endPort ? p.port <= port && port <= p.endPort : p.port === port))));
  for (const cam of cameras) {
    const uri = data[`${cam}.uri`];
    if (!uri) continue;
    let u;
    try { u = new URL(uri); } catch { errs.push(`${CAMERA_CM}: ${cam}.uri '${uri}' is not a URI`); continue; }
    const scheme = u.protocol.replace(/:$/, '');
    if (['rtsp', 'rtspu', 'rtsps', 'rtspsu'].includes(scheme))
      errs.push(`${CAMERA_CM}: ${cam}.uri uses ${scheme}://: RTSP may negotiate RTP over UDP, which the NetworkPolicies block (inbound UDP on unpredictable client ports); use ${scheme.startsWith('rtsps') ? 'rtspst' : 'rtspt'}:// (RTP interleaved on the TCP connection)`);
    if (!['rtsp', 'rtspu', 'rtspt', 'rtsps', 'rtspsu', 'rtspst', 'http', 'https'].includes(scheme)) continue;
    const port = Number(u.port || { rtsp: 554, rtspu: 554, rtspt: 554, rtsps: 322, rtspsu: 322, rtspst: 322, http: 80, https: 443 }[scheme]);
    if (!egressAllows(port)) errs.push(`${CAMERA_CM}: ${cam}.uri port ${port}: no NetworkPolicy lets the edge open TCP ${port}`);
    const host = u.hostname.split('.');
    if (host.length === 1 || host.includes('svc')) {
      const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === host[0]);
      if (!svc) errs.push(`${CAMERA_CM}: ${cam}.uri points at the in-cluster Service '${host[0]}', which is not in the overlay`);
      else if (!(svc.spec.ports ?? []).some((p) => p.port === port)) errs.push(`${CAMERA_CM}: ${cam}.uri port ${port} is not a port of Service ${host[0]}`);
    }
  }
  const pipelinesOf = new Map(cameras.map((c) => [c, []]));
  for (const { owner, spec, where } of edgePods) {
    for (const c of spec.containers) {
      if (!(c.args ?? []).some((a) => a.endsWith('edge.pipeline'))) continue;
      const cw = `${where} container ${c.name}`;
      const keyOf = (name) => { const e = (c.env ?? []).find((x) => x.name === name); return e?.valueFrom?.configMapKeyRef?.name === CAMERA_CM ? e.valueFrom.configMapKeyRef.key : e?.valueFrom?.secretKeyRef ? 'secret' : undefined; };
      const idKey = keyOf('CAMERA_ID'), uriKey = keyOf('CAMERA_URI');
      const cam = /^(.+)\.id$/.exec(idKey ?? '')?.[1];
      if (!cam) { errs.push(`${cw}: CAMERA_ID does not come from ${CAMERA_CM} <camera>.id`); continue; }
      if (uriKey !== 'secret' && uriKey !== `${cam}.uri`) errs.push(`${cw}: CAMERA_ID is ${cam}.id but CAMERA_URI is '${uriKey}' (not ${cam}.uri or a Secret)`);
      if (!pipelinesOf.has(cam)) { errs.push(`${cw}: camera ${cam} is not listed in ${CAMERA_CM}`); continue; }
      pipelinesOf.get(cam).push(cw);
      if (owner.kind === 'DaemonSet') errs.push(`${cw}: camera ${cam} in a DaemonSet runs on every node it matches (duplicate events with two edge nodes at a site); use one Deployment per camera with replicas 1`);
      else if (owner.kind === 'Deployment' || owner.kind === 'StatefulSet') {
        if ((owner.spec.replicas ?? 1) !== 1) errs.push(`${cw}: camera ${cam} runs ${owner.spec.replicas} replicas (each publishes every event)`);
        if (owner.kind === 'Deployment' && owner.spec.strategy?.type !== 'Recreate') errs.push(`${cw}: camera ${cam}: Deployment strategy must be Recreate (a RollingUpdate runs two pipelines for one camera)`);
      } else errs.push(`${cw}: camera ${cam} runs in a ${owner.kind}`);
      const site = data[`${cam}.site`];
      const ns = spec.nodeSelector ?? {};
      if (ns['edgefaas.io/edge'] !== 'true') errs.push(`${cw}: camera ${cam} is not pinned to edge nodes (nodeSelector edgefaas.io/edge: "true")`);
      if (site && ns['edgefaas.io/site'] !== site) errs.push(`${cw}: camera ${cam} belongs to site '${site}' but its nodeSelector edgefaas.io/site is '${ns['edgefaas.io/site']}'`);
    }
  }
  for (const [cam, ps] of pipelinesOf) {
    if (ps.length === 0) errs.push(`${CAMERA_CM}: camera ${cam} has no pipeline`);
    if (ps.length > 1) errs.push(`${CAMERA_CM}: camera ${cam} has ${ps.length} pipelines (${ps.join('; ')})`);
  }
}

// The model claim: inference mounts it read-only; with inference on several GPU
// nodes it must be ReadWriteMany (ReadOnlyMany can rarely be provisioned and no
// loader could fill it: k8s/tools/load-models.sh mounts it read-write).
function checkModels(objs, pods, ctx, errs) {
  for (const { spec, labels, where } of pods) {
    if (labels['app.kubernetes.io/component'] !== 'inference') continue;
    for (const v of spec.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      const pvc = name && find(objs, 'PersistentVolumeClaim', name);
      if (!pvc || name !== 'edgefaas-models') continue;
      const mounts = spec.containers.flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === v.name));
      if (mounts.some((m) => !m.readOnly) || !v.persistentVolumeClaim.readOnly) errs.push(`${where}: the model claim ${name} is not mounted read-only`);
      const modes = pvc.spec?.accessModes ?? [];
      if (modes.includes('ReadOnlyMany') && !modes.includes('ReadWriteMany')) errs.push(`PersistentVolumeClaim ${name} is ReadOnlyMany: most StorageClasses cannot provision it and nothing could write the weights into it (use ReadWriteMany; k8s/tools/load-models.sh fills it)`);
      else if (ctx.gpu && !modes.includes('ReadWriteMany')) errs.push(`PersistentVolumeClaim ${name} is ${modes.join(',')}: inference pods on several GPU nodes mount it at once, it must be ReadWriteMany`);
    }
  }
}

// Launchers in one pod share its network namespace: their --http-port values must
// differ, and the prometheus.io/port annotation can name only one of them.
function checkPodPorts(pods, errs) {
  for (const { owner, spec, where } of pods) {
    const annotations = (owner.kind === 'ScaledJob' ? owner.spec.jobTargetRef.template : owner.kind === 'Pod' ? owner : owner.spec.template).metadata?.annotations ?? {};
    const launcherPorts = [];
    const seen = new Map();
    for (const c of spec.containers) {
      const cmd = [...(c.command ?? []), ...(c.args ?? [])];
      const hp = Number(flag(cmd, '--http-port'));
      if (cmd[0] === LAUNCHER && hp) launcherPorts.push(hp);
      for (const p of [...(c.ports ?? []).map((x) => x.containerPort), ...(cmd[0] === LAUNCHER && hp && !(c.ports ?? []).some((x) => x.containerPort === hp) ? [hp] : [])]) {
        if (seen.has(p)) errs.push(`${where}: containers ${seen.get(p)} and ${c.name} both listen on port ${p} (one pod network: "Address already in use")`);
        else seen.set(p, c.name);
      }
    }
    if (launcherPorts.length > 1 && annotations['prometheus.io/scrape'] === 'true') errs.push(`${where}: ${launcherPorts.length} launchers in one pod but prometheus.io/port scrapes only one (one launcher per pod, or a PodMonitor listing every port)`);
    if (launcherPorts.length === 1 && annotations['prometheus.io/scrape'] === 'true' && Number(annotations['prometheus.io/port']) !== launcherPorts[0])
      errs.push(`${where}: prometheus.io/port ${annotations['prometheus.io/port']} is not the launcher's --http-port ${launcherPorts[0]}`);
  }
}

// ---- the analytics stage -----------------------------------------------------
// pipelines/analytics.pipeline keeps each camera's tracks and situation state in
// memory: exactly one consumer per analytics queue (one Deployment or StatefulSet
// with replicas 1, Recreate, no autoscaler), its own queue in the broker topology
// bound as ANALYTICS_BINDING says, alerts routed to EDGEFAAS_ALERT_QUEUE, the
// source frames read-only from the frame store, snapshots written to the store.
const analyticsQueueOf = (env) => env.get('EDGEFAAS_ANALYTICS_QUEUE')?.value || 'analytics';
const analyticsBindingOf = (env) => env.get('ANALYTICS_BINDING')?.value || 'detections.#';
const underMount = (c, p) => (c.volumeMounts ?? []).filter((m) => p === m.mountPath.replace(/\/+$/, '') || p.startsWith(m.mountPath.replace(/\/+$/, '') + '/'))
  .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
function checkAnalytics(objs, analytics, scalers, topo, cfg, ctx, errs) {
  const byQueue = new Map();
  for (const a of analytics) {
    const { owner, c, cw, env, volumes } = a;
    const q = analyticsQueueOf(env);
    byQueue.set(q, [...(byQueue.get(q) ?? []), cw]);
    // One owner of each camera's tracks.
    if (owner.kind !== 'Deployment' && owner.kind !== 'StatefulSet') errs.push(`${cw}: the analytics stage runs in a ${owner.kind}: it needs exactly one pod per queue (a Deployment with replicas 1, Recreate)`);
    else {
      if (owner.spec.replicas !== 1) errs.push(`${cw}: analytics ${owner.kind} has replicas ${owner.spec.replicas ?? '(unset)'}, must be exactly 1 (two consumers split a camera's frames between two trackers)`);
      if (owner.kind === 'Deployment' && owner.spec.strategy?.type !== 'Recreate') errs.push(`${cw}: analytics Deployment strategy must be Recreate (a RollingUpdate runs the new pod next to the old one: two trackers per camera)`);
      if (owner.kind === 'StatefulSet' && owner.spec.podManagementPolicy === 'Parallel') errs.push(`${cw}: analytics StatefulSet with podManagementPolicy Parallel`);
    }
    for (const s of scalers) if (s.kind === 'ScaledObject' && s.spec.scaleTargetRef?.name === owner.metadata.name) errs.push(`${cw}: ${s.kind}/${s.metadata.name} scales the analytics stage (it must stay at exactly one pod)`);
    for (const h of objs.filter((o) => o.kind === 'HorizontalPodAutoscaler')) if (h.spec.scaleTargetRef?.name === owner.metadata.name) errs.push(`${cw}: HorizontalPodAutoscaler/${h.metadata.name} scales the analytics stage`);
    // It must see the detections inference publishes (detections.<camera>).
    const bind = analyticsBindingOf(env);
    if (!/^detections\.(#|[A-Za-z0-9_-]+)$/.test(bind)) errs.push(`${cw}: ANALYTICS_BINDING '${bind}' does not match the detection events' routing keys detections.<camera> (detections.# or detections.<camera>)`);
    if (q === cfg.EDGEFAAS_DETECTION_QUEUE || q === cfg.EDGEFAAS_FRAME_QUEUE || q === cfg.EDGEFAAS_ALERT_QUEUE)
      errs.push(`${cw}: EDGEFAAS_ANALYTICS_QUEUE '${q}' is a shared work queue: the analytics stage needs its own copy of the detections`);
    if (!cfg.EDGEFAAS_ALERT_QUEUE) errs.push(`${cw}: no EDGEFAAS_ALERT_QUEUE: alerts.<situation>.<camera> would reach no queue`);
    // Frames read-only, snapshots written into the shared store.
    const store = env.get('FRAME_STORE')?.value;
    const storeMount = store && (c.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, '') === store.replace(/\/+$/, ''));
    if (storeMount && !storeMount.readOnly) errs.push(`${cw}: FRAME_STORE ${store} is mounted read-write: the analytics stage only reads frames (mount it read-only, snapshots into their own writable subPath)`);
    const snap = (env.get('SNAPSHOT_DIR')?.value || store || '').replace(/\/+$/, '');
    if (snap) {
      const m = underMount(c, snap);
      const v = m && volumes.get(m.name);
      if (!m) errs.push(`${cw}: SNAPSHOT_DIR ${snap} is on the read-only root filesystem (every alert loses its snapshot)`);
      else if (m.readOnly || v?.persistentVolumeClaim?.readOnly) errs.push(`${cw}: SNAPSHOT_DIR ${snap} is mounted read-only (every alert loses its snapshot: snapshot-errors)`);
      else if (!v?.persistentVolumeClaim) errs.push(`${cw}: SNAPSHOT_DIR ${snap} is on volume ${m.name}, not a PersistentVolumeClaim: the snapshot URIs of the alerts would point into one pod's scratch space, gone at its restart`);
    }
    // The rules: a ConfigMap key, identical to the shipped file of that name.
    const rules = env.get('SITUATION_RULES')?.value;
    if (rules) {
      const m = underMount(c, rules);
      const v = m && volumes.get(m.name);
      if (!v?.configMap) errs.push(`${cw}: SITUATION_RULES ${rules} is not in a mounted ConfigMap`);
      else {
        const rel = path.relative(m.mountPath, rules);
        const key = (v.configMap.items ?? []).find((it) => it.path === rel)?.key ?? (v.configMap.items ? undefined : rel);
        const cm = find(objs, 'ConfigMap', v.configMap.name);
        if (!key || !cm || !(key in (cm.data ?? {}))) errs.push(`${cw}: SITUATION_RULES ${rules}: ConfigMap ${v.configMap.name} has no key for ${rel}`);
        else {
          const shipped = path.join(ctx.root, 'pipelines/situations', key);
          if (fs.existsSync(shipped) && fs.readFileSync(shipped, 'utf8') !== cm.data[key]) errs.push(`${cw}: ConfigMap ${cm.metadata.name} key ${key} differs from pipelines/situations/${key} (copy the file verbatim)`);
          if (!/^\[situation:/m.test(cm.data[key])) errs.push(`${cw}: ConfigMap ${cm.metadata.name} key ${key} has no [situation:...] group`);
        }
      }
    }
    // The labels file the rules are checked against: the model claim, read-only.
    const labelsDir = env.get('MODEL_LABELS')?.value ?? env.get('MODELS_DIR')?.value;
    if (labelsDir) {
      const m = underMount(c, labelsDir.replace(/\/+$/, ''));
      const v = m && volumes.get(m.name);
      if (!v?.persistentVolumeClaim) errs.push(`${cw}: the labels (${labelsDir}) are not on a mounted claim`);
      else if (!m.readOnly) errs.push(`${cw}: the model claim is mounted read-write by analytics`);
    }
  }
  for (const [q, cws] of byQueue) if (cws.length > 1) errs.push(`analytics queue '${q}' has ${cws.length} consumers (${cws.join('; ')}): each camera's detections need one owner`);
  // A queue bound to the exchange that nothing consumes fills up for ever (e.g.
  // the analytics queue declared in an overlay without the analytics stage).
  if (topo) {
    const known = new Set([cfg.EDGEFAAS_FRAME_QUEUE, cfg.EDGEFAAS_DETECTION_QUEUE, cfg.EDGEFAAS_ALERT_QUEUE, ...byQueue.keys(),
      ...[...regionsOf(objs).values()].map((r) => r.queue)]);
    for (const b of topo.bindings) if (b.source === cfg.EDGEFAAS_EXCHANGE && !known.has(b.destination))
      errs.push(`${topo.source}: queue '${b.destination}' (bound with '${b.key}') has no consumer in the overlay: it fills up for ever`);
  }
}

// ---- regions ---------------------------------------------------------------
// A region is an inference Deployment labelled edgefaas.io/region (k8s/regions/<r>);
// the base's unlabelled edgefaas-inference is the central region. Returns
// Map(region -> {deployment, queue, where, container}).
const CENTRAL_REGION = 'central';
const REGION_LABEL = 'edgefaas.io/region';
const NODE_REGION_LABEL = 'topology.kubernetes.io/region';
const SPILL_EXCHANGE = 'edgefaas.spill';
export function regionsOf(objs) {
  const out = new Map();
  for (const o of objs) {
    const r = o.kind === 'Deployment' && o.spec?.template?.metadata?.labels?.[REGION_LABEL];
    if (!r || o.spec.template.metadata.labels['app.kubernetes.io/component'] !== 'inference') continue;
    const c = o.spec.template.spec.containers.find((x) => (x.args ?? []).some((a) => a.endsWith('inference.pipeline')));
    out.set(r, { deployment: o, container: c, where: `Deployment/${o.metadata.name}`, queue: c?.__env?.get('EDGEFAAS_FRAME_QUEUE')?.value });
  }
  return out;
}

function checkRegions(objs, topo, cfg, scalers, errs) {
  const regions = regionsOf(objs);
  const cams = find(objs, 'ConfigMap', CAMERA_CM)?.data ?? {};
  const known = [CENTRAL_REGION, ...regions.keys()];
  // Every camera belongs to a known region; its edge pipeline gets it as REGION.
  for (const [k, v] of Object.entries(cams)) {
    const cam = /^(.+)\.id$/.exec(k)?.[1];
    if (!cam) continue;
    const r = cams[`${cam}.region`];
    if (!r) errs.push(`${CAMERA_CM}: camera ${cam} has no ${cam}.region`);
    else if (!known.includes(r)) errs.push(`${CAMERA_CM}: camera ${cam} belongs to region '${r}', which is not a region of the overlay (${known.join(', ')}): its frames would be unroutable`);
  }
  for (const { spec, where } of podSpecs(objs).filter((p) => p.labels['app.kubernetes.io/component'] === 'edge')) {
    for (const c of spec.containers.filter((x) => (x.args ?? []).some((a) => a.endsWith('edge.pipeline')))) {
      const e = (c.env ?? []).find((x) => x.name === 'REGION');
      const key = e?.valueFrom?.configMapKeyRef;
      if (!e || key?.name !== CAMERA_CM || !/\.region$/.test(key.key ?? '')) errs.push(`${where} container ${c.name}: REGION does not come from ${CAMERA_CM} <camera>.region`);
      else if (cams[key.key] && cams[key.key] !== CENTRAL_REGION && c.__env?.get('EDGEFAAS_DECLARE')?.value !== 'false')
        errs.push(`${where} container ${c.name}: camera of region '${cams[key.key]}' declares its queue (EDGEFAAS_DECLARE is not "false"): the region queue's spill arguments differ from what amqpsink declares (PRECONDITION_FAILED)`);
    }
  }
  const central = topo?.queues.find((q) => q.name === cfg.EDGEFAAS_FRAME_QUEUE);
  for (const [r, reg] of regions) {
    const w = reg.where;
    if (r === CENTRAL_REGION) errs.push(`${w}: region '${CENTRAL_REGION}' is the base's own inference, not a k8s/regions/ directory`);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(r)) errs.push(`${w}: region '${r}' is not a DNS label (it is a routing-key word and part of names)`);
    const ns = reg.deployment.spec.template.spec.nodeSelector ?? {};
    if (ns[NODE_REGION_LABEL] !== r) errs.push(`${w}: region '${r}' is not pinned to its nodes (nodeSelector ${NODE_REGION_LABEL}: ${r}, got ${ns[NODE_REGION_LABEL] ?? 'none'})`);
    if (reg.deployment.spec.selector?.matchLabels?.[REGION_LABEL] !== r) errs.push(`${w}: selector does not include ${REGION_LABEL}: ${r} (it would adopt other regions' pods)`);
    const q = reg.queue;
    if (q !== `frames-${r}`) { errs.push(`${w}: EDGEFAAS_FRAME_QUEUE is '${q}', region '${r}' consumes frames-${r}`); continue; }
    if (reg.container?.__env?.get('EDGEFAAS_DECLARE')?.value !== 'false') errs.push(`${w}: EDGEFAAS_DECLARE is not "false": amqpsrc would declare ${q} without its spill arguments (PRECONDITION_FAILED)`);
    const so = scalers.filter((s) => s.kind === 'ScaledObject' && s.spec.scaleTargetRef?.name === reg.deployment.metadata.name);
    if (so.length !== 1) errs.push(`${w}: region '${r}' has ${so.length} ScaledObjects (needs one, on ${q})`);
    for (const s of so) for (const t of s.spec.triggers ?? []) if (t.metadata?.queueName !== q) errs.push(`ScaledObject/${s.metadata.name}: trigger on queue '${t.metadata?.queueName}', region '${r}' consumes ${q}`);
    if (!topo) continue;
    const tq = topo.queues.find((x) => x.name === q);
    if (!tq) { errs.push(`${topo.source}: region queue '${q}' missing`); continue; }
    if (tq.args['x-dead-letter-exchange'] !== SPILL_EXCHANGE) errs.push(`${topo.source}: region queue '${q}' dead-letters to '${tq.args['x-dead-letter-exchange']}', not the spill exchange ${SPILL_EXCHANGE}`);
    if (!(Number(tq.args['x-message-ttl']) > 0)) errs.push(`${topo.source}: region queue '${q}' has no x-message-ttl (the spill bound)`);
    if (tq.type === 'quorum' && (tq.args['x-dead-letter-strategy'] !== 'at-least-once' || tq.args['x-overflow'] !== 'reject-publish'))
      errs.push(`${topo.source}: region queue '${q}' (quorum) needs x-dead-letter-strategy at-least-once and x-overflow reject-publish, or the spill is at-most-once`);
    const b = topo.bindings.find((x) => x.source === cfg.EDGEFAAS_EXCHANGE && x.destination === q);
    if (b?.key !== `frames.${r}.#`) errs.push(`${topo.source}: region queue '${q}' is bound with '${b?.key}', not frames.${r}.#`);
    if (!topo.exchanges.some((e) => e.name === `${q}.dlx` && e.type === 'fanout') || !topo.bindings.some((x) => x.source === `${q}.dlx` && x.destination === `${q}.dead`))
      errs.push(`${topo.source}: region queue '${q}': poison topology ${q}.dlx -> ${q}.dead missing (amqpsrc dead-letters there)`);
  }
  if (regions.size && topo) {
    const t = topo.source;
    const sx = topo.exchanges.find((e) => e.name === SPILL_EXCHANGE);
    if (!sx || sx.type !== 'fanout') errs.push(`${t}: spill exchange ${SPILL_EXCHANGE} (fanout) missing`);
    const sb = topo.bindings.filter((x) => x.source === SPILL_EXCHANGE);
    if (!sb.some((x) => x.destination === central?.name)) errs.push(`${t}: ${SPILL_EXCHANGE} is not bound to the central queue '${cfg.EDGEFAAS_FRAME_QUEUE}': frames of a region without capacity would be dropped after the bound`);
    for (const x of sb) if (x.destination !== central?.name) errs.push(`${t}: ${SPILL_EXCHANGE} is also bound to '${x.destination}' (spilled frames inferred twice or never)`);
  }
}

// ---- Kubernetes versions of the scaler ---------------------------------------
// The HPA API KEDA creates, by KEDA version, and the Kubernetes versions that
// serve it: 2.3 writes autoscaling/v2beta2 (1.12 .. 1.25, removed in 1.26);
// KEDA >= 2.9 writes autoscaling/v2 (1.23 ..).
const HPA_API = { '2.3': { api: 'autoscaling/v2beta2', min: [1, 12], maxExclusive: [1, 26] }, current: { api: 'autoscaling/v2', min: [1, 23], maxExclusive: null } };
const cmpVer = (a, b) => (a[0] - b[0]) || (a[1] - b[1]);
function checkKubernetesRange(s, w, ctx, errs) {
  const hpa = HPA_API[ctx.keda === '2.3' ? '2.3' : 'current'];
  const range = s.metadata?.annotations?.['edgefaas.io/kubernetes-versions'];
  if (!range) { errs.push(`${w}: no edgefaas.io/kubernetes-versions annotation (KEDA ${ctx.keda ?? 'current'} creates ${hpa.api} HPAs)`); return; }
  let lo = null, hi = null; // lo inclusive, hi exclusive
  for (const part of range.trim().split(/\s+/)) {
    const m = /^(>=|<|<=)(\d+)\.(\d+)$/.exec(part);
    if (!m) { errs.push(`${w}: edgefaas.io/kubernetes-versions '${range}': cannot parse '${part}' (>=1.N, <1.N, <=1.N)`); return; }
    const v = [Number(m[2]), Number(m[3])];
    if (m[1] === '>=') lo = v; else hi = m[1] === '<' ? v : [v[0], v[1] + 1];
  }
  if (!lo || cmpVer(lo, hpa.min) < 0) errs.push(`${w}: edgefaas.io/kubernetes-versions '${range}' allows Kubernetes before ${hpa.min.join('.')}, which does not serve ${hpa.api}`);
  if (hpa.maxExclusive && (!hi || cmpVer(hi, hpa.maxExclusive) > 0)) errs.push(`${w}: edgefaas.io/kubernetes-versions '${range}' allows Kubernetes ${hpa.maxExclusive.join('.')}+, which no longer serves ${hpa.api} (KEDA ${ctx.keda}'s HPAs)`);
}

// Does some NetworkPolicy let traffic through? type Ingress: from peer to the
// pods with podLabels; Egress: from them to peer. peer: { ns, labels } (the
// namespace name is matched through kubernetes.io/metadata.name). Pods that no
// policy of that type selects are not isolated.
export function allowsTraffic(nps, type, podLabels, ownNs, peer, port, protocol) {
  const sel = (sl, lbls) => selectsLabels(sl ?? {}, lbls);
  const ps = nps.filter((n) => sel(n.spec.podSelector, podLabels) && (n.spec.policyTypes ?? ['Ingress']).includes(type));
  if (!ps.length) return true;
  const portOk = (ports) => !ports?.length || ports.some((p) => (p.protocol ?? 'TCP') === protocol
    && (p.port === undefined || (p.endPort ? p.port <= port && port <= p.endPort : p.port === port)));
  const peerOk = (list) => !list?.length || list.some((f) => {
    if (f.ipBlock) return false;
    const nsOk = f.namespaceSelector ? sel(f.namespaceSelector, { 'kubernetes.io/metadata.name': peer.ns }) : peer.ns === ownNs;
    return nsOk && (!f.podSelector || sel(f.podSelector, peer.labels));
  });
  return ps.some((n) => (type === 'Ingress' ? n.spec.ingress : n.spec.egress)?.some((r) => portOk(r.ports) && peerOk(type === 'Ingress' ? r.from : r.to)));
}

// ---- the checks ------------------------------------------------------------
// ctx: { root, secrets: Map(name -> Set(keys)), overlay }
export function checkOverlay(objs, ctx) {
  const errs = [];
  const pods = podSpecs(objs);
  const pipelines = new Map();
  const pipeDir = path.join(ctx.root, 'pipelines');
  for (const f of fs.readdirSync(pipeDir).filter((f) => f.endsWith('.pipeline'))) {
    pipelines.set(f, pipelineVariables(fs.readFileSync(path.join(pipeDir, f), 'utf8')));
  }

  const toolEnv = new Set();
  for (const f of fs.readdirSync(pipeDir).filter((f) => f.endsWith('.c'))) {
    for (const m of fs.readFileSync(path.join(pipeDir, f), 'utf8').matchAll(/\b(?:g_getenv|getenv|env_or)\s*\(\s*"([A-Z][A-Z0-9_]*)"/g)) toolEnv.add(m[1]);
  }

  const amqpCm = find(objs, 'ConfigMap', 'edgefaas-amqp');
  if (!amqpCm) { errs.push('ConfigMap edgefaas-amqp missing'); return errs; }
  const cfg = amqpCm.data;
  const url = parseAmqpUrl(cfg.EDGEFAAS_AMQP_URL);
  if (!url) errs.push(`edgefaas-amqp: EDGEFAAS_AMQP_URL '${cfg.EDGEFAAS_AMQP_URL}' is not amqp://user@host:port/vhost`);
  else if (url.password !== undefined) errs.push('edgefaas-amqp: EDGEFAAS_AMQP_URL carries a password');
  const prefetch = Number(cfg.EDGEFAAS_PREFETCH ?? 2);
  const queueType = url?.query.queue_type ?? 'classic';

  // Secrets, ConfigMaps, claims referenced must exist with their keys.
  const secretKey = (name, key, where) => {
    const s = ctx.secrets.get(name) ?? (find(objs, 'Secret', name) && new Set(Object.keys({ ...find(objs, 'Secret', name).data, ...find(objs, 'Secret', name).stringData })));
    if (!s) errs.push(`${where}: Secret ${name} is neither in the overlay nor made by make-secrets.sh`);
    else if (key !== undefined && !s.has(key)) errs.push(`${where}: Secret ${name} has no key '${key}' (has ${[...s].join(', ')})`);
  };
  const cmKey = (name, key, where) => {
    const cm = find(objs, 'ConfigMap', name);
    if (!cm) errs.push(`${where}: ConfigMap ${name} is not in the overlay`);
    else if (key !== undefined && !(key in (cm.data ?? {}))) errs.push(`${where}: ConfigMap ${name} has no key '${key}'`);
  };

  const frameStores = [];
  const analytics = [];
  for (const { owner, spec, labels, where } of pods) {
    // ServiceAccount: own one, no token.
    const saName = spec.serviceAccountName;
    const sa = saName && find(objs, 'ServiceAccount', saName);
    if (!sa) errs.push(`${where}: serviceAccountName '${saName}' is not a ServiceAccount of the overlay`);
    else if (sa.automountServiceAccountToken !== false) errs.push(`${where}: ServiceAccount ${saName} mounts its token`);
    if (spec.automountServiceAccountToken !== false) errs.push(`${where}: automountServiceAccountToken is not false`);
    const psc = spec.securityContext ?? {};
    const claims = new Set((owner.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata.name));
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    for (const v of spec.volumes ?? []) {
      if (v.persistentVolumeClaim && !find(objs, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName))
        errs.push(`${where}: volume ${v.name}: PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} is not in the overlay`);
      if (v.configMap) for (const it of v.configMap.items ?? [{}]) cmKey(v.configMap.name, it.key, `${where}: volume ${v.name}`);
      if (v.secret) for (const it of v.secret.items ?? [{}]) secretKey(v.secret.secretName, it.key, `${where}: volume ${v.name}`);
    }
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const cw = `${where} container ${c.name}`;
      const r = c.resources ?? {};
      for (const kind of ['requests', 'limits']) for (const res of ['cpu', 'memory'])
        if (r[kind]?.[res] === undefined) errs.push(`${cw}: resources.${kind}.${res} missing`);
      const sc = c.securityContext ?? {};
      if (!(sc.runAsNonRoot ?? psc.runAsNonRoot)) errs.push(`${cw}: runAsNonRoot is not set`);
      if (((sc.runAsUser ?? psc.runAsUser) ?? 0) === 0) errs.push(`${cw}: runs as uid 0 or without runAsUser`);
      if (sc.readOnlyRootFilesystem !== true) errs.push(`${cw}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) errs.push(`${cw}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) errs.push(`${cw}: capabilities.drop does not include ALL`);
      if (sc.privileged) errs.push(`${cw}: privileged`);
      for (const m of c.volumeMounts ?? []) {
        const v = volumes.get(m.name);
        if (!v && !claims.has(m.name)) errs.push(`${cw}: volumeMount ${m.name} has no volume`);
        if (v && m.subPath) {
          if (v.configMap) cmKey(v.configMap.name, m.subPath, `${cw}: mount ${m.mountPath}`);
          if (v.secret) secretKey(v.secret.secretName, m.subPath, `${cw}: mount ${m.mountPath}`);
        }
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) secretKey(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key, `${cw}: env ${e.name}`);
        if (e.valueFrom?.configMapKeyRef) cmKey(e.valueFrom.configMapKeyRef.name, e.valueFrom.configMapKeyRef.key, `${cw}: env ${e.name}`);
        if (/PASSWORD|SECRET|TOKEN/i.test(e.name) && e.value !== undefined) errs.push(`${cw}: env ${e.name} has a literal value (use a Secret)`);
        if (typeof e.value === 'string' && /:\/\/[^/@\s]+:[^/@\s]+@/.test(e.value)) errs.push(`${cw}: env ${e.name} has credentials in a URL`);
      }

      // Images: every overlay rewrites ours (kustomize images:) to a registry
      // reference with a pinned tag or digest; a bare name would be pulled from
      // Docker Hub, "latest" changes under a running Deployment.
      const img = /^(?:([^/]+)\/)?([^@:]+?)(?::([^@:/]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(c.image ?? '');
      if (!img) errs.push(`${cw}: image '${c.image}' is not a valid reference`);
      else if (/^edgefaas-/.test(img[2].split('/').pop()) && (!img[1] || !(img[3] || img[4]) || img[3] === 'latest'))
        errs.push(`${cw}: image '${c.image}' is not rewritten to a registry with a pinned tag (kustomize images:)`);
      if (c.imagePullPolicy === 'Always' && img?.[4]) errs.push(`${cw}: imagePullPolicy Always with a digest`);

      // Launcher containers.
      const cmd = [...(c.command ?? []), ...(c.args ?? [])];
      if (!cmd.some((a) => a === LAUNCHER || a.endsWith('.pipeline'))) continue;
      if (c.command?.[0] !== LAUNCHER) errs.push(`${cw}: command must start with ${LAUNCHER} (exec form, PID 1), got ${JSON.stringify(c.command)}`);
      const pfile = cmd.find((a) => a.endsWith('.pipeline'));
      const pname = pfile && path.basename(pfile);
      if (!pfile?.startsWith('/usr/share/edgefaas/pipelines/')) errs.push(`${cw}: pipeline file '${pfile}' is not under /usr/share/edgefaas/pipelines/ (where the images install them)`);
      const vars = pipelines.get(pname);
      if (!vars) { errs.push(`${cw}: pipeline ${pname} does not exist in pipelines/`); continue; }
      const env = containerEnv(c, objs, errs, cw);
      frameStoreOf(c, env, volumes, labels, cw, errs, frameStores);
      for (const v of vars.required) {
        if (v === 'MODELS_DIR' && ['MODEL_CFG', 'MODEL_WEIGHTS', 'MODEL_LABELS'].every((x) => env.has(x))) continue;
        if (!env.has(v)) errs.push(`${cw}: ${pname} needs \${${v}} but the container does not set it`);
      }
      // Every edgefaas-looking variable the container sets must be read by the
      // pipeline (catches typos like EDGEFAAS_FRAMES_QUEUE), except the password
      // (read by amqpsink from the environment) and process settings.
      const processVars = new Set(['EDGEFAAS_AMQP_PASSWORD', 'GST_REGISTRY_1_0', 'HOME', 'GST_DEBUG', 'XDG_CACHE_HOME']);
      // A shared ConfigMap (envFrom) serves both pipelines: its keys must be read
      // by at least one of them; an explicit env entry by this container's own.
      // The broker topology names are also read by the tools in pipelines/*.c
      // (edgefaas-topology reads EDGEFAAS_ALERT_QUEUE): those count as readers.
      const anyReads = (k) => [...pipelines.values()].some((x) => x.required.has(k) || x.optional.has(k)) || toolEnv.has(k);
      for (const [k, src] of env) {
        if (processVars.has(k)) continue;
        if (src.from ? !anyReads(k) : (!vars.required.has(k) && !vars.optional.has(k)))
          errs.push(`${cw}: sets ${k}${src.from ? ` (from ${src.from})` : ''}, but ${src.from ? 'no pipeline file reads it' : `${pname} does not read it`}`);
      }
      if (!env.has('EDGEFAAS_AMQP_PASSWORD') || !env.get('EDGEFAAS_AMQP_PASSWORD').valueFrom?.secretKeyRef)
        errs.push(`${cw}: EDGEFAAS_AMQP_PASSWORD must come from a Secret`);
      const port = Number(flag(cmd, '--http-port'));
      const drain = Number(flag(cmd, '--drain-timeout'));
      if (!port) errs.push(`${cw}: --http-port missing`);
      if (!drain) errs.push(`${cw}: --drain-timeout missing`);
      const portOf = (p) => (typeof p === 'number' ? p : (c.ports ?? []).find((x) => x.name === p)?.containerPort);
      for (const [probe, pathWanted] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']]) {
        const g = c[probe]?.httpGet;
        if (!g) errs.push(`${cw}: no ${probe}`);
        else if (g.path !== pathWanted || portOf(g.port) !== port) errs.push(`${cw}: ${probe} must GET ${pathWanted} on the --http-port ${port}`);
      }
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      // The drain, then the last confirms/acks and the connection close: margin.
      if (grace < drain + GRACE_MARGIN_S) errs.push(`${cw}: terminationGracePeriodSeconds ${grace} < --drain-timeout ${drain} + ${GRACE_MARGIN_S} s margin`);
      const stall = Number(flag(cmd, '--stall-timeout') ?? 0);
      const comp = labels['app.kubernetes.io/component'];
      if (comp === 'edge') {
        if (!(stall > 0)) errs.push(`${cw}: no --stall-timeout: a camera that stops delivering frames leaves the pipeline healthy forever`);
        checkSpool(c, env, volumes, cw, objs, errs);
      }
      if ((comp === 'inference' || comp === 'analytics') && stall > 0) errs.push(`${cw}: --stall-timeout ${stall} on ${comp}: an empty ${comp === 'inference' ? 'frame' : 'detection'} queue would fail the liveness probe`);
      if (pname === ANALYTICS_PIPELINE) analytics.push({ owner, spec, c, cw, env, volumes, labels });
      c.__drain = drain; // for the scaler check below
      c.__env = env; // for the region checks
      if (!LAUNCHER_COMPONENTS.includes(labels['app.kubernetes.io/component'])) errs.push(`${cw}: pod is not labelled component ${LAUNCHER_COMPONENTS.join(', ')} (NetworkPolicies)`);
    }
  }

  checkFrameStores(frameStores, objs, pods, ctx, errs);
  checkCameras(objs, pods, errs);
  checkModels(objs, pods, ctx, errs);
  checkPodPorts(pods, errs);

  // ---- KEDA -------------------------------------------------------------
  const scalers = objs.filter((o) => o.kind === 'ScaledObject' || o.kind === 'ScaledJob');
  if (!scalers.length) errs.push('no ScaledObject or ScaledJob');
  for (const s of scalers) {
    const w = `${s.kind}/${s.metadata.name}`;
    let target;
    if (s.kind === 'ScaledObject') {
      const ref = s.spec.scaleTargetRef;
      target = find(objs, ref.kind ?? 'Deployment', ref.name);
      if (!target) { errs.push(`${w}: scaleTargetRef ${ref.kind ?? 'Deployment'}/${ref.name} is not in the overlay`); continue; }
      if (target.spec.replicas !== undefined) errs.push(`${w}: target ${ref.name} sets replicas (KEDA owns them)`);
      if (s.spec.minReplicaCount !== 0) errs.push(`${w}: minReplicaCount must be 0 (scale to zero)`);
    }
    const tspec = s.kind === 'ScaledJob' ? s.spec.jobTargetRef.template.spec : target.spec.template.spec;
    const drain = Math.max(0, ...tspec.containers.map((c) => c.__drain ?? 0));
    if (!drain) errs.push(`${w}: its target runs no launcher with --drain-timeout`);
    if (s.kind === 'ScaledObject' && (s.spec.cooldownPeriod ?? 300) < drain) errs.push(`${w}: cooldownPeriod ${s.spec.cooldownPeriod} < --drain-timeout ${drain}`);
    if ((s.spec.pollingInterval ?? 30) > 15) errs.push(`${w}: pollingInterval ${s.spec.pollingInterval ?? 30} s is slow for activation from zero (<= 15)`);
    const gpus = tspec.containers.reduce((n, c) => n + Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0), 0);
    if (ctx.gpu && !gpus) errs.push(`${w}: target requests no nvidia.com/gpu`);
    if (ctx.gpu && (!tspec.nodeSelector && !tspec.affinity?.nodeAffinity)) errs.push(`${w}: target has no GPU node placement`);
    if (ctx.gpu && !(tspec.tolerations ?? []).some((t) => t.key === 'nvidia.com/gpu')) errs.push(`${w}: target does not tolerate the nvidia.com/gpu taint`);
    if (s.kind === 'ScaledObject' && !s.spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown) errs.push(`${w}: no HPA scaleDown behavior to damp flapping`);
    const triggers = s.spec.triggers.filter((t) => t.type === 'rabbitmq');
    checkKubernetesRange(s, w, ctx, errs);
    // A scaler error must not be a silent zero: fallback (KEDA >= 2.4, ScaledObject,
    // AverageValue metrics only); KEDA 2.3 and ScaledJobs rely on the alert.
    if (s.kind === 'ScaledObject' && ctx.keda !== '2.3') {
      const fb = s.spec.fallback;
      if (!fb) errs.push(`${w}: no fallback: a scaler error (management API unreachable, 401 for the keda user) would leave inference scaled to zero silently`);
      else {
        if (!(fb.replicas >= 1 && fb.replicas <= (s.spec.maxReplicaCount ?? 100))) errs.push(`${w}: fallback.replicas ${fb.replicas} not within 1..maxReplicaCount`);
        if (!(fb.failureThreshold >= 1)) errs.push(`${w}: fallback.failureThreshold ${fb.failureThreshold} < 1`);
        for (const t of s.spec.triggers) if (t.metricType === 'Value') errs.push(`${w}: fallback is ignored for triggers with metricType Value (KEDA supports it only for AverageValue)`);
      }
    }
    if (s.spec.fallback && (s.kind === 'ScaledJob' || ctx.keda === '2.3')) errs.push(`${w}: fallback is not supported here (ScaledJob, or KEDA < 2.4)`);
    if (!triggers.length) errs.push(`${w}: no rabbitmq trigger`);
    // Keep-alive (QueueLength, http: ready + unacked), optional activation (QueueLength,
    // amqp: ready at once) and scale-out (MessageRate, http) triggers on one queue.
    const keepAlive = triggers.filter((t) => t.metadata.mode === 'QueueLength' && t.metadata.protocol === 'http');
    if (triggers.length && keepAlive.length !== 1) errs.push(`${w}: one QueueLength trigger with protocol http is required (ready + unacked keep a busy pod alive), found ${keepAlive.length}`);
    if (triggers.filter((t) => t.metadata.protocol === 'amqp').length > 1) errs.push(`${w}: more than one amqp trigger`);
    if (triggers.filter((t) => t.metadata.mode === 'MessageRate').length > 1) errs.push(`${w}: more than one MessageRate trigger`);
    for (const t of triggers) {
      const md = t.metadata;
      if (md.protocol !== 'http' && md.protocol !== 'amqp') errs.push(`${w}: trigger protocol must be http (ready + unacked) or amqp (activation), got ${md.protocol}`);
      if (md.mode !== 'QueueLength' && md.mode !== 'MessageRate') errs.push(`${w}: trigger mode must be QueueLength or MessageRate, got ${md.mode}`);
      if (md.mode === 'MessageRate' && md.protocol !== 'http') errs.push(`${w}: a MessageRate trigger needs protocol http (the publish rate comes from the management API)`);
      if (md.protocol === 'amqp' && md.mode !== 'QueueLength') errs.push(`${w}: an amqp trigger can only measure QueueLength`);
      const targetQueue = tspec.containers.map((c) => c.__env?.get('EDGEFAAS_FRAME_QUEUE')?.value).find(Boolean) ?? cfg.EDGEFAAS_FRAME_QUEUE;
      if (md.queueName !== targetQueue) errs.push(`${w}: trigger queueName '${md.queueName}' != EDGEFAAS_FRAME_QUEUE '${targetQueue}' of its target`);
      if (url && md.vhostName !== undefined && md.vhostName !== url.vhost) errs.push(`${w}: trigger vhostName '${md.vhostName}' != the pipelines' vhost '${url.vhost}'`);
      if (md.mode === 'QueueLength' && !(Number(md.value) >= prefetch)) errs.push(`${w}: trigger value ${md.value} < EDGEFAAS_PREFETCH ${prefetch} (unacked messages alone would scale to max)`);
      if (md.host) {
        const amqp = md.protocol === 'amqp';
        const h = (amqp ? /^amqps?:\/\/([^/:@]+)(?::(\d+))?\/?/ : /^https?:\/\/([^/:@]+)(?::(\d+))?\/?/).exec(md.host);
        const wantPort = amqp ? (md.host.startsWith('amqps:') ? '5671' : '5672') : '15672';
        if (/\/\/[^/]*@/.test(md.host)) errs.push(`${w}: trigger host carries credentials (use the TriggerAuthentication)`);
        if (!h || (h[2] ?? (amqp ? wantPort : undefined)) !== wantPort) errs.push(`${w}: trigger host '${md.host}' is not the ${amqp ? 'AMQP' : 'management'} port ${wantPort}`);
        const svc = h?.[1].split('.');
        if (svc && (svc[0] !== url?.host || (svc[1] && svc[1] !== s.metadata.namespace))) errs.push(`${w}: trigger host '${md.host}' is not the broker Service ${url?.host}.${s.metadata.namespace}`);
      }
      const ta = t.authenticationRef && find(objs, 'TriggerAuthentication', t.authenticationRef.name);
      if (!ta) errs.push(`${w}: authenticationRef ${t.authenticationRef?.name} is not a TriggerAuthentication of the overlay`);
      else {
        const params = new Set(ta.spec.secretTargetRef.map((r) => r.parameter));
        for (const r of ta.spec.secretTargetRef) secretKey(r.name, r.key, `TriggerAuthentication/${ta.metadata.name}`);
        if (!md.host && !params.has('host')) errs.push(`${w}: neither the trigger nor its TriggerAuthentication gives a host`);
      }
    }
  }

  // ---- broker topology ----------------------------------------------------
  // The analytics stage's own queues (one per analytics launcher), declared by its
  // amqpsrc declare=true and bound with ANALYTICS_BINDING.
  const analyticsQueues = new Map(analytics.map((a) => [analyticsQueueOf(a.env), a]));
  const queues = [cfg.EDGEFAAS_FRAME_QUEUE, cfg.EDGEFAAS_DETECTION_QUEUE, cfg.EDGEFAAS_ALERT_QUEUE, ...analyticsQueues.keys()];
  const exchange = cfg.EDGEFAAS_EXCHANGE;
  let topo = null;
  const defs = find(objs, 'ConfigMap', 'rabbitmq-definitions');
  const crQueues = objs.filter((o) => o.apiVersion === 'rabbitmq.com/v1beta1' && o.kind === 'Queue');
  if (defs) {
    const j = JSON.parse(defs.data['10-topology.json']);
    topo = {
      source: 'rabbitmq-definitions',
      exchanges: j.exchanges.map((e) => ({ name: e.name, vhost: e.vhost, type: e.type, durable: e.durable, args: e.arguments ?? {} })),
      queues: j.queues.map((q) => ({ name: q.name, vhost: q.vhost, durable: q.durable, type: q.arguments?.['x-queue-type'] ?? 'classic', args: q.arguments ?? {} })),
      bindings: j.bindings.map((b) => ({ source: b.source, destination: b.destination, key: b.routing_key, vhost: b.vhost, args: b.arguments ?? {} })),
      policies: j.policies.map((p) => ({ pattern: p.pattern, definition: p.definition, vhost: p.vhost })),
    };
  } else if (crQueues.length) {
    const cr = (k) => objs.filter((o) => o.apiVersion === 'rabbitmq.com/v1beta1' && o.kind === k).map((o) => o.spec);
    const clusters = objs.filter((o) => o.kind === 'RabbitmqCluster').map((o) => o.metadata.name);
    for (const k of ['Queue', 'Exchange', 'Binding', 'Policy', 'User', 'Permission']) {
      for (const sp of cr(k)) if (!clusters.includes(sp.rabbitmqClusterReference?.name)) errs.push(`${k} refers to RabbitmqCluster '${sp.rabbitmqClusterReference?.name}', not in the overlay`);
    }
    if (url && !clusters.includes(url.host)) errs.push(`EDGEFAAS_AMQP_URL host '${url.host}' is not the RabbitmqCluster's Service (${clusters.join(', ')})`);
    topo = {
      source: 'topology CRs',
      exchanges: cr('Exchange').map((e) => ({ name: e.name, vhost: e.vhost, type: e.type, durable: e.durable, args: e.arguments ?? {} })),
      queues: cr('Queue').map((q) => ({ name: q.name, vhost: q.vhost, durable: q.durable, type: q.type ?? 'classic', args: q.arguments ?? {} })),
      bindings: cr('Binding').map((b) => ({ source: b.source, destination: b.destination, key: b.routingKey, vhost: b.vhost, args: b.arguments ?? {} })),
      policies: cr('Policy').map((p) => ({ pattern: p.pattern, definition: p.definition, vhost: p.vhost })),
    };
    for (const u of cr('User')) if (u.importCredentialsSecret) for (const k of ['username', 'password']) secretKey(u.importCredentialsSecret.name, k, 'User');
    const appUser = cr('User').length && objs.find((o) => o.kind === 'User' && o.spec.importCredentialsSecret?.name === 'edgefaas-amqp-credentials');
    if (url && !appUser) errs.push(`no topology User imports edgefaas-amqp-credentials for '${url.user}'`);
    // Every user needs a permission entry on the vhost: without one even KEDA's
    // read-only GET /api/queues/<vhost>/<queue> is 401 "not authorised to access
    // virtual host" (tests/k8s k8s-broker-keda-* check it on a real broker).
    for (const u of objs.filter((o) => o.kind === 'User' && o.apiVersion === 'rabbitmq.com/v1beta1')) {
      const perm = objs.some((p) => p.kind === 'Permission' && p.spec.userReference?.name === u.metadata.name && p.spec.vhost === url?.vhost);
      if (!perm) errs.push(`User ${u.metadata.name} has no Permission on vhost '${url?.vhost}' (management API answers 401)`);
    }
  } else errs.push('no broker topology (ConfigMap rabbitmq-definitions or rabbitmq.com Queue resources)');

  if (topo && url) {
    const t = topo.source;
    const ex = topo.exchanges.find((e) => e.name === exchange);
    if (!ex) errs.push(`${t}: no exchange '${exchange}' (EDGEFAAS_EXCHANGE)`);
    else if (ex.type !== 'topic' || ex.durable !== true) errs.push(`${t}: exchange '${exchange}' must be a durable topic exchange`);
    for (const x of [...topo.exchanges, ...topo.queues, ...topo.bindings, ...topo.policies])
      if (x.vhost !== url.vhost) errs.push(`${t}: ${x.name ?? x.destination ?? x.pattern} is in vhost '${x.vhost}', the pipelines use '${url.vhost}'`);
    for (const q of queues) {
      const wq = topo.queues.find((x) => x.name === q);
      if (!wq) { errs.push(`${t}: queue '${q}' missing`); continue; }
      if (!wq.durable) errs.push(`${t}: queue '${q}' is not durable`);
      if (wq.type !== queueType) errs.push(`${t}: queue '${q}' is ${wq.type}, the pipelines declare ${queueType}`);
      const wantArgs = { 'x-dead-letter-exchange': `${q}.dlx` };
      const gotArgs = { ...wq.args }; delete gotArgs['x-queue-type'];
      if (JSON.stringify(gotArgs) !== JSON.stringify(wantArgs)) errs.push(`${t}: queue '${q}' arguments ${JSON.stringify(gotArgs)} differ from what the pipelines declare ${JSON.stringify(wantArgs)} (PRECONDITION_FAILED)`);
      const dlx = topo.exchanges.find((e) => e.name === `${q}.dlx`);
      if (!dlx || dlx.type !== 'fanout') errs.push(`${t}: dead-letter exchange '${q}.dlx' (fanout) missing`);
      const dead = topo.queues.find((x) => x.name === `${q}.dead`);
      if (!dead) errs.push(`${t}: dead-letter queue '${q}.dead' missing`);
      else if (dead.type !== queueType) errs.push(`${t}: queue '${q}.dead' is ${dead.type}, the pipelines declare ${queueType}`);
      if (!topo.bindings.some((b) => b.source === `${q}.dlx` && b.destination === `${q}.dead`)) errs.push(`${t}: '${q}.dead' is not bound to '${q}.dlx'`);
      const bind = topo.bindings.find((b) => b.source === exchange && b.destination === q);
      if (!bind) errs.push(`${t}: queue '${q}' is not bound to '${exchange}'`);
      else {
        const a = analyticsQueues.get(q);
        const prefix = q === cfg.EDGEFAAS_FRAME_QUEUE ? 'frames' : q === cfg.EDGEFAAS_DETECTION_QUEUE ? 'detections' : 'alerts';
        if (a) {
          const want = analyticsBindingOf(a.env);
          if (bind.key !== want) errs.push(`${t}: binding of '${q}' has key '${bind.key}', but ${a.cw} binds it with ANALYTICS_BINDING '${want}' (the topology and the pipeline must declare the same binding)`);
        } else if (bind.key !== `${prefix}.#` && !(prefix === 'frames' && regionsOf(objs).size && bind.key === `frames.${CENTRAL_REGION}.#`))
          errs.push(`${t}: binding of '${q}' has key '${bind.key}', routing keys are ${prefix}.<...>${regionsOf(objs).size ? ` (with regions: frames.${CENTRAL_REGION}.#)` : ''}`);
        else if (prefix === 'frames' && regionsOf(objs).size && bind.key === 'frames.#')
          errs.push(`${t}: the central frame queue '${q}' is bound with 'frames.#' besides the regions' queues: every region's frames would be inferred twice (bind it with frames.${CENTRAL_REGION}.#)`);
      }
      const pol = topo.policies.find((p) => new RegExp(p.pattern).test(q));
      if (!pol) errs.push(`${t}: no policy applies to queue '${q}' (DLX by policy)`);
      else if (pol.definition['dead-letter-exchange'] !== `${q}.dlx`) errs.push(`${t}: policy for '${q}' dead-letters to '${pol.definition['dead-letter-exchange']}', not '${q}.dlx'`);
    }
  }

  checkAnalytics(objs, analytics, scalers, topo, cfg, ctx, errs);
  checkRegions(objs, topo, cfg, scalers, errs);

  // ---- NetworkPolicies ----------------------------------------------------
  const nps = objs.filter((o) => o.kind === 'NetworkPolicy');
  const selects = (sel, lbls) => Object.entries(sel.matchLabels ?? {}).every(([k, v]) => lbls[k] === v)
    && (sel.matchExpressions ?? []).every((e) => (e.operator === 'In' ? e.values.includes(lbls[e.key]) : e.operator === 'Exists' ? e.key in lbls : true));
  const deny = nps.find((n) => Object.keys(n.spec.podSelector).length === 0 && !n.spec.ingress && !n.spec.egress
    && n.spec.policyTypes?.includes('Ingress') && n.spec.policyTypes?.includes('Egress'));
  if (!deny) errs.push('no default-deny NetworkPolicy (empty podSelector, Ingress+Egress, no rules)');
  const brokerLabels = { 'app.kubernetes.io/name': 'rabbitmq' };
  const allowed5672 = new Set();
  for (const n of nps) {
    if (!selects(n.spec.podSelector, brokerLabels)) continue;
    for (const r of n.spec.ingress ?? []) {
      if (!(r.ports ?? []).some((p) => p.port === 5672)) continue;
      for (const f of r.from ?? []) {
        // KEDA's operator (namespace keda, no pod selector needed) reads the ready count
        // of the activation trigger (protocol amqp) with a passive queue.declare.
        const kedaOnly = f.namespaceSelector && !f.podSelector && !f.ipBlock
          && JSON.stringify(f.namespaceSelector) === JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': 'keda' } });
        if (kedaOnly) continue;
        if (f.namespaceSelector || f.ipBlock || !f.podSelector) errs.push(`NetworkPolicy/${n.metadata.name}: AMQP 5672 open beyond pods of this namespace`);
        else allowed5672.add(JSON.stringify(f.podSelector));
      }
      if (!r.from) errs.push(`NetworkPolicy/${n.metadata.name}: AMQP 5672 open to everyone`);
    }
  }
  for (const { labels, where } of pods) {
    const comp = labels['app.kubernetes.io/component'];
    const reach = [...allowed5672].some((s) => selects(JSON.parse(s), labels));
    if (LAUNCHER_COMPONENTS.includes(comp) && !reach) errs.push(`${where}: no NetworkPolicy lets it reach the broker on 5672`);
    if (!LAUNCHER_COMPONENTS.includes(comp) && labels['app.kubernetes.io/name'] !== 'rabbitmq' && reach) errs.push(`${where}: may reach the broker but is neither ${LAUNCHER_COMPONENTS.join(' nor ')}`);
    if (!nps.some((n) => selects(n.spec.podSelector, labels) && n !== deny)) errs.push(`${where}: selected by no NetworkPolicy besides default-deny`);
  }

  // ---- broker clustering -----------------------------------------------------
  // A multi-node RabbitmqCluster forms one cluster only if its pods reach each
  // other on epmd, distribution and CLI ports, and reach the Kubernetes API for
  // peer discovery; otherwise each node boots standalone.
  const portIn = (ports, want) => (ports ?? []).length === 0 || ports.some((p) => (p.protocol ?? 'TCP') === 'TCP'
    && (p.endPort ? p.port <= want && want <= p.endPort : p.port === want));
  const peerOk = (peers, lbls) => peers === undefined || peers.length === 0 || peers.some((f) => f.podSelector && !f.namespaceSelector && !f.ipBlock && selects(f.podSelector, lbls));
  const policiesFor = (lbls, type) => nps.filter((n) => selects(n.spec.podSelector, lbls) && (n.spec.policyTypes ?? ['Ingress']).includes(type));
  const allows = (lbls, type, peerLbls, port) => {
    const ps = policiesFor(lbls, type);
    if (!ps.length) return true; // not isolated
    return ps.some((n) => (type === 'Ingress' ? n.spec.ingress : n.spec.egress)?.some((r) => portIn(r.ports, port)
      && (peerLbls ? peerOk(type === 'Ingress' ? r.from : r.to, peerLbls) : (r.to ?? []).length === 0 || r.to.some((t) => t.ipBlock))));
  };
  for (const rc of objs.filter((o) => o.kind === 'RabbitmqCluster')) {
    if ((rc.spec?.replicas ?? 1) < 2) continue;
    const w = `RabbitmqCluster/${rc.metadata.name}`;
    for (const port of [4369, 25672, 35672, 35682]) {
      if (!allows(brokerLabels, 'Egress', brokerLabels, port)) errs.push(`${w}: NetworkPolicies block broker -> broker egress on ${port} (the nodes cannot cluster)`);
      if (!allows(brokerLabels, 'Ingress', brokerLabels, port)) errs.push(`${w}: NetworkPolicies block broker <- broker ingress on ${port} (the nodes cannot cluster)`);
    }
    if (!allows(brokerLabels, 'Egress', null, 443) && !allows(brokerLabels, 'Egress', null, 6443))
      errs.push(`${w}: NetworkPolicies block broker egress to the Kubernetes API (443/6443): k8s peer discovery fails and each node forms its own cluster`);
    const aa = rc.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    if (!aa.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector ?? {}, brokerLabels)))
      errs.push(`${w}: no required podAntiAffinity on kubernetes.io/hostname: two quorum members on one node fail together`);
    const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec?.selector ?? {}, brokerLabels));
    if (!pdb) errs.push(`${w}: no PodDisruptionBudget: a node drain may evict two of ${rc.spec.replicas} quorum members at once`);
    else if (pdb.spec.maxUnavailable !== 1 && Number(pdb.spec.minAvailable) !== Math.floor(rc.spec.replicas / 2) + 1) errs.push(`${w}: PodDisruptionBudget ${pdb.metadata.name} must keep a quorum (maxUnavailable 1 or minAvailable ${Math.floor(rc.spec.replicas / 2) + 1})`);
  }

  // ---- what every pod needs from the NetworkPolicies, and the rest of the
  // operator's review (issue 13) ------------------------------------------------
  const ownNs = objs.find((o) => o.kind === 'Namespace')?.metadata.name ?? 'edgefaas';
  for (const { owner, spec, labels, where } of pods) {
    // DNS: UDP and TCP 53 to kube-dns (TCP for large answers / truncation).
    for (const proto of ['UDP', 'TCP']) {
      if (!allowsTraffic(nps, 'Egress', labels, ownNs, { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53, proto))
        errs.push(`${where}: NetworkPolicies block DNS (${proto} 53 to kube-dns in kube-system)`);
    }
    // Prometheus may scrape what the annotations announce.
    const tmpl = owner.kind === 'ScaledJob' ? owner.spec.jobTargetRef.template : owner.kind === 'Pod' ? owner : owner.spec.template;
    const ann = tmpl.metadata?.annotations ?? {};
    if (ann['prometheus.io/scrape'] === 'true' && !allowsTraffic(nps, 'Ingress', labels, ownNs, { ns: 'monitoring', labels: {} }, Number(ann['prometheus.io/port']), 'TCP'))
      errs.push(`${where}: announces /metrics on ${ann['prometheus.io/port']} but no NetworkPolicy lets Prometheus (namespace monitoring) in`);
    // seccomp RuntimeDefault (restricted Pod Security), at pod or container level.
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const t = c.securityContext?.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
      if (t !== 'RuntimeDefault' && t !== 'Localhost') errs.push(`${where} container ${c.name}: seccompProfile is not RuntimeDefault`);
    }
    // Launchers under a read-only root: GStreamer's registry cache and HOME (XDG
    // cache/config: GStreamer, OpenCV) must be on a writable volume.
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    for (const c of spec.containers) {
      if ((c.command ?? [])[0] !== LAUNCHER) continue;
      const envv = new Map((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
      const writable = (p) => (c.volumeMounts ?? []).some((m) => !m.readOnly && (p === m.mountPath || p.startsWith(m.mountPath.replace(/\/+$/, '') + '/')) && volumes.get(m.name)?.emptyDir);
      const reg = envv.get('GST_REGISTRY_1_0');
      if (!reg) errs.push(`${where} container ${c.name}: GST_REGISTRY_1_0 unset: GStreamer writes its registry cache under HOME or fails on the read-only root`);
      else if (!writable(reg)) errs.push(`${where} container ${c.name}: GST_REGISTRY_1_0 ${reg} is not on a writable emptyDir`);
      const home = envv.get('HOME');
      if (!home || !writable(home)) errs.push(`${where} container ${c.name}: HOME ${home} is not a writable emptyDir (XDG cache/config of GStreamer and OpenCV)`);
    }
  }
  // KEDA's operator reads the queue through the broker's management API.
  for (const s of scalers) for (const t of s.spec.triggers.filter((x) => x.type === 'rabbitmq')) {
    const port = t.metadata.protocol === 'amqp' ? 5672 : 15672;
    if (!allowsTraffic(nps, 'Ingress', brokerLabels, ownNs, { ns: 'keda', labels: {} }, port, 'TCP'))
      errs.push(`${s.kind}/${s.metadata.name}: no NetworkPolicy lets KEDA's operator (namespace keda) reach the broker on ${port}`);
  }
  // PodDisruptionBudgets must not block scale-to-zero nor pin single pods.
  for (const pdb of objs.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const hit = pods.filter((p) => selects(pdb.spec?.selector ?? {}, p.labels));
    const comps = new Set(hit.map((p) => p.labels['app.kubernetes.io/component']));
    if ((comps.has('inference') || comps.has('edge')) && pdb.spec.minAvailable !== undefined)
      errs.push(`PodDisruptionBudget/${pdb.metadata.name}: minAvailable on ${[...comps].join('/')} pods: with 0 or 1 replica (scale to zero, one pod per camera) it blocks every node drain; use none or maxUnavailable`);
  }

  // ---- Prometheus Operator resources (overlays/monitoring) -------------------
  const launcherMetrics = () => {
    const names = new Set();
    const src = fs.readFileSync(path.join(ctx.root, 'pipelines/edgefaas-launch.c'), 'utf8');
    for (const m of src.matchAll(/metric \(o, "(edgefaas_[a-z0-9_]+)"/g)) for (const suf of ['', '_bucket', '_sum', '_count']) names.add(m[1] + suf);
    const el = fs.readFileSync(path.join(ctx.root, 'docs/elements/amqpsink.txt'), 'utf8');
    const stats = /stats\s+:\s+Counters:\s*([^\n]+)/.exec(el)?.[1] ?? '';
    for (const f of stats.split(',')) if (f.trim()) names.add(`edgefaas_amqpsink_${f.trim().replace(/-/g, '_')}`);
    return names;
  };
  for (const pm of objs.filter((o) => o.kind === 'PodMonitor')) {
    const hit = pods.filter((p) => selects(pm.spec.selector ?? {}, p.labels));
    if (!hit.length) errs.push(`PodMonitor/${pm.metadata.name} selects no pod of the overlay`);
    for (const ep of pm.spec.podMetricsEndpoints ?? []) for (const p of hit) {
      const c = p.spec.containers.find((x) => (x.ports ?? []).some((q) => q.name === ep.port));
      if (!c) errs.push(`PodMonitor/${pm.metadata.name}: ${p.where} has no container port named '${ep.port}'`);
    }
    for (const l of pm.spec.podTargetLabels ?? []) if (hit.length && !hit.some((p) => l in p.labels)) errs.push(`PodMonitor/${pm.metadata.name}: no selected pod has the label ${l} (podTargetLabels)`);
  }
  const rules = objs.filter((o) => o.kind === 'PrometheusRule');
  if (rules.length) {
    const known = launcherMetrics();
    for (const r of rules) for (const g of r.spec.groups ?? []) for (const rule of g.rules ?? []) {
      for (const m of String(rule.expr).matchAll(/\bedgefaas_[a-z0-9_]+/g)) if (!known.has(m[0])) errs.push(`PrometheusRule/${r.metadata.name} ${rule.alert ?? rule.record}: metric ${m[0]} is not exported by edgefaas-launch`);
    }
  }

  // ---- no credentials anywhere in the rendered manifests --------------------
  const text = JSON.stringify(objs.filter((o) => o.kind !== 'Secret'));
  if (/[a-z]+:\/\/[^/"@\s:]+:[^/"@\s]+@/i.test(text)) errs.push('a URL with user:password@ appears in the manifests');
  return errs;
}
