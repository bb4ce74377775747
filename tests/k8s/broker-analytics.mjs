// The analytics container of an overlay, run for real against a broker loaded
// with that overlay's own topology (TAP):
//   edgefaas-broker --management -- node tests/k8s/broker-analytics.mjs OVERLAY
// edgefaas-launch runs pipelines/analytics.pipeline with the manifest's args and
// environment (ConfigMaps resolved, the rules file taken from the rules
// ConfigMap, pod paths mapped into a temp dir). It must declare its queue without
// a conflict with the topology (a difference in type or arguments is
// PRECONDITION_FAILED, the launcher exits), become ready, be the one consumer of
// that queue, receive the detection events the topology routes to it (a copy
// next to "detections"), dead-letter one it cannot use into <queue>.dead, and stop
// cleanly on SIGTERM within the pod's grace period.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = process.env.EDGEFAAS_SOURCE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.EDGEFAAS_BUILD_ROOT ?? path.join(root, 'build');
const shared = path.resolve(root, process.env.EDGEFAAS_SHARED_DIR ?? '../shared');
const tools = path.join(root, 'k8s/tools');
const overlay = process.argv[2];
let count = 0, failed = 0;
const out = [];
const ok = (cond, name, detail = '') => {
  out.push(`${cond ? 'ok' : 'not ok'} ${++count} - ${name}`);
  if (!cond) { failed++; for (const l of String(detail).split('\n')) out.push(`# ${l}`); }
  return cond;
};
let child = null;
const finish = () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  console.log(`TAP version 13\n1..${count}\n${out.join('\n')}`);
  process.exit(failed ? 1 : 0);
};
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const mgmtPort = Number(process.env.EF_BROKER_MGMT_PORT ?? 0);
if (!ok(mgmtPort && process.env.EF_BROKER_URL, 'running under edgefaas-broker --management')) finish();
const { render } = await import(path.join(tools, 'kustomize.mjs'));
const { brokerDefinitions } = await import(path.join(tools, 'definitions.mjs'));
const objs = render(path.join(root, 'k8s/overlays', overlay));
const dep = objs.find((o) => o.kind === 'Deployment' && o.spec.template.metadata.labels['app.kubernetes.io/component'] === 'analytics');
if (!ok(dep, `${overlay}: an analytics Deployment`)) finish();
const spec = dep.spec.template.spec;
const c = spec.containers[0];

// 1. the overlay's topology in the broker (as its operator would declare it)
const brokerUrl = new URL(process.env.EF_BROKER_URL);
const mgmt = `http://127.0.0.1:${mgmtPort}`;
const auth = { Authorization: `Basic ${Buffer.from(`${brokerUrl.username}:${process.env.EDGEFAAS_AMQP_PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };
const api = async (method, p, body) => {
  const r = await fetch(mgmt + p, { method, headers: auth, body: body && JSON.stringify(body) });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
};
// (the users stay the fixture's: only the topology is loaded)
const YAML = (await import(path.join(tools, 'node_modules/yaml/dist/index.js'))).default;
const secrets = YAML.parseAllDocuments(execFileSync(path.join(tools, 'make-secrets.sh'), { encoding: 'utf8' })).map((d) => d.toJS()).filter(Boolean);
const defs = brokerDefinitions(objs, secrets);
let r = await api('POST', '/api/definitions', defs.topology);
if (!ok(r.status === 201 || r.status === 204, `${defs.source}: topology loaded`, `${r.status} ${r.text}`)) finish();

// 2. the container's environment as the manifest defines it, pod paths in tmp
const env = {};
for (const ef of c.envFrom ?? []) Object.assign(env, objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ef.configMapRef.name).data);
for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ef-analytics-'));
const inTmp = (p) => path.join(tmp, p);
for (const m of c.volumeMounts ?? []) {
  const v = spec.volumes.find((x) => x.name === m.name);
  fs.mkdirSync(inTmp(m.mountPath), { recursive: true });
  if (v.configMap) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name);
    for (const it of v.configMap.items ?? Object.keys(cm.data).map((k) => ({ key: k, path: k }))) fs.writeFileSync(path.join(inTmp(m.mountPath), it.path), cm.data[it.key]);
  }
}
// The model claim: the labels file from the shared models directory.
const modelsDir = env.MODELS_DIR && path.join(shared, 'models');
ok(!env.MODELS_DIR || fs.existsSync(path.join(modelsDir, 'yolo-fastest-1.1-coco/coco.names')), `labels file in ${modelsDir}`);
const queue = env.EDGEFAAS_ANALYTICS_QUEUE ?? 'analytics';
const mapped = {
  FRAME_STORE: env.FRAME_STORE && inTmp(env.FRAME_STORE),
  SNAPSHOT_DIR: env.SNAPSHOT_DIR && inTmp(env.SNAPSHOT_DIR),
  SITUATION_RULES: env.SITUATION_RULES && inTmp(env.SITUATION_RULES),
  MODELS_DIR: modelsDir,
};
for (const k of Object.keys(mapped)) if (mapped[k] === undefined) delete mapped[k];
const amqpUrl = new URL(env.EDGEFAAS_AMQP_URL);
amqpUrl.host = brokerUrl.host;
const freePort = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const args = c.args.filter((a) => !a.endsWith('.pipeline')).map((a, i, all) => (all[i - 1] === '--http-port' ? String(freePort) : a));
const pipeline = c.args.find((a) => a.endsWith('.pipeline')).replace('/usr/share/edgefaas/pipelines/', path.join(root, 'pipelines') + '/');
let stdout = '', stderr = '';
child = spawn(path.join(build, 'pipelines/edgefaas-launch'), [...args, pipeline], {
  env: { ...process.env, ...env, ...mapped, HOME: tmp, GST_REGISTRY_1_0: process.env.GST_REGISTRY_1_0, EDGEFAAS_AMQP_URL: amqpUrl.href },
});
child.stdout.on('data', (d) => { stdout += d; });
child.stderr.on('data', (d) => { stderr += d; });
const tail = () => `exit ${child.exitCode}\n${stdout.split('\n').slice(-8).join('\n')}\n${stderr.split('\n').slice(-12).join('\n')}`;

