// Offline validation of the Kubernetes manifests (k8s/), TAP output for meson.
//   node tests/k8s/k8s-test.mjs render|schema|negative|consistency|containers
// Needs the Node tooling of k8s/tools (scripts/install-node-tools.sh; the meson
// test runs it first and fails loudly when it cannot).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = process.env.EDGEFAAS_SOURCE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tools = path.join(root, 'k8s/tools');
const OVERLAYS = ['dev', 'production', 'scaledjob', 'keda-2.3', 'monitoring', 'regions'];
const kedaOf = (ov) => (ov === 'keda-2.3' ? '2.3' : 'current');
const gpuOf = (ov) => ov !== 'dev';

// ---- tiny TAP harness ---------------------------------------------------------
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
class Fail extends Error {}
const assert = (cond, msg) => { if (!cond) throw new Fail(msg); };
const assertNoErrors = (errs, what) => { if (errs.length) throw new Fail(`${what}:\n${errs.join('\n')}`); };
const assertErrorMatching = (errs, re, what) => {
  if (!errs.some((e) => re.test(e))) throw new Fail(`${what}: expected an error matching ${re}, got:\n${errs.join('\n') || '(no errors)'}`);
};
async function run() {
  console.log('TAP version 13');
  console.log(`1..${tests.length}`);
  let failed = 0;
  for (const [i, t] of tests.entries()) {
    try {
      await t.fn();
      console.log(`ok ${i + 1} - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${i + 1} - ${t.name}`);
      for (const l of String(e instanceof Fail ? e.message : e.stack).split('\n')) console.log(`# ${l}`);
    }
  }
  console.log(`# ${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// ---- loading ----------------------------------------------------------------
let mods;
try {
  mods = {
    kustomize: await import(path.join(tools, 'kustomize.mjs')),
    schema: await import(path.join(tools, 'schema.mjs')),
    consistency: await import(path.join(tools, 'consistency.mjs')),
    YAML: (await import(path.join(tools, 'node_modules/yaml/dist/index.js'))).default,
  };
} catch (e) {
  console.log('TAP version 13\n1..1\nnot ok 1 - load k8s/tools');
  console.log(`# ${e.message}\n# run scripts/install-node-tools.sh (npm ci --prefix k8s/tools)`);
  process.exit(1);
}
const { render, resId } = mods.kustomize;
const rendered = new Map(OVERLAYS.map((ov) => [ov, render(path.join(root, 'k8s/overlays', ov))]));

function makeSecrets() {
  const out = execFileSync(path.join(tools, 'make-secrets.sh'), { encoding: 'utf8' });
  return mods.YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
}
function secretsCtx() {
  return new Map(makeSecrets().map((s) => [s.metadata.name, new Set(Object.keys(s.stringData ?? s.data))]));
}
const ctxFor = (ov, secrets) => ({ root, secrets, overlay: ov, gpu: gpuOf(ov), keda: kedaOf(ov) });
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

// ---- render -----------------------------------------------------------------
function kubectlKustomize() {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const v = JSON.parse(r.stdout).kustomizeVersion ?? '';
  const major = Number(/^v(\d+)/.exec(v)?.[1] ?? 0);
  return major >= 4 ? v : null;
}

const suites = {
  render() {
    for (const ov of OVERLAYS) {
      test(`render ${ov}: objects with kind, name and namespace edgefaas`, () => {
        const objs = rendered.get(ov);
        assert(objs.length > 15, `only ${objs.length} objects`);
        for (const o of objs) if (o.kind !== 'Namespace') assert(o.metadata.namespace === 'edgefaas', `${resId(o)} not in namespace edgefaas`);
        const kinds = new Set(objs.map((o) => o.kind));
        for (const k of ['Deployment', 'NetworkPolicy', 'TriggerAuthentication', 'ServiceAccount', 'ConfigMap'])
          assert(kinds.has(k), `no ${k}`);
        assert(objs.some((o) => o.kind === 'Deployment' && o.metadata.name === 'edgefaas-edge-camera-01'), 'no edge Deployment for camera-01');
        assert(kinds.has(ov === 'scaledjob' ? 'ScaledJob' : 'ScaledObject'), 'no scaler');
        const inference = objs.some((o) => o.kind === 'Deployment' && o.metadata.name === 'edgefaas-inference');
        assert(ov === 'scaledjob' ? !kinds.has('ScaledObject') && !inference : inference, 'scaler kind mix');
        assert(kinds.has(ov === 'dev' ? 'StatefulSet' : 'RabbitmqCluster'), 'no broker');
      });
    }
    test('regions: nameSuffix renames references (not KEDA\'s), labels reach selectors, patch targets match former names (kustomize semantics)', () => {
      const objs = rendered.get('regions');
      const get = (kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
      for (const r of ['north', 'south']) {
        const d = get('Deployment', `edgefaas-inference-${r}`);
        assert(d, `no Deployment edgefaas-inference-${r}`);
        const ps = d.spec.template.spec;
        assert(ps.serviceAccountName === `edgefaas-inference-${r}` && get('ServiceAccount', ps.serviceAccountName), `serviceAccountName ${ps.serviceAccountName} not renamed with its ServiceAccount`);
        assert(ps.containers[0].envFrom[0].configMapRef.name === 'edgefaas-amqp', 'a reference to an object outside the region was renamed');
        assert(ps.volumes.find((v) => v.name === 'models').persistentVolumeClaim.claimName === 'edgefaas-models', 'the model claim reference was renamed');
        assert(d.spec.selector.matchLabels['edgefaas.io/region'] === r && d.spec.template.metadata.labels['edgefaas.io/region'] === r, 'region label not in selector and template');
        const so = get('ScaledObject', `edgefaas-inference-${r}`);
        assert(so?.spec.scaleTargetRef.name === d.metadata.name && so.spec.triggers[0].metadata.queueName === `frames-${r}`, 'ScaledObject not patched to its region');
        // The overlay patches target "frames-binding" (the central one); the region's
        // Binding was called region-frames-binding before its suffix, so it is untouched.
        assert(get('Binding', `region-frames-binding-${r}`)?.spec.routingKey === `frames.${r}.#`, `region ${r}'s binding key changed`);
      }
      assert(get('Binding', 'frames-binding').spec.routingKey === 'frames.central.#', 'central binding not frames.central.#');
      const dir = fs.mkdtempSync('/tmp/ef-k8s-');
      try {
        // A target naming an object by its name before a nameSuffix still matches it (as kubectl).
        fs.mkdirSync(path.join(dir, 'sub'));
        fs.writeFileSync(path.join(dir, 'sub/kustomization.yaml'), 'resources: [cm.yaml]\nnameSuffix: -x\n');
        fs.writeFileSync(path.join(dir, 'sub/cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: a}\n');
        fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: [sub]\npatches:\n  - target: {kind: ConfigMap, name: c}\n    patch: |-\n      - {op: replace, path: /data/k, value: b}\n');
        const [cm] = render(dir);
        assert(cm.metadata.name === 'c-x' && cm.data.k === 'b', `former-name target: ${JSON.stringify(cm)}`);
      } finally { fs.rmSync(dir, { recursive: true }); }
    });
    test('analytics stage (issue 10): one Deployment wherever there is a frame store, with its broker queue; none in dev', () => {
      for (const ov of OVERLAYS) {
        const objs = rendered.get(ov);
        const ana = objs.filter((o) => o.kind === 'Deployment' && o.metadata.name === 'edgefaas-analytics');
        const queue = objs.some((o) => o.kind === 'Queue' && o.spec.name === 'analytics')
          || JSON.parse(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'rabbitmq-definitions')?.data['10-topology.json'] ?? '{"queues":[]}').queues.some((q) => q.name === 'analytics');
        if (ov === 'dev') {
          assert(ana.length === 0 && !queue, 'dev (inline frames) runs an analytics stage or declares its queue');
          assert(!objs.some((o) => /analytics|situations/.test(o.metadata.name)), 'analytics leftovers in dev');
          continue;
        }
        assert(ana.length === 1 && queue, `${ov}: analytics Deployment ${ana.length}, queue ${queue}`);
        const d = ana[0];
        assert(d.spec.replicas === 1 && d.spec.strategy.type === 'Recreate', `${ov}: replicas ${d.spec.replicas} strategy ${d.spec.strategy?.type}`);
        const c = d.spec.template.spec.containers[0];
        assert(c.args.at(-1) === '/usr/share/edgefaas/pipelines/analytics.pipeline', `${ov}: runs ${c.args.at(-1)}`);
        assert(/\/edgefaas-inference:/.test(c.image), `${ov}: image ${c.image}`);
        assert(!c.resources.limits['nvidia.com/gpu'] && !d.spec.template.spec.nodeSelector, `${ov}: analytics asks for a GPU node`);
      }
    });
    test('renderer: images, JSON 6902 remove and $patch: delete really applied', () => {
      const dev = rendered.get('dev');
      const inf = dev.find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgefaas-inference');
      assert(inf.spec.template.spec.containers[0].image === 'localhost:5000/edgefaas-inference-cpu:dev', 'image not rewritten (dev: the CPU inference image)');
      assert(!inf.spec.template.spec.nodeSelector && !('nvidia.com/gpu' in inf.spec.template.spec.containers[0].resources.limits), 'GPU bits not removed in dev');
      const sj = rendered.get('scaledjob').find((o) => o.kind === 'ScaledJob');
      assert(sj.spec.jobTargetRef.template.spec.containers[0].image === 'registry.example.com/edgefaas/edgefaas-inference:0.1.0', `ScaledJob image not rewritten: ${sj.spec.jobTargetRef.template.spec.containers[0].image}`);
      const prod = rendered.get('production').find((o) => o.kind === 'Deployment' && o.metadata.name === 'edgefaas-inference');
      assert(prod.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'] === 1, 'production lost its GPU');
    });
    test('scaledjob: the ScaledJob image follows the images: of the overlay (no hard-coded reference)', () => {
      const dir = fs.mkdtempSync('/tmp/ef-k8s-');
      try {
        fs.cpSync(path.join(root, 'k8s/base'), path.join(dir, 'base'), { recursive: true });
        fs.cpSync(path.join(root, 'k8s/overlays'), path.join(dir, 'overlays'), { recursive: true });
        const kf = path.join(dir, 'overlays/scaledjob/kustomization.yaml');
        const k = mods.YAML.parse(fs.readFileSync(kf, 'utf8'));
        k.images = [...(k.images ?? []).filter((i) => i.name !== 'edgefaas-inference'),
          { name: 'edgefaas-inference', newName: 'registry.test/other/edgefaas-inference', newTag: '9.9.9' }];
        fs.writeFileSync(kf, mods.YAML.stringify(k));
        const sj = render(path.join(dir, 'overlays/scaledjob')).find((o) => o.kind === 'ScaledJob');
        const img = sj.spec.jobTargetRef.template.spec.containers[0].image;
        assert(img === 'registry.test/other/edgefaas-inference:9.9.9', `ScaledJob image '${img}' ignores images:`);
      } finally { fs.rmSync(dir, { recursive: true }); }
    });
    test('renderer refuses kustomization fields it does not implement', () => {
      const dir = fs.mkdtempSync('/tmp/ef-k8s-');
      try {
        fs.writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources: []\nnamePrefix: x-\n');
        let msg = '';
        try { render(dir); } catch (e) { msg = e.message; }
        assert(/namePrefix.*not supported/.test(msg), `no refusal: '${msg}'`);
      } finally { fs.rmSync(dir, { recursive: true }); }
    });
    const kv = kubectlKustomize();
    for (const ov of OVERLAYS) {
      const name = `render ${ov}: identical to kubectl kustomize`;
      if (!kv) {
        // Not silent: the reason is printed in the TAP stream and in the summary.
        tests.push({ name: `${name} # SKIP kubectl with kustomize >= v4 not installed (the renderer's own tests above still ran)`, fn: () => {} });
        continue;
      }
      test(`${name} (${kv})`, () => {
        const out = execFileSync('kubectl', ['kustomize', path.join(root, 'k8s/overlays', ov)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const real = new Map(mods.YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean).map((o) => [resId(o), o]));
        const ours = new Map(rendered.get(ov).map((o) => [resId(o), o]));
        const diffs = [];
        for (const id of new Set([...real.keys(), ...ours.keys()])) {
          if (!real.has(id)) diffs.push(`only ours: ${id}`);
          else if (!ours.has(id)) diffs.push(`only kubectl: ${id}`);
          else if (canon(real.get(id)) !== canon(ours.get(id))) diffs.push(`differs: ${id}\n ours:    ${canon(ours.get(id))}\n kubectl: ${canon(real.get(id))}`);
        }
        assertNoErrors(diffs, 'renderings differ');
      });
    }
  },

  async schema() {
    for (const ov of OVERLAYS) {
      test(`schema ${ov}: every object valid (models + unknown fields, KEDA ${kedaOf(ov)})`, async () => {
        const errs = [];
        for (const o of rendered.get(ov)) errs.push(...await mods.schema.validateObject(o, { keda: kedaOf(ov) }));
        assertNoErrors(errs, ov);
      });
    }
    test('schema: the Secrets make-secrets.sh prints are valid v1 Secrets', async () => {
      const errs = [];
      const ss = makeSecrets();
      assert(ss.length === 3, `${ss.length} secrets`);
      for (const s of ss) errs.push(...await mods.schema.validateObject(s));
      assertNoErrors(errs, 'secrets');
    });
    test('schema: the production scaler is NOT KEDA-2.3 compatible (why keda-2.3 exists)', async () => {
      const errs = [];
      for (const o of rendered.get('production')) if (o.apiVersion.startsWith('keda.sh')) errs.push(...await mods.schema.validateObject(o, { keda: '2.3' }));
      assertErrorMatching(errs, /activationValue: unknown rabbitmq trigger parameter for KEDA 2\.3/, 'production vs 2.3');
      assertErrorMatching(errs, /'username' is not a rabbitmq auth parameter in KEDA 2\.3/, 'production vs 2.3');
    });
  },

  async negative() {
    // Each case breaks a copy of a rendered object; validation must name the fault.
    const prod = rendered.get('production');
    const EDGE = 'edgefaas-edge-camera-01', INF = 'edgefaas-inference', ANA = 'edgefaas-analytics';
    const get = (kind, ov = 'production', name) => structuredClone(rendered.get(ov).find((o) => o.kind === kind && (!name || o.metadata.name === name)));
    const cases = [
      ['ScaledObject spec.pollingIntervall (typo)', () => { const o = get('ScaledObject'); o.spec.pollingIntervall = o.spec.pollingInterval; delete o.spec.pollingInterval; return o; }, /\.spec\.pollingIntervall: unknown field/],
      ['Deployment terminationGracePeriodSecond (typo)', () => { const o = get('Deployment', 'production', INF); o.spec.template.spec.terminationGracePeriodSecond = 60; delete o.spec.template.spec.terminationGracePeriodSeconds; return o; }, /terminationGracePeriodSecond: unknown field/],
      ['container "resource" (typo)', () => { const o = get('Deployment', 'production', EDGE); const c = o.spec.template.spec.containers[0]; c.resource = c.resources; delete c.resources; return o; }, /containers\[0\]\.resource: unknown field/],
      ['securityContext readOnlyRootFileSystem (wrong case)', () => { const o = get('Deployment', 'production', EDGE); o.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true; return o; }, /readOnlyRootFileSystem: unknown field/],
      ['cooldownPeriod as a string (type)', () => { const o = get('ScaledObject'); o.spec.cooldownPeriod = '120'; return o; }, /cooldownPeriod/],
      ['Deployment replicas as a string (type, kubernetes-models)', () => { const o = get('Deployment', 'production', INF); o.spec.replicas = 'two'; return o; }, /kubernetes-models: .*replicas/],
      ['trigger metadata queueNmae (typo)', () => { const o = get('ScaledObject'); const md = o.spec.triggers[0].metadata; md.queueNmae = md.queueName; delete md.queueName; return o; }, /queueNmae: unknown rabbitmq trigger parameter/],
      ['trigger protocol htttp (bad enum)', () => { const o = get('ScaledObject'); o.spec.triggers[0].metadata.protocol = 'htttp'; return o; }, /protocol: 'htttp'/],
      ['HPA behavior scaleDwn (typo inside KEDA advanced)', () => { const o = get('ScaledObject'); const b = o.spec.advanced.horizontalPodAutoscalerConfig.behavior; b.scaleDwn = b.scaleDown; return o; }, /behavior\.scaleDwn: unknown field/],
      ['ScaledJob jobTargetRef.template.spec.container (typo)', () => { const o = get('ScaledJob', 'scaledjob'); o.spec.jobTargetRef.template.spec.container = []; return o; }, /template\.spec\.container: unknown field/],
      ['RabbitmqCluster spec.replica (typo)', () => { const o = get('RabbitmqCluster'); o.spec.replica = 3; return o; }, /\.spec\.replica: unknown field/],
      ['Queue spec.type lazy (bad enum)', () => { const o = get('Queue'); o.spec.type = 'lazy'; return o; }, /\.spec\.type: "lazy" not one of/],
      ['Policy without definition (required)', () => { const o = get('Policy'); delete o.spec.definition; return o; }, /\.spec\.definition: required field missing/],
      ['NetworkPolicy spec.podSelectors (typo)', () => { const o = get('NetworkPolicy'); o.spec.podSelectors = {}; return o; }, /podSelectors: unknown field/],
      ['PodMonitor podMetricEndpoints (typo)', () => { const o = get('PodMonitor', 'monitoring'); o.spec.podMetricEndpoints = o.spec.podMetricsEndpoints; return o; }, /\.spec\.podMetricEndpoints: unknown field/],
      ['PrometheusRule rule without expr (required)', () => { const o = get('PrometheusRule', 'monitoring'); delete o.spec.groups[0].rules[0].expr; return o; }, /rules\[0\]\.expr: required field missing/],
      ['top-level "specs" on a KEDA object', () => { const o = get('TriggerAuthentication'); o.specs = o.spec; return o; }, /\.specs: unknown field/],
    ];
    for (const [name, mk, re] of cases) {
      test(`schema rejects a broken copy: ${name}`, async () => {
        assertErrorMatching(await mods.schema.validateObject(mk()), re, name);
      });
    }
    test('schema rejects a broken copy: a 2.3 object using initialCooldownPeriod', async () => {
      const o = structuredClone(rendered.get('keda-2.3').find((x) => x.kind === 'ScaledObject'));
      o.spec.initialCooldownPeriod = 10;
      assertErrorMatching(await mods.schema.validateObject(o, { keda: '2.3' }), /initialCooldownPeriod: unknown field/, '2.3');
      assert((await mods.schema.validateObject(o, { keda: 'current' })).length === 0, 'valid for current KEDA');
    });
    // Consistency faults.
    const secrets = secretsCtx();
    const broken = (ov, edit) => { const objs = structuredClone(rendered.get(ov)); edit(objs); return mods.consistency.checkOverlay(objs, ctxFor(ov, secrets)); };
    const find = (objs, kind, name) => objs.find((o) => o.kind === kind && (!name || o.metadata.name === name));
    const ccases = [
      ['value < prefetch', 'production', (o) => { find(o, 'ConfigMap', 'edgefaas-amqp').data.EDGEFAAS_PREFETCH = '80'; }, /value 50 < EDGEFAAS_PREFETCH 80/],
      ['cooldownPeriod < drain timeout', 'production', (o) => { find(o, 'ScaledObject').spec.cooldownPeriod = 10; }, /cooldownPeriod 10 < --drain-timeout 30/],
      ['terminationGracePeriodSeconds < drain timeout', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.terminationGracePeriodSeconds = 20; }, /terminationGracePeriodSeconds 20 < --drain-timeout 30/],
      ['trigger queue != frame queue', 'production', (o) => { find(o, 'ScaledObject').spec.triggers[0].metadata.queueName = 'frame'; }, /queueName 'frame' != EDGEFAAS_FRAME_QUEUE 'frames'/],
      ['trigger vhost != pipelines vhost', 'dev', (o) => { find(o, 'ScaledObject').spec.triggers[0].metadata.vhostName = 'edge'; }, /vhostName 'edge' != the pipelines' vhost '\/'/],
      ['keep-alive trigger amqp (busy pods invisible)', 'production', (o) => { find(o, 'ScaledObject').spec.triggers[0].metadata.protocol = 'amqp'; }, /one QueueLength trigger with protocol http is required/],
      ['no keep-alive trigger, activation only', 'production', (o) => { const so = find(o, 'ScaledObject'); so.spec.triggers = so.spec.triggers.filter((t) => t.metadata.protocol === 'amqp'); }, /one QueueLength trigger with protocol http is required \(ready \+ unacked keep a busy pod alive\), found 0/],
      ['MessageRate over amqp', 'production', (o) => { find(o, 'ScaledObject').spec.triggers[2].metadata.protocol = 'amqp'; }, /MessageRate trigger needs protocol http/],
      ['activation trigger on the management port', 'production', (o) => { find(o, 'ScaledObject').spec.triggers[1].metadata.host = 'amqp://rabbitmq.edgefaas.svc:15672/'; }, /is not the AMQP port 5672/],
      ['activation trigger on another queue', 'production', (o) => { find(o, 'ScaledObject').spec.triggers[1].metadata.queueName = 'frame'; }, /queueName 'frame' != EDGEFAAS_FRAME_QUEUE 'frames'/],
      ['KEDA cannot reach AMQP for the activation trigger', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'broker-ingress'); n.spec.ingress = n.spec.ingress.filter((r) => !(r.ports ?? []).some((p) => p.port === 5672) || (r.from ?? []).some((f) => f.podSelector)); }, /no NetworkPolicy lets KEDA's operator \(namespace keda\) reach the broker on 5672/],
      ['missing secret key', 'production', (o) => { find(o, 'TriggerAuthentication').spec.secretTargetRef[1].key = 'pasword'; }, /has no key 'pasword'/],
      ['env var typo the pipeline never reads', 'dev', (o) => { find(o, 'ConfigMap', 'edgefaas-amqp').data.EDGEFAAS_FRAMES_QUEUE = 'frames'; }, /sets EDGEFAAS_FRAMES_QUEUE \(from configmap edgefaas-amqp\), but no pipeline file reads it/],
      ['pipeline variable not provided', 'dev', (o) => { const c = find(o, 'Deployment', EDGE).spec.template.spec.containers[0]; c.env = c.env.filter((e) => e.name !== 'CAMERA_ID'); }, /needs \$\{CAMERA_ID\}/],
      ['edge stores frames, inference has no FRAME_STORE', 'production', (o) => { find(o, 'Deployment', INF).spec.template.spec.containers[0].env.push({ name: 'FRAME_STORE', value: '' }); }, /frame mode differs: .*Deployment\/edgefaas-edge-camera-01.* but not on Deployment\/edgefaas-inference.*no-frame-root/],
      ['FRAME_STORE paths differ', 'production', (o) => { const c = find(o, 'Deployment', INF).spec.template.spec.containers[0]; c.env.push({ name: 'FRAME_STORE', value: '/frames' }); c.volumeMounts.find((m) => m.name === 'frames').mountPath = '/frames'; }, /FRAME_STORE differs between launchers/],
      ['FRAME_STORE not mounted on inference', 'production', (o) => { const c = find(o, 'Deployment', INF).spec.template.spec.containers[0]; c.volumeMounts = c.volumeMounts.filter((m) => m.name !== 'frames'); }, /Deployment\/edgefaas-inference container inference: FRAME_STORE \/var\/lib\/edgefaas\/frames is not a mounted volume/],
      ['frame store on an emptyDir', 'production', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.volumes.find((v) => v.name === 'frames').persistentVolumeClaim = undefined; find(o, 'Deployment', EDGE).spec.template.spec.volumes.find((v) => v.name === 'frames').emptyDir = {}; }, /mounted from volume frames, not a PersistentVolumeClaim/],
      ['edge frame store read-only', 'production', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.containers[0].volumeMounts.find((m) => m.name === 'frames').readOnly = true; }, /edge writes frames to FRAME_STORE .* read-only/],
      ['frame store ReadWriteOnce across GPU nodes', 'production', (o) => { find(o, 'PersistentVolumeClaim', 'edgefaas-frames').spec.accessModes = ['ReadWriteOnce']; }, /edgefaas-frames \(frame store\) is ReadWriteOnce: .* must be ReadWriteMany/],
      ['dev sets FRAME_STORE without a volume', 'dev', (o) => { find(o, 'ConfigMap', 'edgefaas-amqp').data.FRAME_STORE = '/var/lib/edgefaas/frames'; }, /Deployment\/edgefaas-edge-camera-01 container camera-01: FRAME_STORE \/var\/lib\/edgefaas\/frames is not a mounted volume/],
      ['frame-store claim left in an inline overlay', 'dev', (o) => { o.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'edgefaas-frames', namespace: 'edgefaas' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } }); }, /PersistentVolumeClaim edgefaas-frames is used by no pod/],
      ['password as a literal env value', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_AMQP_PASSWORD').valueFrom = undefined; find(o, 'Deployment', EDGE).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_AMQP_PASSWORD').value = 'x'; }, /literal value/],
      ['writable root filesystem', 'dev', (o) => { find(o, 'StatefulSet').spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem is not true/],
      ['capabilities not dropped', 'production', (o) => { find(o, 'Deployment', INF).spec.template.spec.containers[0].securityContext.capabilities.drop = ['NET_RAW']; }, /capabilities\.drop does not include ALL/],
      ['no resources', 'production', (o) => { delete find(o, 'Deployment', EDGE).spec.template.spec.containers[0].resources.limits; }, /resources\.limits\.cpu missing/],
      ['service account token mounted', 'production', (o) => { find(o, 'ServiceAccount', 'edgefaas-edge').automountServiceAccountToken = true; }, /ServiceAccount edgefaas-edge mounts its token/],
      ['launcher behind a shell', 'production', (o) => { const c = find(o, 'Deployment', INF).spec.template.spec.containers[0]; c.command = ['/bin/sh', '-c', 'edgefaas-launch']; }, /command must start with edgefaas-launch/],
      ['Deployment sets replicas', 'production', (o) => { find(o, 'Deployment', INF).spec.replicas = 1; }, /sets replicas/],
      ['no GPU in production', 'production', (o) => { delete find(o, 'Deployment', INF).spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']; }, /requests no nvidia\.com\/gpu/],
      ['quorum URL but classic dev queues', 'dev', (o) => { const d = find(o, 'ConfigMap', 'edgefaas-amqp').data; d.EDGEFAAS_AMQP_URL += '&queue_type=quorum'; }, /queue 'frames' is classic, the pipelines declare quorum/],
      ['queue without its DLX argument', 'production', (o) => { delete o.find((x) => x.kind === 'Queue' && x.spec.name === 'detections').spec.arguments; }, /queue 'detections' arguments \{\} differ/],
      ['exchange not topic', 'dev', (o) => { const cm = find(o, 'ConfigMap', 'rabbitmq-definitions'); cm.data['10-topology.json'] = cm.data['10-topology.json'].replace('"topic"', '"direct"'); }, /durable topic exchange/],
      ['DLX policy missing', 'production', (o) => { const i = o.findIndex((x) => x.kind === 'Policy' && x.spec.name === 'edgefaas-dlx-alerts'); o.splice(i, 1); }, /no policy applies to queue 'alerts'/],
      ['broker open to all pods', 'production', (o) => { find(o, 'NetworkPolicy', 'broker-ingress').spec.ingress[0].from = undefined; }, /AMQP 5672 open to everyone/],
      ['no default deny', 'dev', (o) => { o.splice(o.findIndex((x) => x.kind === 'NetworkPolicy' && x.metadata.name === 'default-deny'), 1); }, /no default-deny NetworkPolicy/],
      ['password in the AMQP URL', 'production', (o) => { find(o, 'ConfigMap', 'edgefaas-amqp').data.EDGEFAAS_AMQP_URL = 'amqp://edgefaas:hunter2@rabbitmq:5672/%2F'; }, /carries a password/],
      ['probe on the wrong port', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.containers[0].readinessProbe.httpGet.port = 8080; }, /readinessProbe must GET \/readyz on the --http-port 9464/],
      ['camera listed without a pipeline', 'production', (o) => { const d = find(o, 'ConfigMap', 'edgefaas-cameras').data; d['camera-02.id'] = 'cam02'; d['camera-02.uri'] = 'rtsp://c2/s'; d['camera-02.site'] = 'site-a'; }, /camera camera-02 has no pipeline/],
      ['two pipelines for one camera', 'dev', (o) => { const d = structuredClone(find(o, 'Deployment', EDGE)); d.metadata.name = 'edgefaas-edge-copy'; o.push(d); }, /camera camera-01 has 2 pipelines/],
      ['camera in a DaemonSet (every edge node runs it)', 'production', (o) => { const d = find(o, 'Deployment', EDGE); d.kind = 'DaemonSet'; delete d.spec.replicas; delete d.spec.strategy; }, /in a DaemonSet runs on every node/],
      ['camera Deployment with 2 replicas', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.replicas = 2; }, /camera camera-01 runs 2 replicas/],
      ['camera Deployment with RollingUpdate', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.strategy = { type: 'RollingUpdate' }; }, /strategy must be Recreate/],
      ['camera on the wrong site', 'production', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.nodeSelector['edgefaas.io/site'] = 'site-b'; }, /belongs to site 'site-a' but its nodeSelector edgefaas\.io\/site is 'site-b'/],
      ['camera id and uri keys of different cameras', 'dev', (o) => { const d = find(o, 'ConfigMap', 'edgefaas-cameras').data; d['camera-02.id'] = 'cam02'; d['camera-02.uri'] = 'x'; d['camera-02.site'] = 'dev'; find(o, 'Deployment', EDGE).spec.template.spec.containers[0].env.find((e) => e.name === 'CAMERA_URI').valueFrom.configMapKeyRef.key = 'camera-02.uri'; }, /CAMERA_ID is camera-01\.id but CAMERA_URI is 'camera-02\.uri'/],
      ['two cameras with one id', 'dev', (o) => { const d = find(o, 'ConfigMap', 'edgefaas-cameras').data; d['camera-02.id'] = 'cam01'; d['camera-02.site'] = 'dev'; }, /share the id 'cam01'/],
      ['second camera container in the same pod on the same port', 'dev', (o) => { const sp = find(o, 'Deployment', EDGE).spec.template.spec; const c = structuredClone(sp.containers[0]); c.name = 'camera-02'; sp.containers.push(c); }, /both listen on port 9464/],
      ['two launchers in a pod, one scrape port', 'dev', (o) => { const sp = find(o, 'Deployment', EDGE).spec.template.spec; const c = structuredClone(sp.containers[0]); c.name = 'camera-02'; c.args[1] = '9465'; c.ports[0].containerPort = 9465; sp.containers.push(c); }, /2 launchers in one pod but prometheus\.io\/port scrapes only one/],
      ['scrape annotation on the wrong port', 'production', (o) => { find(o, 'Deployment', INF).spec.template.metadata.annotations['prometheus.io/port'] = '9090'; }, /prometheus\.io\/port 9090 is not the launcher's --http-port 9464/],
      ['broker CLI ports blocked between peers', 'production', (o) => { for (const n of o.filter((x) => x.kind === 'NetworkPolicy' && /^broker-/.test(x.metadata.name))) for (const r of [...(n.spec.ingress ?? []), ...(n.spec.egress ?? [])]) r.ports = (r.ports ?? []).filter((p) => p.port !== 35672); }, /block broker -> broker egress on 35672/],
      ['broker cannot reach the Kubernetes API', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'broker-egress'); n.spec.egress = n.spec.egress.filter((r) => r.to); }, /block broker egress to the Kubernetes API/],
      ['epmd ingress between peers missing', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'broker-ingress'); n.spec.ingress = n.spec.ingress.filter((r) => !r.ports.some((p) => p.port === 4369)); }, /block broker <- broker ingress on 4369/],
      ['quorum members only preferably apart', 'production', (o) => { const a = find(o, 'RabbitmqCluster').spec.affinity.podAntiAffinity; a.preferredDuringSchedulingIgnoredDuringExecution = [{ weight: 100, podAffinityTerm: a.requiredDuringSchedulingIgnoredDuringExecution[0] }]; delete a.requiredDuringSchedulingIgnoredDuringExecution; }, /no required podAntiAffinity/],
      ['no broker PodDisruptionBudget', 'production', (o) => { o.splice(o.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'rabbitmq'), 1); }, /no PodDisruptionBudget: a node drain may evict two/],
      ['broker PodDisruptionBudget allowing 2 down', 'production', (o) => { find(o, 'PodDisruptionBudget', 'rabbitmq').spec.maxUnavailable = 2; }, /must keep a quorum/],
      ['edge without a spool dir', 'production', (o) => { const c = find(o, 'Deployment', EDGE).spec.template.spec.containers[0]; c.env = c.env.filter((e) => e.name !== 'EDGEFAAS_SPOOL_DIR'); }, /EDGEFAAS_SPOOL_DIR unset/],
      ['spool on the 64 Mi /tmp', 'dev', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_SPOOL_DIR').value = '/tmp/spool'; }, /spool volume tmp holds 67108864 bytes < 2 x spool-max-bytes 268435456/],
      ['spool emptyDir smaller than 2 x spool-max-bytes', 'production', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.volumes.find((v) => v.name === 'spool').emptyDir.sizeLimit = '256Mi'; }, /spool volume spool holds 268435456 bytes < 2 x spool-max-bytes/],
      ['spool dir on the read-only root', 'dev', (o) => { const c = find(o, 'Deployment', EDGE).spec.template.spec.containers[0]; c.volumeMounts = c.volumeMounts.filter((m) => m.name !== 'spool'); }, /EDGEFAAS_SPOOL_DIR \/var\/spool\/edgefaas is on the read-only root filesystem/],
      ['edge without --stall-timeout', 'dev', (o) => { const c = find(o, 'Deployment', EDGE).spec.template.spec.containers[0]; c.args = c.args.filter((a, i, all) => a !== '--stall-timeout' && all[i - 1] !== '--stall-timeout'); }, /no --stall-timeout: a camera that stops/],
      ['inference with --stall-timeout', 'production', (o) => { const c = find(o, 'Deployment', INF).spec.template.spec.containers[0]; c.args.splice(0, 0, '--stall-timeout', '30'); }, /--stall-timeout 30 on inference/],
      ['grace period without margin over the drain', 'production', (o) => { find(o, 'Deployment', INF).spec.template.spec.terminationGracePeriodSeconds = 35; }, /terminationGracePeriodSeconds 35 < --drain-timeout 30 \+ 10 s margin/],
      ['ScaledJob image not rewritten by images:', 'scaledjob', (o) => { find(o, 'ScaledJob').spec.jobTargetRef.template.spec.containers[0].image = 'edgefaas-inference'; }, /image 'edgefaas-inference' is not rewritten to a registry with a pinned tag/],
      ['edge image on latest', 'production', (o) => { find(o, 'Deployment', EDGE).spec.template.spec.containers[0].image = 'registry.example.com/edgefaas/edgefaas-edge:latest'; }, /is not rewritten to a registry with a pinned tag/],
      ['camera over rtsp:// (UDP transport blocked)', 'production', (o) => { find(o, 'ConfigMap', 'edgefaas-cameras').data['camera-01.uri'] = 'rtsp://cam/s'; }, /camera-01\.uri uses rtsp:\/\/: RTSP may negotiate RTP over UDP/],
      ['camera on a port the edge may not open', 'production', (o) => { find(o, 'ConfigMap', 'edgefaas-cameras').data['camera-01.uri'] = 'rtspt://cam:7447/s'; }, /camera-01\.uri port 7447: no NetworkPolicy lets the edge open TCP 7447/],
      ['dev camera Service missing', 'dev', (o) => { o.splice(o.findIndex((x) => x.kind === 'Service' && x.metadata.name === 'dev-camera'), 1); }, /points at the in-cluster Service 'dev-camera', which is not in the overlay/],
      ['models claim ReadOnlyMany', 'production', (o) => { find(o, 'PersistentVolumeClaim', 'edgefaas-models').spec.accessModes = ['ReadOnlyMany']; }, /edgefaas-models is ReadOnlyMany: most StorageClasses cannot provision it/],
      ['models claim ReadWriteOnce across GPU nodes', 'keda-2.3', (o) => { find(o, 'PersistentVolumeClaim', 'edgefaas-models').spec.accessModes = ['ReadWriteOnce']; }, /edgefaas-models is ReadWriteOnce: inference pods on several GPU nodes/],
      ['models mounted read-write by inference', 'dev', (o) => { find(o, 'Deployment', INF).spec.template.spec.containers[0].volumeMounts.find((m) => m.name === 'models').readOnly = false; }, /model claim edgefaas-models is not mounted read-only/],
      ['KEDA 2.3 overlay without an upper Kubernetes bound', 'keda-2.3', (o) => { find(o, 'ScaledObject').metadata.annotations['edgefaas.io/kubernetes-versions'] = '>=1.16'; }, /allows Kubernetes 1\.26\+, which no longer serves autoscaling\/v2beta2/],
      ['current KEDA claimed for Kubernetes 1.20', 'production', (o) => { find(o, 'ScaledObject').metadata.annotations['edgefaas.io/kubernetes-versions'] = '>=1.20'; }, /allows Kubernetes before 1\.23, which does not serve autoscaling\/v2/],
      ['scaler without a Kubernetes range', 'dev', (o) => { delete find(o, 'ScaledObject').metadata.annotations; }, /no edgefaas\.io\/kubernetes-versions annotation/],
      ['DNS over TCP blocked', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'allow-dns'); n.spec.egress[0].ports = n.spec.egress[0].ports.filter((p) => p.protocol !== 'TCP'); }, /NetworkPolicies block DNS \(TCP 53 to kube-dns/],
      ['Prometheus cannot scrape the launchers', 'dev', (o) => { const n = find(o, 'NetworkPolicy', 'launchers-to-broker'); delete n.spec.ingress; n.spec.policyTypes = ['Egress', 'Ingress']; }, /announces \/metrics on 9464 but no NetworkPolicy lets Prometheus/],
      ['KEDA cannot reach the management API', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'broker-ingress'); n.spec.ingress = n.spec.ingress.filter((r) => !r.ports.some((p) => p.port === 15672)); }, /no NetworkPolicy lets KEDA's operator \(namespace keda\) reach the broker on 15672/],
      ['no seccomp profile', 'dev', (o) => { delete find(o, 'Deployment', EDGE).spec.template.spec.securityContext.seccompProfile; }, /container camera-01: seccompProfile is not RuntimeDefault/],
      ['GStreamer registry on the read-only root', 'production', (o) => { find(o, 'Deployment', INF).spec.template.spec.containers[0].env.find((e) => e.name === 'GST_REGISTRY_1_0').value = '/var/cache/gst.bin'; }, /GST_REGISTRY_1_0 \/var\/cache\/gst\.bin is not on a writable emptyDir/],
      ['PDB minAvailable on inference (blocks drains at 0/1 replica)', 'production', (o) => { o.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'inf', namespace: 'edgefaas' }, spec: { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'edgefaas-inference' } } } }); }, /minAvailable on inference pods/],
      ['PodMonitor on a port name the launchers lack', 'monitoring', (o) => { find(o, 'PodMonitor').spec.podMetricsEndpoints[0].port = 'metrics'; }, /has no container port named 'metrics'/],
      ['alert on a metric the launcher does not export', 'monitoring', (o) => { find(o, 'PrometheusRule').spec.groups[0].rules[1].expr = 'edgefaas_seconds_since_last_frame > 60'; }, /metric edgefaas_seconds_since_last_frame is not exported by edgefaas-launch/],
      ['keda user without a vhost Permission', 'production', (o) => { o.splice(o.findIndex((x) => x.kind === 'Permission' && x.metadata.name === 'keda'), 1); }, /User keda has no Permission on vhost '\/'/],
      ['no KEDA fallback (scaler error = silent zero)', 'production', (o) => { delete find(o, 'ScaledObject').spec.fallback; }, /no fallback: a scaler error/],
      ['fallback with a Value metric (ignored by KEDA)', 'dev', (o) => { find(o, 'ScaledObject').spec.triggers[0].metricType = 'Value'; }, /fallback is ignored for triggers with metricType Value/],
      ['fallback beyond maxReplicaCount', 'dev', (o) => { find(o, 'ScaledObject').spec.fallback.replicas = 3; }, /fallback\.replicas 3 not within 1\.\.maxReplicaCount/],
      // The analytics stage (issue 10): one owner per camera, its own queue.
      ['analytics with 2 replicas', 'production', (o) => { find(o, 'Deployment', ANA).spec.replicas = 2; }, /analytics Deployment has replicas 2, must be exactly 1/],
      ['analytics replicas unset (kubectl scale / an HPA may change it)', 'monitoring', (o) => { delete find(o, 'Deployment', ANA).spec.replicas; }, /analytics Deployment has replicas \(unset\), must be exactly 1/],
      ['analytics with RollingUpdate', 'production', (o) => { find(o, 'Deployment', ANA).spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }; }, /analytics Deployment strategy must be Recreate/],
      ['analytics in a DaemonSet', 'production', (o) => { const d = find(o, 'Deployment', ANA); d.kind = 'DaemonSet'; delete d.spec.replicas; delete d.spec.strategy; }, /the analytics stage runs in a DaemonSet/],
      ['analytics scaled by KEDA', 'production', (o) => { const s = structuredClone(find(o, 'ScaledObject')); s.metadata.name = 'ana'; s.spec.scaleTargetRef.name = ANA; o.push(s); }, /ScaledObject\/ana scales the analytics stage/],
      ['two analytics Deployments on one queue', 'production', (o) => { const d = structuredClone(find(o, 'Deployment', ANA)); d.metadata.name = 'edgefaas-analytics-b'; o.push(d); }, /analytics queue 'analytics' has 2 consumers/],
      ['analytics queue missing from the broker topology', 'production', (o) => { o.splice(o.findIndex((x) => x.kind === 'Queue' && x.spec.name === 'analytics'), 1); }, /topology CRs: queue 'analytics' missing/],
      ['analytics queue renamed in the Deployment only', 'keda-2.3', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_ANALYTICS_QUEUE').value = 'analytics-a'; }, /topology CRs: queue 'analytics' \(bound with 'detections\.#'\) has no consumer in the overlay/],
      ['analytics queue renamed: the new name is not in the topology', 'keda-2.3', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_ANALYTICS_QUEUE').value = 'analytics-a'; }, /topology CRs: queue 'analytics-a' missing/],
      ['analytics binding differs from the topology', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'ANALYTICS_BINDING').value = 'detections.cam01'; }, /binding of 'analytics' has key 'detections\.#', but .* binds it with ANALYTICS_BINDING 'detections\.cam01'/],
      ['analytics bound to frames', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'ANALYTICS_BINDING').value = 'frames.#'; }, /ANALYTICS_BINDING 'frames\.#' does not match the detection events' routing keys/],
      ['analytics consuming the shared detections queue', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'EDGEFAAS_ANALYTICS_QUEUE').value = 'detections'; }, /EDGEFAAS_ANALYTICS_QUEUE 'detections' is a shared work queue/],
      ['analytics queue declared in dev, where nothing consumes it', 'dev', (o) => { const cm = find(o, 'ConfigMap', 'rabbitmq-definitions'); const j = JSON.parse(cm.data['10-topology.json']); j.queues.push({ name: 'analytics', vhost: '/', durable: true, auto_delete: false, arguments: {} }); j.bindings.push({ source: 'edgefaas', vhost: '/', destination: 'analytics', destination_type: 'queue', routing_key: 'detections.#', arguments: {} }); cm.data['10-topology.json'] = JSON.stringify(j); }, /rabbitmq-definitions: queue 'analytics' \(bound with 'detections\.#'\) has no consumer in the overlay/],
      ['analytics in the inline dev overlay (no frame store)', 'dev', (o) => { for (const x of rendered.get('production').filter((y) => /analytics|situations/.test(y.metadata.name))) o.push(structuredClone(x)); }, /edgefaas-analytics container analytics: analytics\.pipeline needs \$\{FRAME_STORE\}/],
      ['analytics pipeline variable not provided', 'production', (o) => { const c = find(o, 'Deployment', ANA).spec.template.spec.containers[0]; c.env = c.env.filter((e) => e.name !== 'SITUATION_RULES'); }, /analytics\.pipeline needs \$\{SITUATION_RULES\} but the container does not set it/],
      ['analytics env var its pipeline never reads', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.push({ name: 'ANALYTICS_REORDER', value: '500' }); }, /sets ANALYTICS_REORDER, but analytics\.pipeline does not read it/],
      ['analytics snapshots read-only', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].volumeMounts.find((m) => m.subPath === 'snapshots').readOnly = true; }, /SNAPSHOT_DIR \/var\/lib\/edgefaas\/frames\/snapshots is mounted read-only/],
      ['analytics snapshots on an emptyDir', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'SNAPSHOT_DIR').value = '/tmp/snapshots'; }, /SNAPSHOT_DIR \/tmp\/snapshots is on volume tmp, not a PersistentVolumeClaim/],
      ['analytics snapshots on the read-only root', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].env.find((e) => e.name === 'SNAPSHOT_DIR').value = '/var/snapshots'; }, /SNAPSHOT_DIR \/var\/snapshots is on the read-only root filesystem/],
      ['analytics frame store read-write', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].volumeMounts.find((m) => m.mountPath === '/var/lib/edgefaas/frames').readOnly = false; }, /FRAME_STORE \/var\/lib\/edgefaas\/frames is mounted read-write: the analytics stage only reads frames/],
      ['analytics rules ConfigMap edited away from the shipped file', 'production', (o) => { find(o, 'ConfigMap', 'edgefaas-situations').data['coco.conf'] += '\n[situation:extra]\n'; }, /ConfigMap edgefaas-situations key coco\.conf differs from pipelines\/situations\/coco\.conf/],
      ['analytics rules not mounted', 'production', (o) => { const c = find(o, 'Deployment', ANA).spec.template.spec.containers[0]; c.volumeMounts = c.volumeMounts.filter((m) => m.name !== 'situations'); }, /SITUATION_RULES \/etc\/edgefaas\/situations\/coco\.conf is not in a mounted ConfigMap/],
      ['analytics rules key missing', 'production', (o) => { const d = find(o, 'ConfigMap', 'edgefaas-situations').data; d['fire.conf'] = d['coco.conf']; delete d['coco.conf']; }, /ConfigMap edgefaas-situations has no key 'coco\.conf'/],
      ['analytics with --stall-timeout', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].args.splice(0, 0, '--stall-timeout', '30'); }, /--stall-timeout 30 on analytics: an empty detection queue/],
      ['analytics cannot reach the broker', 'production', (o) => { const n = find(o, 'NetworkPolicy', 'broker-ingress'); n.spec.ingress[0].from = n.spec.ingress[0].from.filter((f) => f.podSelector.matchLabels['app.kubernetes.io/component'] !== 'analytics'); }, /Deployment\/edgefaas-analytics: no NetworkPolicy lets it reach the broker on 5672/],
      ['Prometheus cannot scrape analytics', 'production', (o) => { delete find(o, 'NetworkPolicy', 'analytics').spec.ingress; }, /Deployment\/edgefaas-analytics: announces \/metrics on 9466 but no NetworkPolicy lets Prometheus/],
      ['analytics probe on the wrong path', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.containers[0].livenessProbe.httpGet.path = '/readyz'; }, /container analytics: livenessProbe must GET \/healthz on the --http-port 9466/],
      ['analytics grace period shorter than the drain', 'production', (o) => { find(o, 'Deployment', ANA).spec.template.spec.terminationGracePeriodSeconds = 30; }, /container analytics: terminationGracePeriodSeconds 30 < --drain-timeout 30 \+ 10 s margin/],
      ['analytics ServiceAccount with token', 'production', (o) => { find(o, 'ServiceAccount', 'edgefaas-analytics').automountServiceAccountToken = true; }, /ServiceAccount edgefaas-analytics mounts its token/],
      // Regions (overlays/regions, k8s/regions/<region>).
      ['a camera of an unknown region', 'regions', (o) => { find(o, 'ConfigMap', 'edgefaas-cameras').data['camera-01.region'] = 'west'; }, /camera camera-01 belongs to region 'west', which is not a region of the overlay \(central, north, south\)/],
      ['a camera without a region', 'production', (o) => { delete find(o, 'ConfigMap', 'edgefaas-cameras').data['camera-01.region']; }, /camera camera-01 has no camera-01\.region/],
      ['a region without its node selector', 'regions', (o) => { delete find(o, 'Deployment', 'edgefaas-inference-north').spec.template.spec.nodeSelector['topology.kubernetes.io/region']; }, /edgefaas-inference-north: region 'north' is not pinned to its nodes \(nodeSelector topology\.kubernetes\.io\/region: north, got none\)/],
      ['a region queue without its ScaledObject', 'regions', (o) => { o.splice(o.indexOf(find(o, 'ScaledObject', 'edgefaas-inference-south')), 1); }, /edgefaas-inference-south: region 'south' has 0 ScaledObjects \(needs one, on frames-south\)/],
      ['a region ScaledObject on the central queue', 'regions', (o) => { find(o, 'ScaledObject', 'edgefaas-inference-north').spec.triggers[0].metadata.queueName = 'frames'; }, /ScaledObject\/edgefaas-inference-north: trigger on queue 'frames', region 'north' consumes frames-north/],
      ['a region queue without the spill bound', 'regions', (o) => { delete find(o, 'Queue', 'region-frames-north').spec.arguments['x-message-ttl']; }, /region queue 'frames-north' has no x-message-ttl/],
      ['a region queue dead-lettering to its poison exchange', 'regions', (o) => { find(o, 'Queue', 'region-frames-north').spec.arguments['x-dead-letter-exchange'] = 'frames-north.dlx'; }, /region queue 'frames-north' dead-letters to 'frames-north\.dlx', not the spill exchange edgefaas\.spill/],
      ['a quorum region queue with at-most-once dead-lettering', 'regions', (o) => { delete find(o, 'Queue', 'region-frames-south').spec.arguments['x-overflow']; }, /region queue 'frames-south' \(quorum\) needs x-dead-letter-strategy at-least-once and x-overflow reject-publish/],
      ['the spill not bound to the central queue', 'regions', (o) => { o.splice(o.indexOf(find(o, 'Binding', 'edgefaas-spill-binding')), 1); }, /edgefaas\.spill is not bound to the central queue 'frames'/],
      ['the spill as a headers exchange (x- headers are never matched)', 'regions', (o) => { find(o, 'Exchange', 'edgefaas-spill').spec.type = 'headers'; }, /spill exchange edgefaas\.spill \(fanout\) missing/],
      ['the central queue still bound with frames.#', 'regions', (o) => { find(o, 'Binding', 'frames-binding').spec.routingKey = 'frames.#'; }, /central frame queue 'frames' is bound with 'frames\.#' besides the regions' queues/],
      ['a region replica that declares its queue', 'regions', (o) => { const e = find(o, 'Deployment', 'edgefaas-inference-north').spec.template.spec.containers[0].env; e.splice(e.findIndex((x) => x.name === 'EDGEFAAS_DECLARE'), 1); find(o, 'ConfigMap', 'edgefaas-amqp').data.EDGEFAAS_DECLARE = 'true'; }, /edgefaas-inference-north: EDGEFAAS_DECLARE is not "false"/],
      ['a region camera that declares its queue', 'regions', (o) => { find(o, 'ConfigMap', 'edgefaas-amqp').data.EDGEFAAS_DECLARE = 'true'; }, /camera of region 'north' declares its queue/],
      ['two regions selecting each other\'s pods', 'regions', (o) => { delete find(o, 'Deployment', 'edgefaas-inference-south').spec.selector.matchLabels['edgefaas.io/region']; }, /edgefaas-inference-south: selector does not include edgefaas\.io\/region: south/],
    ];
    for (const [name, ov, edit, re] of ccases) {
      test(`consistency rejects: ${name} (${ov})`, () => assertErrorMatching(broken(ov, edit), re, name));
    }
  },

  consistency() {
    const secrets = secretsCtx();
    for (const ov of OVERLAYS) {
      test(`consistency ${ov}: pipelines, secrets, KEDA, broker topology, security, NetworkPolicies`, () => {
        assertNoErrors(mods.consistency.checkOverlay(rendered.get(ov), ctxFor(ov, secrets)), ov);
      });
    }
    test('pipeline files parsed: required variables found (guards the parser)', () => {
      const edge = mods.consistency.pipelineVariables(fs.readFileSync(path.join(root, 'pipelines/edge.pipeline'), 'utf8'));
      const inf = mods.consistency.pipelineVariables(fs.readFileSync(path.join(root, 'pipelines/inference.pipeline'), 'utf8'));
      for (const v of ['CAMERA_ID', 'CAMERA_URI', 'EDGEFAAS_AMQP_URL']) assert(edge.required.has(v), `edge: ${v} not required`);
      for (const v of ['EDGEFAAS_AMQP_URL']) assert(inf.required.has(v), `inference: ${v} not required`);
      assert(inf.optional.has('EDGEFAAS_PREFETCH'), 'inference: EDGEFAAS_PREFETCH not seen');
      // FRAME_STORE selects the frame mode: optional on both sides (unset = inline).
      assert(edge.optional.has('FRAME_STORE') && !edge.required.has('FRAME_STORE'), 'edge: FRAME_STORE not optional');
      assert(inf.optional.has('FRAME_STORE') && !inf.required.has('FRAME_STORE'), 'inference: FRAME_STORE not optional');
    });
    // The frame mode of each overlay (issue 7): dev sends frames inline, production
    // and its variants share a ReadWriteMany frame store between edge and inference.
    const launchers = (objs) => mods.consistency.podSpecs(objs).flatMap(({ spec, labels, where }) =>
      spec.containers.filter((c) => (c.args ?? []).some((a) => a.endsWith('.pipeline'))).map((c) => {
        const env = new Map();
        for (const ef of c.envFrom ?? []) Object.entries(objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ef.configMapRef.name).data).forEach(([k, v]) => env.set(k, v));
        for (const e of c.env ?? []) env.set(e.name, e.value);
        const vols = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
        return { where: `${where}/${c.name}`, component: labels['app.kubernetes.io/component'], env, c, vols };
      }));
    test('frame mode dev: inline — no FRAME_STORE, no frame-store volume or claim, on edge and inference', () => {
      const objs = rendered.get('dev');
      const ls = launchers(objs);
      assert(ls.some((l) => l.component === 'edge') && ls.some((l) => l.component === 'inference'), 'edge and inference launchers not found');
      for (const l of ls) {
        assert(!l.env.has('FRAME_STORE'), `${l.where} sets FRAME_STORE=${l.env.get('FRAME_STORE')}`);
        for (const m of l.c.volumeMounts ?? []) assert(m.name !== 'frames' && !m.mountPath.includes('frames'), `${l.where} mounts ${m.mountPath}`);
        for (const v of l.vols.values()) assert(v.persistentVolumeClaim?.claimName !== 'edgefaas-frames', `${l.where} has volume ${v.name} from edgefaas-frames`);
      }
      assert(!objs.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'edgefaas-frames'), 'PVC edgefaas-frames still in dev');
    });
    for (const ov of OVERLAYS.filter((o) => o !== 'dev')) {
      test(`frame mode ${ov}: shared store — FRAME_STORE on edge and inference, equal, mounted from one RWX claim`, () => {
        const objs = rendered.get(ov);
        const ls = launchers(objs);
        const edge = ls.filter((l) => l.component === 'edge'), inf = ls.filter((l) => l.component === 'inference');
        assert(edge.length >= 1 && inf.length >= 1, 'edge and inference launchers not found');
        const paths = new Set(), claims = new Set();
        for (const l of ls) {
          const p = l.env.get('FRAME_STORE');
          assert(p && p.startsWith('/'), `${l.where}: FRAME_STORE '${p}'`);
          paths.add(p);
          const m = (l.c.volumeMounts ?? []).find((x) => x.mountPath === p);
          assert(m, `${l.where}: nothing mounted at ${p}`);
          const claim = l.vols.get(m.name)?.persistentVolumeClaim?.claimName;
          assert(claim, `${l.where}: ${p} is not a PVC`);
          claims.add(claim);
          if (l.component === 'edge') assert(!m.readOnly, `${l.where}: edge mount read-only`);
        }
        assert(paths.size === 1, `FRAME_STORE differs: ${[...paths].join(' ')}`);
        assert(claims.size === 1, `claims differ: ${[...claims].join(' ')}`);
        const pvc = objs.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === [...claims][0]);
        assert(pvc?.spec.accessModes.includes('ReadWriteMany'), `${[...claims][0]} not ReadWriteMany`);
      });
    }
    test('docs pin operator versions whose RabbitMQ pods pass Pod Security restricted (Cluster Operator >= 2.17.0, Topology Operator >= 1.18.0)', () => {
      const doc = fs.readFileSync(path.join(root, 'docs/deploy-kubernetes.md'), 'utf8');
      const ver = (repo) => [...doc.matchAll(new RegExp(`github\\.com/rabbitmq/${repo}/releases/(?:latest/)?download/([^/\\s]*)/`, 'g'))].map((m) => m[1]);
      const ge = (v, min) => { const a = v.replace(/^v/, '').split('.').map(Number), b = min.split('.').map(Number); for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i]; return true; };
      for (const [repo, min] of [['cluster-operator', '2.17.0'], ['messaging-topology-operator', '1.18.0']]) {
        const vs = ver(repo);
        assert(vs.length >= 1, `docs install no ${repo} release`);
        for (const v of vs) assert(/^v\d+\.\d+\.\d+$/.test(v) && ge(v, min), `${repo} '${v}' is not a pinned version >= ${min}`);
      }
      assert(!/rabbitmq\/(cluster|messaging-topology)-operator\/releases\/latest/.test(doc), 'an operator installed from releases/latest');
    });
    for (const ov of ['dev', 'production']) {
      test(`load-models.sh --print (${ov}): a restricted loader Pod mounting the overlay's model claim read-write, valid and consistent with the overlay`, async () => {
        const out = execFileSync(path.join(tools, 'load-models.sh'), ['--print', '--image', 'registry.example.com/edgefaas/edgefaas-inference:0.1.0'], { encoding: 'utf8' });
        const pod = mods.YAML.parse(out);
        assertNoErrors(await mods.schema.validateObject(pod), 'loader schema');
        const m = pod.spec.containers[0].volumeMounts.find((x) => x.mountPath === '/models');
        const v = pod.spec.volumes.find((x) => x.name === m?.name);
        assert(m && !m.readOnly && v?.persistentVolumeClaim && !v.persistentVolumeClaim.readOnly, 'loader does not mount /models read-write from a claim');
        const objs = [...structuredClone(rendered.get(ov)), pod];
        assert(objs.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === v.persistentVolumeClaim.claimName), `claim ${v.persistentVolumeClaim.claimName} not in ${ov}`);
        assertNoErrors(mods.consistency.checkOverlay(objs, ctxFor(ov, secrets)), `${ov} + loader`);
        const r = spawnSync(path.join(tools, 'load-models.sh'), ['/nonexistent-dir'], { encoding: 'utf8' });
        assert(r.status === 2 && /not a directory/.test(r.stderr), `bad MODEL_DIR: ${r.status} ${r.stderr}`);
      });
    }
    test('make-secrets.sh: fresh random passwords, RabbitMQ SHA-256 hashes that verify', async () => {
      const a = makeSecrets(), b = makeSecrets();
      const pw = (ss) => ss.find((s) => s.metadata.name === 'edgefaas-amqp-credentials').stringData.password;
      assert(pw(a) !== pw(b) && pw(a).length >= 32, 'passwords not random/long');
      const crypto = await import('node:crypto');
      const users = JSON.parse(a.find((s) => s.metadata.name === 'edgefaas-rabbitmq-users').stringData['20-users.json']);
      const keda = a.find((s) => s.metadata.name === 'edgefaas-keda-credentials').stringData;
      for (const [user, pass] of [['edgefaas', pw(a)], ['keda', keda.password]]) {
        const u = users.users.find((x) => x.name === user);
        const raw = Buffer.from(u.password_hash, 'base64');
        const want = crypto.createHash('sha256').update(Buffer.concat([raw.subarray(0, 4), Buffer.from(pass)])).digest();
        assert(raw.length === 36 && want.equals(raw.subarray(4)), `${user}: hash does not verify`);
      }
      assert(keda.host === `http://keda:${keda.password}@rabbitmq.edgefaas.svc:15672/`, 'keda host URL');
      assert(users.users.find((x) => x.name === 'keda').tags.includes('monitoring'), 'keda user lacks monitoring tag');
      const kp = users.permissions.find((x) => x.user === 'keda');
      assert(kp && kp.vhost === '/' && kp.configure === '' && kp.write === '' && kp.read === '', `keda needs a vhost entry with empty regexes, got ${JSON.stringify(kp)}`);
    });
  },

  containers() {
    const deps = fs.readFileSync(path.join(root, 'scripts/deps.txt'), 'utf8').split('\n')
      .map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    const group = (g) => deps.filter((d) => d[0] === g).map((d) => d[1]);
    const cf = (n) => fs.readFileSync(path.join(root, 'k8s/containers', n), 'utf8');
    for (const [file, kind] of [['Containerfile.edge', 'edge'], ['Containerfile.gpu', 'gpu']]) {
      test(`${file}: multi-stage, deps from scripts/install-deps.sh groups, non-root, launcher PID 1, no weights`, () => {
        const text = cf(file);
        const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        const froms = lines.filter((l) => /^FROM\s/i.test(l));
        assert(froms.length >= 2, 'not multi-stage');
        const runs = lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
        assert(!/apt-get\s+install[^\n]*\b(libgstreamer|gstreamer1\.0|librabbitmq|libopencv)/.test(runs), 'installs Debian packages by name instead of through scripts/install-deps.sh');
        const used = [...runs.matchAll(/install-deps\.sh((?:\s+[a-z][a-z0-9-]*)+)/g)].flatMap((m) => m[1].trim().split(/\s+/));
        assert(used.length >= 2, `install-deps.sh groups used: ${used.join(' ')}`);
        for (const g of used) assert(group(g).length > 0, `group '${g}' is not in scripts/deps.txt`);
        const runtimeGroups = used.filter((g) => g.endsWith('-runtime'));
        assert(runtimeGroups.length >= 1, 'final stage installs no *-runtime group');
        const runtimePkgs = runtimeGroups.flatMap(group);
        if (kind === 'edge') {
          for (const p of runtimePkgs) assert(!/opencv|darknet|cuda/.test(p), `edge runtime pulls ${p}`);
          assert(!runs.includes('-Dopencv=enabled') && /-Dopencv=disabled/.test(runs) && /-Ddarknet=disabled/.test(runs), 'edge build must disable opencv and darknet');
        } else {
          assert(/-Ddarknet=enabled|-Dopencv=enabled/.test(runs), 'gpu build enables no inference backend');
          assert(/cuda/i.test(froms.join(' ')) || /cuda/i.test(runs), 'no CUDA runtime');
        }
        const user = lines.filter((l) => /^USER\s/i.test(l)).pop();
        assert(user && /^USER\s+10001(:10001)?$/.test(user), `final USER is '${user}', want 10001 (matches runAsUser)`);
        const ep = lines.filter((l) => /^ENTRYPOINT\s/i.test(l)).pop();
        assert(ep && /^ENTRYPOINT\s+\[\s*"(\/usr\/local\/bin\/)?edgefaas-launch"/.test(ep), `ENTRYPOINT not exec form edgefaas-launch: ${ep}`);
        assert(/COPY[^\n]*pipelines\/?[^\n]*\/usr\/share\/edgefaas\/pipelines/.test(lines.join('\n')), 'pipelines not installed in /usr/share/edgefaas/pipelines');
        assert(!/\.weights\b/.test(lines.filter((l) => /^(COPY|ADD)\s/i.test(l)).join(' ')), 'model weights copied into the image');
      });
    }
    test('files the manifests expect inside the images are installed by the Containerfiles', () => {
      const errs = [];
      for (const ov of OVERLAYS) {
        for (const o of rendered.get(ov)) {
          const t = o.kind === 'ScaledJob' ? o.spec.jobTargetRef.template : o.spec?.template;
          for (const c of t?.spec?.containers ?? []) {
            const comp = t.metadata?.labels?.['app.kubernetes.io/component'];
            if (!['edge', 'inference', 'analytics'].includes(comp)) continue;
            // analytics runs the inference image (its plugin set includes edgefaasanalytics).
            const text = cf(comp === 'edge' ? 'Containerfile.edge' : 'Containerfile.gpu');
            const paths = [...(c.args ?? []), ...(c.env ?? []).map((e) => e.value ?? '')].filter((v) => v.startsWith('/usr/share/edgefaas/'));
            for (const p of paths) {
              const dir = path.dirname(p) + '/';
              const copied = [...text.matchAll(/^COPY\s+(?:--from=\S+\s+)?(\S+)\s+(\S+)$/gm)]
                .some(([, src, dst]) => dst === p || (dst === dir && (src.endsWith(path.basename(p)) || src.includes('*'))));
              if (!copied) errs.push(`${ov}: ${o.kind}/${o.metadata.name} uses ${p}, not installed by the ${comp} Containerfile`);
              const srcFile = p.replace('/usr/share/edgefaas/pipelines/', 'pipelines/').replace('/usr/share/edgefaas/situations.conf', 'plugins/yolo/situations.conf');
              if (!fs.existsSync(path.join(root, srcFile))) errs.push(`${ov}: ${p}: source ${srcFile} missing in the repository`);
            }
          }
        }
      }
      assertNoErrors(errs, 'image files');
    });
    test('deps.txt: every package of the container groups is a real Debian package (apt-cache)', () => {
      const groups = new Set(deps.map((d) => d[0]).filter((g) => /^(edge|gpu)-/.test(g)));
      assert(groups.size >= 3, `container groups: ${[...groups].join(' ')}`);
      const pkgs = [...new Set([...groups].flatMap(group))];
      const r = spawnSync('apt-cache', ['show', '--no-all-versions', ...pkgs], { encoding: 'utf8' });
      const found = new Set([...r.stdout.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]));
      const missing = pkgs.filter((p) => !found.has(p));
      assertNoErrors(missing.map((p) => `unknown package ${p}`), 'apt-cache');
    });
  },
};

const which = process.argv[2];
if (!suites[which]) { console.error(`usage: k8s-test.mjs ${Object.keys(suites).join('|')}`); process.exit(2); }
await suites[which]();
await run();
