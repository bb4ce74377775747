// A minimal, faithful kustomize renderer for the subset of kustomization
// features the edgefaas overlays use. Machines without `kubectl kustomize` (or
// with one too old) can still render and validate every overlay offline;
// tests/k8s compares the result with real `kubectl kustomize` where it exists.
//
// Supported (anything else in a kustomization.yaml is an ERROR, never ignored):
//   apiVersion, kind, resources (files and directories), namespace,
//   patches (path: or patch:, optional target {group,version,kind,name,namespace}),
//     each either a strategic-merge patch (a YAML object) or a JSON 6902 patch
//     (a YAML list of {op,path,value}: add, remove, replace, test),
//   images (name, newName, newTag, digest),
//   nameSuffix (after the patches, as kustomize orders its transformers; references
//     to a renamed ServiceAccount, ConfigMap, Secret or PersistentVolumeClaim from pod
//     templates and from HorizontalPodAutoscaler.scaleTargetRef are renamed too, as
//     kustomize's nameReference does; custom resources such as KEDA's scaleTargetRef
//     are not, so a kustomization renaming them patches those names itself),
//   labels (pairs, includeSelectors, includeTemplates; includeSelectors also sets
//     the selectors and pod template labels of Deployment/StatefulSet/DaemonSet/
//     ReplicaSet and Service.spec.selector; other kinds with selectors are refused).
// Strategic merge: maps merge recursively, null deletes a key, `$patch: delete`
// removes a whole object or a list item, lists of named things merge by their
// Kubernetes patch merge key (containers/initContainers/volumes/env by name,
// volumeMounts by mountPath, container ports by containerPort, tolerations are
// replaced); any other list is replaced, as kustomize does for lists without
// a merge key (and for every list of a custom resource).
//
// Usage: node kustomize.mjs DIR   -> multi-document YAML on stdout.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'patches', 'images', 'nameSuffix', 'labels']);

// Kinds that are not namespaced (the namespace transformer leaves them alone).
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PersistentVolume', 'StorageClass', 'PriorityClass', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'ClusterTriggerAuthentication', 'RuntimeClass',
  'IngressClass', 'CSIDriver', 'Node', 'APIService',
]);

// Strategic merge keys by field name, as in the Kubernetes API types.
const MERGE_KEYS = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name',
  volumes: 'name', env: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath',
  imagePullSecrets: 'name', hostAliases: 'ip', ports: null, // ports: decided per parent
};

export class KustomizeError extends Error {}