// 3. ready (the pipeline is PLAYING and consuming), the queue's one consumer
let ready = false;
for (let i = 0; i < 120 && child.exitCode === null && !ready; i++) {
  try { ready = (await fetch(`http://127.0.0.1:${freePort}/readyz`)).status === 200; } catch { /* not listening yet */ }
  if (!ready) await sleep(250);
}
if (!ok(ready, `${dep.metadata.name} ready on /readyz with the manifest's env (its queue declared without conflicting with the ${defs.source})`, tail())) finish();
// (the management API's queue stats lag by a few seconds: poll)
let q;
for (let i = 0; i < 60; i++) {
  q = await api('GET', `/api/queues/%2F/${encodeURIComponent(queue)}`);
  if (q.json?.consumers !== undefined) break;
  await sleep(500);
}
const declared = defs.topology.queues.find((x) => x.name === queue);
ok(q.status === 200 && q.json.consumers === 1, `queue '${queue}' has exactly one consumer (${q.json?.consumers})`, q.text);
ok(declared && q.json?.type === (declared.arguments?.['x-queue-type'] ?? 'classic'), `queue '${queue}' is the topology's (${q.json?.type})`);

// 4. a detection event the stage cannot use (no such frame in the store): routed
// to "detections" and to the analytics queue, dead-lettered from the latter.
const before = (await api('GET', `/api/queues/%2F/${encodeURIComponent(env.EDGEFAAS_DETECTION_QUEUE ?? 'detections')}`)).json?.messages ?? 0;
r = await api('POST', `/api/exchanges/%2F/${encodeURIComponent(env.EDGEFAAS_EXCHANGE)}/publish`, {
  properties: { content_type: 'application/json', delivery_mode: 2 }, routing_key: 'detections.cam01', payload_encoding: 'string',
  payload: JSON.stringify({ schema: 'edgefaas.detection/v1', camera: 'cam01', frame: { uri: 'file:///nonexistent/cam01/x.jpg' } }),
});
ok(r.status === 200 && r.json?.routed === true, 'a detection event published with key detections.cam01 is routed', `${r.status} ${r.text}`);
let dead = 0, det = 0;
for (let i = 0; i < 60 && dead < 1; i++) {
  dead = (await api('GET', `/api/queues/%2F/${encodeURIComponent(queue)}.dead`)).json?.messages ?? 0;
  if (dead < 1) await sleep(250);
}
det = (await api('GET', `/api/queues/%2F/${encodeURIComponent(env.EDGEFAAS_DETECTION_QUEUE ?? 'detections')}`)).json?.messages ?? 0;
ok(dead === 1, `the analytics stage received its copy and dead-lettered it into '${queue}.dead' (${dead})`, tail());
ok(det === before + 1, `"detections" kept its own copy (${det})`);
ok(child.exitCode === null, 'the launcher survived the bad event', tail());

// 5. SIGTERM: drained and gone within the pod's grace period
const grace = spec.terminationGracePeriodSeconds ?? 30;
const t0 = Date.now();
child.kill('SIGTERM');
while (child.exitCode === null && Date.now() - t0 < grace * 1000) await sleep(100);
ok(child.exitCode === 0, `SIGTERM: exit 0 after ${((Date.now() - t0) / 1000).toFixed(1)} s (grace ${grace} s)`, tail());
fs.rmSync(tmp, { recursive: true, force: true });
finish();
