// The regions' broker topology on a real broker (TAP):
//   edgefaas-broker --management -- node tests/k8s/broker-regions.mjs regions
// Loads the overlay's own topology (Topology Operator CRs -> definitions, as
// broker-keda.mjs), then, through the management API:
//  - a frame published as frames.<region>.<camera> waits in frames-<region> only
//    (not in the central queue: its binding is frames.central.#);
//  - after the region queue's x-message-ttl it is in the central queue, with
//    x-first-death-reason "expired" (the spill), body intact;
//  - a message rejected without requeue in a region queue (amqpsrc's fallback for
//    poison when <queue>.dlx is missing) also reaches the central queue (RabbitMQ
//    cannot route dead letters by reason: a headers exchange ignores x- headers),
//    told apart by x-first-death-reason "rejected";
//  - frames.<unknown>.<camera> is unroutable (routed: false).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = process.env.EDGEFAAS_SOURCE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tools = path.join(root, 'k8s/tools');
const overlay = process.argv[2];

const results = [];
let failed = 0, count = 0;
const ok = (cond, name, detail = '') => {
  results.push(`${cond ? 'ok' : 'not ok'} ${++count} - ${name}`);
  if (!cond) { failed++; for (const l of String(detail).split('\n')) results.push(`# ${l}`); }
  return cond;
};
const finish = () => {
  console.log('TAP version 13');
  console.log(`1..${count}`);
  console.log(results.join('\n'));
  process.exit(failed ? 1 : 0);
};
const bail = (msg) => { ok(false, msg); finish(); };

const port = Number(process.env.EF_BROKER_MGMT_PORT ?? 0);
if (!overlay || !fs.existsSync(path.join(root, 'k8s/overlays', overlay))) bail(`usage: broker-regions.mjs OVERLAY (got '${overlay}')`);
if (!port) bail('EF_BROKER_MGMT_PORT unset: run under edgefaas-broker --management');
const admin = [new URL(process.env.EF_BROKER_URL).username, process.env.EDGEFAAS_AMQP_PASSWORD];

const { render } = await import(path.join(tools, 'kustomize.mjs'));
const { brokerDefinitions } = await import(path.join(tools, 'definitions.mjs'));
const YAML = (await import(path.join(tools, 'node_modules/yaml/dist/index.js'))).default;

const objs = render(path.join(root, 'k8s/overlays', overlay));
const secrets = YAML.parseAllDocuments(execFileSync(path.join(tools, 'make-secrets.sh'), { encoding: 'utf8' })).map((d) => d.toJS()).filter(Boolean);
const defs = brokerDefinitions(objs, secrets);
const amqp = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'edgefaas-amqp').data;
const central = amqp.EDGEFAAS_FRAME_QUEUE;
const regionNames = [...new Set(objs.filter((o) => o.kind === 'Deployment').map((o) => o.spec.template.metadata?.labels?.['edgefaas.io/region']).filter(Boolean))];
if (!regionNames.length) bail(`overlay ${overlay} has no regions`);
const region = regionNames[0];
const rq = `frames-${region}`;
const ttl = Number(defs.topology.queues.find((q) => q.name === rq)?.arguments?.['x-message-ttl']);
if (!(ttl > 0 && ttl <= 30000)) bail(`${rq}: x-message-ttl ${ttl} is not a bound this test can wait for (0 < ttl <= 30 s)`);

const base = `http://127.0.0.1:${port}`;
async function api(method, p, body) {
  const r = await fetch(base + p, { method, headers: { Authorization: `Basic ${Buffer.from(admin.join(':')).toString('base64')}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}
const q = (name) => encodeURIComponent(name);
const vhost = '%2F';
// Counted by getting (messages_ready of the management API lags by its stats interval).
const take = async (name, ackmode) => (await api('POST', `/api/queues/${vhost}/${q(name)}/get`, { count: 10, ackmode, encoding: 'auto' })).json ?? [];
const publish = (key, payload) => api('POST', `/api/exchanges/${vhost}/${q(amqp.EDGEFAAS_EXCHANGE)}/publish`,
  { properties: { delivery_mode: 2 }, routing_key: key, payload, payload_encoding: 'string' });
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

let r = await api('POST', '/api/definitions', defs.topology);
ok(r.status === 201 || r.status === 204, `${defs.source}: topology loaded (${defs.topology.queues.length} queues; regions ${regionNames.join(', ')})`, `${r.status} ${r.text}`);

// 1. routed to the region queue only
r = await publish(`frames.${region}.cam-r`, 'frame-1');
ok(r.json?.routed === true, `frames.${region}.cam-r is routed`, r.text);
let inRegion = await take(rq, 'ack_requeue_true');
let inCentral = await take(central, 'ack_requeue_true');
ok(inRegion.length === 1 && inCentral.length === 0, `the frame waits in ${rq}, not in the central queue '${central}'`, `${rq}: ${inRegion.length}, ${central}: ${inCentral.length}`);

// 2. after the bound it is in the central queue, marked expired
await sleep(ttl + 1500);
inRegion = await take(rq, 'ack_requeue_true');
inCentral = await take(central, 'ack_requeue_false');
ok(inRegion.length === 0, `after ${ttl} ms ${rq} is empty`, `${inRegion.length} left`);
const m = inCentral[0];
ok(inCentral.length === 1 && m.payload === 'frame-1', `the frame spilled to '${central}' with its body`, JSON.stringify(inCentral));
ok(m?.properties?.headers?.['x-first-death-reason'] === 'expired' && m?.properties?.headers?.['x-first-death-queue'] === rq,
  `it carries x-first-death-reason expired, x-first-death-queue ${rq} (told apart from poison)`, JSON.stringify(m?.properties?.headers));
ok(m?.routing_key === `frames.${region}.cam-r`, 'its routing key (camera) is kept', m?.routing_key);

// 3. a message rejected without requeue (amqpsrc's poison fallback): told apart
r = await publish(`frames.${region}.cam-r`, 'poison-1');
const rejected = await take(rq, 'reject_requeue_false');
ok(rejected.length === 1, `a message taken from ${rq} and rejected without requeue`, JSON.stringify(rejected));
await sleep(500);
inCentral = await take(central, 'ack_requeue_false');
ok(inCentral.length === 1 && inCentral[0].payload === 'poison-1'
  && inCentral[0].properties?.headers?.['x-first-death-reason'] === 'rejected',
  `it reaches '${central}' marked x-first-death-reason rejected (not expired: distinguishable from a spilled frame)`, JSON.stringify(inCentral));

// 4. a camera of an unknown region
r = await publish('frames.nowhere.cam-x', 'lost');
ok(r.json?.routed === false, 'frames.nowhere.cam-x is unroutable (amqpsink warns and counts it)', r.text);
finish();