function readYamlDocs(file) {
  const text = fs.readFileSync(file, 'utf8');
  const docs = YAML.parseAllDocuments(text);
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new KustomizeError(`${file}: ${d.errors[0].message}`);
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

const clone = (v) => (v === undefined ? v : structuredClone(v));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function resId(o) {
  const ns = o.metadata?.namespace ?? '';
  return `${o.apiVersion}|${o.kind}|${ns}|${o.metadata?.name}`;
}

function groupVersion(apiVersion) {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function listMergeKey(field, parentField, items) {
  if (field === 'ports') {
    // container ports merge by containerPort, service ports by port
    if (items.some((p) => isObj(p) && 'containerPort' in p)) return 'containerPort';
    if (items.some((p) => isObj(p) && 'port' in p) && parentField !== 'spec_np') return 'port';
    return null;
  }
  return MERGE_KEYS[field] ?? null;
}

export function strategicMerge(base, patch, field = '', builtin = true) {
  if (!isObj(patch)) return clone(patch);
  if (!isObj(base)) base = {};
  if (patch.$patch === 'replace') {
    const p = clone(patch); delete p.$patch; return p;
  }
  const out = clone(base);
  for (const [k, pv] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (pv === null) { delete out[k]; continue; }
    if (Array.isArray(pv)) {
      const key = builtin ? listMergeKey(k, field, pv.concat(out[k] ?? [])) : null;
      if (key && Array.isArray(out[k])) {
        // As kustomize (kyaml) does: the patch's items first, in patch order
        // (merged with their namesakes), then the untouched original items.
        const rest = out[k].map(clone);
        const front = [];
        for (const item of pv) {
          const idx = rest.findIndex((m) => isObj(m) && isObj(item) && m[key] === item[key]);
          if (isObj(item) && item.$patch === 'delete') { if (idx >= 0) rest.splice(idx, 1); continue; }
          if (idx >= 0) front.push(strategicMerge(rest.splice(idx, 1)[0], item, k, builtin));
          else front.push(clone(item));
        }
        out[k] = front.concat(rest);
      } else {
        out[k] = pv.filter((i) => !(isObj(i) && i.$patch === 'delete')).map(clone);
      }
    } else if (isObj(pv)) {
      out[k] = strategicMerge(out[k], pv, k, builtin);
    } else {
      out[k] = pv;
    }
  }
  return out;
}

function pointer(p) {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new KustomizeError(`JSON pointer '${p}' must start with /`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function applyJson6902(doc, ops, where) {
  const out = clone(doc);
  for (const op of ops) {
    const parts = pointer(op.path);
    const last = parts.pop();
    let parent = out;
    for (const p of parts) {
      parent = Array.isArray(parent) ? parent[Number(p)] : parent?.[p];
      if (parent === undefined) throw new KustomizeError(`${where}: path ${op.path} does not exist`);
    }
    const has = Array.isArray(parent) ? (last === '-' || Number(last) < parent.length) : Object.hasOwn(parent, last);
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, clone(op.value));
        else parent[last] = clone(op.value);
        break;
      case 'replace':
        if (!has) throw new KustomizeError(`${where}: replace of missing ${op.path}`);
        if (Array.isArray(parent)) parent[Number(last)] = clone(op.value); else parent[last] = clone(op.value);
        break;
      case 'remove':
        if (!has) throw new KustomizeError(`${where}: remove of missing ${op.path}`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1); else delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(Array.isArray(parent) ? parent[Number(last)] : parent[last]) !== JSON.stringify(op.value))
          throw new KustomizeError(`${where}: test failed at ${op.path}`);
        break;
      default:
        throw new KustomizeError(`${where}: JSON patch op '${op.op}' is not supported by this renderer`);
    }
  }
  return out;
}

// Names an object had before a nameSuffix: kustomize matches patch targets against
// the current name and the earlier ones.
const formerNames = new WeakMap();
const namesOf = (o) => [o.metadata?.name ?? '', ...(formerNames.get(o) ?? [])];
const carryNames = (from, to) => { if (formerNames.has(from)) formerNames.set(to, formerNames.get(from)); return to; };

function matchesTarget(o, t) {
  if (!t) return true;
  const gv = groupVersion(o.apiVersion);
  if (t.group !== undefined && t.group !== gv.group) return false;
  if (t.version !== undefined && t.version !== gv.version) return false;
  if (t.kind !== undefined && t.kind !== o.kind) return false;
  if (t.name !== undefined && !namesOf(o).some((n) => new RegExp(`^(?:${t.name})$`).test(n))) return false;
  if (t.namespace !== undefined && t.namespace !== (o.metadata?.namespace ?? '')) return false;
  for (const k of Object.keys(t)) {
    if (!['group', 'version', 'kind', 'name', 'namespace'].includes(k))
      throw new KustomizeError(`patch target field '${k}' is not supported by this renderer`);
  }
  return true;
}

function isBuiltin(o) {
  const { group } = groupVersion(o.apiVersion);
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io');
}

function applyImages(objs, images) {
  const visit = (containers) => {
    for (const c of containers ?? []) {
      for (const img of images) {
        const m = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(?:@(.+))?$/.exec(c.image ?? '');
        if (!m || m[1] !== img.name) continue;
        let name = img.newName ?? m[1];
        if (img.digest) name += `@${img.digest}`;
        else if (img.newTag) name += `:${img.newTag}`;
        else if (m[2]) name += `:${m[2]}`;
        c.image = name;
      }
    }
  };
  const walk = (v) => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (!isObj(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if ((k === 'containers' || k === 'initContainers') && Array.isArray(x)) visit(x);
      walk(x);
    }
  };
  objs.forEach(walk);
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

function podSpecOf(o) {
  if (WORKLOADS.has(o.kind)) return o.spec?.template?.spec;
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  if (o.kind === 'Pod') return o.spec;
  return undefined;
}

// nameSuffix: rename every object, then the references to renamed objects.
function applyNameSuffix(objs, suffix) {
  const renamed = new Map();   // "Kind|old" -> new
  for (const o of objs) {
    const nn = `${o.metadata.name}${suffix}`;
    formerNames.set(o, namesOf(o));
    renamed.set(`${o.kind}|${o.metadata.name}`, nn);
    o.metadata.name = nn;
  }
  const ref = (kind, name) => renamed.get(`${kind}|${name}`) ?? name;
  for (const o of objs) {
    const ps = podSpecOf(o);
    if (ps) {
      if (ps.serviceAccountName) ps.serviceAccountName = ref('ServiceAccount', ps.serviceAccountName);
      for (const s of ps.imagePullSecrets ?? []) s.name = ref('Secret', s.name);
      for (const c of [...(ps.initContainers ?? []), ...(ps.containers ?? [])]) {
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef) ef.configMapRef.name = ref('ConfigMap', ef.configMapRef.name);
          if (ef.secretRef) ef.secretRef.name = ref('Secret', ef.secretRef.name);
        }
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef, sk = e.valueFrom?.secretKeyRef;
          if (cm) cm.name = ref('ConfigMap', cm.name);
          if (sk) sk.name = ref('Secret', sk.name);
        }
      }
      for (const v of ps.volumes ?? []) {
        if (v.configMap) v.configMap.name = ref('ConfigMap', v.configMap.name);
        if (v.secret) v.secret.secretName = ref('Secret', v.secret.secretName);
        if (v.persistentVolumeClaim) v.persistentVolumeClaim.claimName = ref('PersistentVolumeClaim', v.persistentVolumeClaim.claimName);
      }
    }
    if (o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef)
      o.spec.scaleTargetRef.name = ref(o.spec.scaleTargetRef.kind, o.spec.scaleTargetRef.name);
  }
}

