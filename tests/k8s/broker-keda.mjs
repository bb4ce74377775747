// KEDA's view of a real broker loaded with an overlay's own definitions (TAP).
//   edgefaas-broker --management -- node tests/k8s/broker-keda.mjs OVERLAY
// The fixture broker (tests/fixture) starts with one administrator "edgefaas";
// this script loads the overlay's topology into it, queues frames through the
// topic exchange, then loads the overlay's users and permissions (dev: the
// definitions files the dev StatefulSet imports at boot, with the users made by
// make-secrets.sh; production: the Topology Operator's User/Permission CRs) and
// reads the frame queue exactly as KEDA's rabbitmq scaler does with
// protocol: http (GET <host>/api/queues/<vhost>/<queue> as the keda user).
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
if (!overlay || !fs.existsSync(path.join(root, 'k8s/overlays', overlay))) bail(`usage: broker-keda.mjs OVERLAY (got '${overlay}')`);
if (!port) bail('EF_BROKER_MGMT_PORT unset: run under edgefaas-broker --management');
const adminUser = new URL(process.env.EF_BROKER_URL).username;
const adminPass = process.env.EDGEFAAS_AMQP_PASSWORD;

const { render } = await import(path.join(tools, 'kustomize.mjs'));
const { brokerDefinitions } = await import(path.join(tools, 'definitions.mjs'));
const YAML = (await import(path.join(tools, 'node_modules/yaml/dist/index.js'))).default;

const objs = render(path.join(root, 'k8s/overlays', overlay));
const secrets = YAML.parseAllDocuments(execFileSync(path.join(tools, 'make-secrets.sh'), { encoding: 'utf8' })).map((d) => d.toJS()).filter(Boolean);
const defs = brokerDefinitions(objs, secrets);
const amqp = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'edgefaas-amqp').data;

const base = `http://127.0.0.1:${port}`;
const auth = (u, p) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
async function api(method, p, creds, body) {
  const r = await fetch(base + p, { method, headers: { ...auth(...creds), 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}
const admin = [adminUser, adminPass];

// 1. the overlay's topology, as its broker would have it
let r = await api('POST', '/api/definitions', admin, defs.topology);
ok(r.status === 201 || r.status === 204, `${defs.source}: topology loaded (${defs.topology.queues.length} queues, ${defs.topology.policies.length} policies)`, `${r.status} ${r.text}`);

// 2. frames queued the way the edge publishes them (topic exchange, frames.<camera>)
const N = 3;
const exchange = encodeURIComponent(amqp.EDGEFAAS_EXCHANGE);
for (let i = 0; i < N; i++) {
  r = await api('POST', `/api/exchanges/%2F/${exchange}/publish`, admin,
    { properties: { delivery_mode: 2 }, routing_key: 'frames.cam01', payload: `frame ${i}`, payload_encoding: 'string' });
  if (!(r.status === 200 && r.json?.routed === true)) break;
}
ok(r.status === 200 && r.json?.routed === true, `${N} frames published to '${amqp.EDGEFAAS_EXCHANGE}' with key frames.cam01 routed to the frame queue`, `${r.status} ${r.text}`);

// 3. the overlay's users and permissions (replaces the fixture's administrator)
r = await api('POST', '/api/definitions', admin, defs.users);
ok(r.status === 201 || r.status === 204, `${defs.source}: users and permissions loaded (${defs.users.users.map((u) => u.name).join(', ')})`, `${r.status} ${r.text}`);

// 4. KEDA's request, built from the overlay's trigger and TriggerAuthentication
const scaler = objs.find((o) => o.kind === 'ScaledObject' || o.kind === 'ScaledJob');
const trig = scaler.spec.triggers.find((t) => t.type === 'rabbitmq');
const ta = objs.find((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === trig.authenticationRef.name);
const param = (name) => {
  const ref = ta.spec.secretTargetRef.find((x) => x.parameter === name);
  return ref && secrets.find((s) => s.metadata.name === ref.name)?.stringData[ref.key];
};
let kedaCreds;
const hostParam = param('host');
if (param('username')) kedaCreds = [param('username'), param('password')];
else if (hostParam) { const u = new URL(hostParam); kedaCreds = [decodeURIComponent(u.username), decodeURIComponent(u.password)]; }
if (!ok(kedaCreds?.[0] && kedaCreds?.[1], `TriggerAuthentication ${ta.metadata.name} yields KEDA's credentials (user ${kedaCreds?.[0]})`)) finish();
// KEDA: <host>/api/queues/<url.QueryEscape(vhost)>/<url.QueryEscape(queue)>
const vhost = trig.metadata.vhostName ?? '/';
const queuePath = `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(trig.metadata.queueName)}`;
let seen = null;
const deadline = Date.now() + 30000;
for (;;) {
  r = await api('GET', queuePath, kedaCreds);
  seen = r;
  if (r.status !== 200 || r.json?.messages === N || Date.now() > deadline) break;
  await new Promise((res) => setTimeout(res, 500)); // statistics refresh every second
}
ok(seen.status === 200, `GET ${queuePath} as ${kedaCreds[0]} (KEDA protocol http): 200`, `${seen.status} ${seen.text}`);
ok(seen.json?.messages === N && seen.json?.messages_ready === N,
  `the scaler sees the ${N} queued frames (messages = ready + unacked)`, `messages=${seen.json?.messages} ready=${seen.json?.messages_ready}`);

// 5. least privilege: the scaler's user reads statistics and nothing else
r = await api('POST', `/api/exchanges/%2F/${exchange}/publish`, kedaCreds,
  { properties: {}, routing_key: 'frames.cam01', payload: 'x', payload_encoding: 'string' });
// (the management API answers 400 wrapping the channel's 403 ACCESS_REFUSED)
ok([401, 403].includes(r.status) || (r.status === 400 && /ACCESS_REFUSED/.test(r.text)), `${kedaCreds[0]} cannot publish (write permission empty): ${r.status}`, r.text);
r = await api('POST', queuePath + '/get', kedaCreds, { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' });
ok(r.status === 401 || r.status === 403, `${kedaCreds[0]} cannot consume frames (read permission empty): ${r.status}`, r.text);
r = await api('PUT', `/api/queues/${encodeURIComponent(vhost)}/keda-test`, kedaCreds, { durable: false });
ok(r.status === 401 || r.status === 403, `${kedaCreds[0]} cannot declare queues (configure permission empty): ${r.status}`, r.text);
r = await api('GET', queuePath, kedaCreds);
ok(r.json?.messages === N, `the frames are all still queued after those attempts (${r.json?.messages})`);
finish();
