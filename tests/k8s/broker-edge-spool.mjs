// The edge container of an overlay, run for real with the environment its
// manifest gives it (TAP):
//   edgefaas-broker --management -- node tests/k8s/broker-edge-spool.mjs OVERLAY
// Phase 1: the broker is unreachable; the edge pipeline (pipelines/edge.pipeline,
// launched by edgefaas-launch with the manifest's args and env) must keep every
// motion frame in its spool directory. Phase 2: the broker is back; the spooled
// frames are replayed before the new ones, nothing is lost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = process.env.EDGEFAAS_SOURCE_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.EDGEFAAS_BUILD_ROOT ?? path.join(root, 'build');
const overlay = process.argv[2];
let count = 0, failed = 0;
const out = [];
const ok = (cond, name, detail = '') => {
  out.push(`${cond ? 'ok' : 'not ok'} ${++count} - ${name}`);
  if (!cond) { failed++; for (const l of String(detail).split('\n')) out.push(`# ${l}`); }
  return cond;
};
const finish = () => { console.log(`TAP version 13\n1..${count}\n${out.join('\n')}`); process.exit(failed ? 1 : 0); };

const { render } = await import(path.join(root, 'k8s/tools/kustomize.mjs'));
const objs = render(path.join(root, 'k8s/overlays', overlay));
const dep = objs.find((o) => ['Deployment', 'DaemonSet'].includes(o.kind) && o.spec.template.metadata.labels['app.kubernetes.io/component'] === 'edge');
if (!ok(dep, `${overlay}: an edge Deployment`)) finish();
const c = dep.spec.template.spec.containers[0];
// The container's environment as the manifest defines it (ConfigMaps resolved).
const env = {};
for (const ef of c.envFrom ?? []) Object.assign(env, objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ef.configMapRef.name).data);
for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
const spoolInPod = env.EDGEFAAS_SPOOL_DIR;
// (without one the test goes on, to show what is lost)
ok(spoolInPod, `${dep.metadata.name}: the manifest sets EDGEFAAS_SPOOL_DIR (${spoolInPod})`, 'without it unconfirmed frames are lost while the broker is down');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ef-edge-spool-'));
const clip = path.join(tmp, 'clip.mkv');
// The clip generator is test tooling: its own leaks (edgefaas-makeclip frees
// neither its frame buffer nor its sprites, seen under LeakSanitizer) are not
// what this test is about, so leak detection is off for it alone; the launcher
// below runs with the sanitizer options unchanged.
const mk = spawnSync(path.join(build, 'pipelines/edgefaas-makeclip'), ['-o', clip, '-s', 'quiet:1,person:3,quiet:1'],
  { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:detect_leaks=0` } });
if (!ok(mk.status === 0, 'test clip made (edgefaas-makeclip)', mk.stderr)) finish();

// Paths inside the pod map to the temp dir; everything else is the manifest's.
const spoolDir = spoolInPod ? path.join(tmp, spoolInPod) : undefined;
const pipeline = c.args.find((a) => a.endsWith('.pipeline')).replace('/usr/share/edgefaas/pipelines/', path.join(root, 'pipelines') + '/');
const args = c.args.filter((a) => !a.endsWith('.pipeline')).map((a, i, all) => (all[i - 1] === '--http-port' ? '0' : a));
const brokerUrl = new URL(process.env.EF_BROKER_URL);
const runEdge = (amqpUrl) => {
  const r = spawnSync(path.join(build, 'pipelines/edgefaas-launch'), [...args, '--drain-timeout', '10', pipeline], {
    encoding: 'utf8', timeout: 90000,
    env: { ...process.env, ...env, HOME: tmp, GST_REGISTRY_1_0: process.env.GST_REGISTRY_1_0, ...(spoolDir ? { EDGEFAAS_SPOOL_DIR: spoolDir } : {}),
      CAMERA_ID: 'cam01', CAMERA_URI: `file://${clip}`, EDGEFAAS_SYNC: 'false', EDGEFAAS_AMQP_URL: amqpUrl },
  });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return {}; } });
  return { status: r.status, exit: lines.find((l) => l.type === 'exit'), stderr: r.stderr };
};
const spoolBytes = () => (!spoolDir || !fs.existsSync(spoolDir) ? 0
  : fs.readdirSync(spoolDir).reduce((n, f) => n + fs.statSync(path.join(spoolDir, f)).size, 0));

// Phase 1: nobody listens on port 1.
const p1 = runEdge(`amqp://${brokerUrl.username}@127.0.0.1:1/%2F?heartbeat=30`);
const sent1 = p1.exit?.sink_buffers ?? 0;
ok(p1.status === 0 && sent1 > 0, `phase 1 (broker unreachable): edge ran the clip, ${sent1} motion frames handed to amqpsink`, `${p1.status} ${p1.stderr}`);
ok(spoolBytes() > sent1 * 1000, `phase 1: the frames are in the spool (${spoolBytes()} bytes in ${spoolInPod})`);

// Phase 2: the real broker.
const p2 = runEdge(`amqp://${brokerUrl.username}@${brokerUrl.host}/%2F?heartbeat=30`);
const sent2 = p2.exit?.sink_buffers ?? 0;
ok(p2.status === 0 && sent2 > 0, `phase 2 (broker up): edge ran the clip again, ${sent2} frames`, `${p2.status} ${p2.stderr}`);
ok(spoolBytes() === 0, `phase 2: the spool was replayed and emptied (${spoolBytes()} bytes left)`);
const mgmt = `http://127.0.0.1:${process.env.EF_BROKER_MGMT_PORT}`;
const auth = { Authorization: `Basic ${Buffer.from(`${brokerUrl.username}:${process.env.EDGEFAAS_AMQP_PASSWORD}`).toString('base64')}` };
let messages;
for (let i = 0; i < 40; i++) {
  const r = await fetch(`${mgmt}/api/queues/%2F/${encodeURIComponent(env.EDGEFAAS_FRAME_QUEUE ?? 'frames')}`, { headers: auth });
  messages = r.ok ? (await r.json()).messages : undefined;
  if (messages === sent1 + sent2) break;
  await new Promise((res) => setTimeout(res, 500));
}
ok(messages === sent1 + sent2, `the frame queue holds all ${sent1} spooled + ${sent2} new frames (${messages})`);
fs.rmSync(tmp, { recursive: true, force: true });
finish();