function applyLabels(objs, specs, where) {
  for (const [i, l] of specs.entries()) {
    for (const k of Object.keys(l)) {
      if (!['pairs', 'includeSelectors', 'includeTemplates'].includes(k))
        throw new KustomizeError(`${where}: labels[${i}].${k} is not supported by this renderer`);
    }
    const pairs = l.pairs ?? {};
    const put = (parent, key) => { parent[key] = { ...(parent[key] ?? {}), ...pairs }; };
    for (const o of objs) {
      put(o.metadata, 'labels');
      const sel = l.includeSelectors === true;
      if (WORKLOADS.has(o.kind) && o.spec) {
        if (sel) { o.spec.selector ??= {}; put(o.spec.selector, 'matchLabels'); }
        if ((sel || l.includeTemplates === true) && o.spec.template) { o.spec.template.metadata ??= {}; put(o.spec.template.metadata, 'labels'); }
      }
      if (sel && o.kind === 'Service' && o.spec) put(o.spec, 'selector');
      if (sel && ['NetworkPolicy', 'PodDisruptionBudget', 'CronJob'].includes(o.kind))
        throw new KustomizeError(`${where}: labels with includeSelectors on a ${o.kind} is not supported by this renderer`);
    }
  }
}

export function render(dir) {
  const kfile = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!kfile) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const [k] = readYamlDocs(kfile);
  for (const key of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(key)) throw new KustomizeError(`${kfile}: field '${key}' is not supported by this renderer`);
  }
  let objs = [];
  for (const r of k.resources ?? []) {
    const p = path.resolve(dir, r);
    if (!fs.existsSync(p)) throw new KustomizeError(`${kfile}: resource ${r} not found`);
    if (fs.statSync(p).isDirectory()) objs.push(...render(p));
    else objs.push(...readYamlDocs(p));
  }
  const seen = new Set();
  for (const o of objs) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name) throw new KustomizeError(`${kfile}: object without apiVersion/kind/metadata.name`);
    const id = resId(o);
    if (seen.has(id)) throw new KustomizeError(`${kfile}: duplicate resource ${id}`);
    seen.add(id);
  }
  if (k.namespace) {
    for (const o of objs) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
    for (const o of objs) {
      if ((o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && Array.isArray(o.subjects)) {
        for (const s of o.subjects) if (s.kind === 'ServiceAccount') s.namespace = k.namespace;
      }
    }
  }
  for (const [i, p] of (k.patches ?? []).entries()) {
    const where = `${kfile}: patches[${i}]`;
    let docs;
    if (p.path) docs = readYamlDocs(path.resolve(dir, p.path));
    else if (typeof p.patch === 'string') docs = YAML.parseAllDocuments(p.patch).map((d) => d.toJS());
    else throw new KustomizeError(`${where}: needs path or patch`);
    if (docs.length === 1 && Array.isArray(docs[0])) {
      if (!p.target) throw new KustomizeError(`${where}: a JSON 6902 patch needs a target`);
      const hits = objs.filter((o) => matchesTarget(o, p.target));
      if (!hits.length) throw new KustomizeError(`${where}: target matches no resource`);
      objs = objs.map((o) => (hits.includes(o) ? carryNames(o, applyJson6902(o, docs[0], where)) : o));
      continue;
    }
    for (const sp of docs) {
      const hits = objs.filter((o) => (p.target ? matchesTarget(o, p.target)
        : o.kind === sp.kind && o.metadata.name === sp.metadata?.name
          && groupVersion(o.apiVersion).group === groupVersion(sp.apiVersion ?? '').group));
      if (!hits.length) throw new KustomizeError(`${where}: no resource matches ${sp.kind}/${sp.metadata?.name}`);
      if (sp.$patch === 'delete') { objs = objs.filter((o) => !hits.includes(o)); continue; }
      objs = objs.map((o) => {
        if (!hits.includes(o)) return o;
        const body = clone(sp);
        if (p.target) { delete body.metadata?.name; }
        const merged = strategicMerge(o, body, '', isBuiltin(o));
        merged.metadata.name = o.metadata.name;
        if (o.metadata.namespace !== undefined) merged.metadata.namespace = o.metadata.namespace;
        return carryNames(o, merged);
      });
    }
  }
  if (k.nameSuffix) applyNameSuffix(objs, k.nameSuffix);
  if (k.labels) applyLabels(objs, k.labels, kfile);
  if (k.images) applyImages(objs, k.images);
  return objs;
}

export function toYaml(objs) {
  return objs.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.length !== 3) { console.error('usage: node kustomize.mjs DIR'); process.exit(2); }
  try {
    process.stdout.write(toYaml(render(process.argv[2])));
  } catch (e) {
    console.error(`kustomize.mjs: ${e.message}`);
    process.exit(1);
  }
}
