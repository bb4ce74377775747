#!/usr/bin/python3
"""Event-driven vs always-on, one run (driven by benchmarks/event-vs-always-on.sh).

Runs INSIDE `edgefaas-broker --management -- ...` (EF_BROKER_URL, EF_BROKER_MGMT_PORT,
EDGEFAAS_AMQP_PASSWORD, EF_BROKER_DIR set). For every motion fraction it makes one clip
and processes it twice, one mode after the other:
  always-on  edgefaas-launch pipelines/always-on.pipeline (YOLO on every frame)
  gated      edgefaas-scale (-> edgefaas-launch pipelines/inference.pipeline replicas)
             + edgefaas-launch pipelines/edge.pipeline
While a mode runs, a sampler reads /proc every --sample-ms for each part (CPU ticks, RSS,
VmHWM). Exact CPU totals: os.wait4 for the processes started here; for the inference
replicas the scaler's cutime+cstime (children it reaped) read after every replica exited.
Writes OUT/results.json and OUT/series-<fraction>-<mode>.dat; stdout: progress only.
The password is read from the environment and never printed or written.
"""
import argparse
import base64
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print(f"[eva {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Fail(Exception):
    pass


# ---------------------------------------------------------------- /proc

def read_stat(pid):
    """Fields of /proc/PID/stat we need, or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read().decode("latin-1")
    except OSError:
        return None
    r = s.rindex(")")
    f = s[r + 2:].split()
    # after ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14) ... starttime(19) vsize(20) rss(21)
    return {
        "pid": pid, "comm": s[s.index("(") + 1:r], "state": f[0], "ppid": int(f[1]),
        "utime": int(f[11]), "stime": int(f[12]), "cutime": int(f[13]), "cstime": int(f[14]),
        "start": int(f[19]), "rss": int(f[21]) * PAGE,
    }


def read_hwm(pid):
    """Peak RSS (VmHWM) in bytes, 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def all_stats():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st:
                out[st["pid"]] = st
    return out


def descendants(stats, root):
    children = {}
    for st in stats.values():
        children.setdefault(st["ppid"], []).append(st["pid"])
    out, todo = [], list(children.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class Sampler(threading.Thread):
    """Every interval: per part, cumulative CPU seconds (processes that ended keep their
    last value), summed RSS, process count; per process the highest VmHWM seen.
    parts: name -> callable(stats) returning the member pids now."""

    def __init__(self, parts, interval):
        super().__init__(daemon=True)
        self.parts, self.interval = parts, interval
        self.samples = []             # (t, {part: (cpu_s, rss_bytes, nproc)})
        self.last_ticks = {p: {} for p in parts}   # part -> {(pid,start): ticks}
        self.hwm = {p: {} for p in parts}          # part -> {(pid,start): bytes}
        self.comm = {}
        self.stop_ev = threading.Event()

    def sample(self):
        t = time.time()
        stats = all_stats()
        row = {}
        for part, members in self.parts.items():
            rss = n = 0
            for pid in members(stats):
                st = stats.get(pid)
                if not st:
                    continue
                key = (pid, st["start"])
                self.comm[key] = st["comm"]
                self.last_ticks[part][key] = st["utime"] + st["stime"]
                if st["state"] != "Z":
                    rss += st["rss"]
                    n += 1
                    h = read_hwm(pid)
                    if h > self.hwm[part].get(key, 0):
                        self.hwm[part][key] = h
            row[part] = (sum(self.last_ticks[part].values()) / CLK, rss, n)
        self.samples.append((t, row))

    def run(self):
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            self.sample()
            self.stop_ev.wait(max(0.0, self.interval - (time.monotonic() - t0)))

    def stop(self):
        self.stop_ev.set()
        self.join()
        self.sample()


# ---------------------------------------------------------------- processes

class Proc:
    """A child whose stdout JSON lines are collected (and logged to a file)."""

    def __init__(self, name, argv, env, logdir):
        self.name = name
        self.out_path = os.path.join(logdir, name + ".jsonl")
        self.err_path = os.path.join(logdir, name + ".stderr")
        self.err = open(self.err_path, "wb")
        self.p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=self.err,
                                  start_new_session=True)
        self.pid = self.p.pid
        self.started = time.time()
        self.lines = []
        self.lock = threading.Lock()
        self.rusage = None
        self.status = None
        self.ended = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.out_path, "w") as raw:
            for line in self.p.stdout:
                line = line.decode("utf-8", "replace")
                raw.write(line)
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if isinstance(o, dict):
                    with self.lock:
                        self.lines.append(o)

    def find(self, type_, pred=lambda o: True):
        with self.lock:
            return [o for o in self.lines if o.get("type") == type_ and pred(o)]

    def wait_line(self, type_, timeout, pred=lambda o: True):
        end = time.time() + timeout
        while time.time() < end:
            got = self.find(type_, pred)
            if got:
                return got[0]
            if self.status is None and self.poll_exit():
                break
            time.sleep(0.05)
        got = self.find(type_, pred)
        return got[0] if got else None

    def poll_exit(self):
        if self.status is not None:
            return True
        pid, status, ru = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        self._ended(status, ru)
        return True

    def wait(self, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if self.poll_exit():
                self.reader.join(10)
                return True
            time.sleep(0.05)
        return False

    def _ended(self, status, ru):
        self.ended = time.time()
        self.status = os.waitstatus_to_exitcode(status)
        self.rusage = ru
        self.p.returncode = self.status    # keep Popen from waiting again
        self.err.close()

    def kill_hard(self):
        if self.status is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.wait(10)

    def stderr_tail(self, n=15):
        try:
            with open(self.err_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""


def ts(o):
    """JSON log 'ts' (UTC, ms) -> unix seconds."""
    s = o["ts"].rstrip("Z")
    base, _, frac = s.partition(".")
    t = time.strptime(base, "%Y-%m-%dT%H:%M:%S")
    import calendar
    return calendar.timegm(t) + (int(frac) / 10 ** len(frac) if frac else 0)


# ---------------------------------------------------------------- management API

class Mgmt:
    def __init__(self):
        port = os.environ.get("EF_BROKER_MGMT_PORT", "0")
        if port in ("", "0"):
            raise Fail("EF_BROKER_MGMT_PORT is not set: run inside edgefaas-broker --management")
        self.base = f"http://127.0.0.1:{port}/api"
        user = urllib.parse.urlparse(os.environ["EF_BROKER_URL"]).username or "guest"
        pw = os.environ.get("EDGEFAAS_AMQP_PASSWORD", "")
        self.auth = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": self.auth,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                txt = r.read()
                return json.loads(txt) if txt else None
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise Fail(f"management API {method} {path}: HTTP {e.code}")

    def purge(self, q):
        self.call("DELETE", f"/queues/%2F/{q}/contents")

    def counts(self, q):
        o = self.call("GET", f"/queues/%2F/{q}")
        if o is None:
            return None
        return o.get("messages_ready", 0), o.get("messages_unacknowledged", 0)

    def drain(self, q):
        """Every message of q (acked and removed), bodies parsed as JSON."""
        out = []
        while True:
            got = self.call("POST", f"/queues/%2F/{q}/get",
                            {"count": 500, "ackmode": "ack_requeue_false", "encoding": "auto"})
            if not got:
                return out
            for m in got:
                body = m["payload"]
                if m.get("payload_encoding") == "base64":
                    body = base64.b64decode(body).decode("utf-8", "replace")
                out.append(json.loads(body))


# ---------------------------------------------------------------- NVML (optional)

class Nvml:
    """Total energy (mJ) of every NVIDIA GPU via NVML, when there is one. Not testable on a
    machine without a GPU; absent library or no device -> self.available False."""

    def __init__(self):
        self.available, self.reason, self.handles = False, "", []
        try:
            self.lib = ctypes.CDLL("libnvidia-ml.so.1")
        except OSError:
            self.reason = "libnvidia-ml.so.1 not found (no NVIDIA driver)"
            return
        if self.lib.nvmlInit_v2() != 0:
            self.reason = "nvmlInit failed"
            return
        n = ctypes.c_uint(0)
        if self.lib.nvmlDeviceGetCount_v2(ctypes.byref(n)) != 0 or n.value == 0:
            self.reason = "NVML reports no device"
            return
        for i in range(n.value):
            h = ctypes.c_void_p()
            if self.lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) == 0:
                self.handles.append(h)
        self.available = bool(self.handles)
        if not self.available:
            self.reason = "no NVML device handle"

    def energy_mj(self):
        if not self.available:
            return None
        tot = 0
        for h in self.handles:
            e = ctypes.c_ulonglong(0)
            if self.lib.nvmlDeviceGetTotalEnergyConsumption(h, ctypes.byref(e)) != 0:
                return None      # not supported before Volta
            tot += e.value
        return tot


# ---------------------------------------------------------------- runs

def broker_members(stats):
    """The broker's Erlang VM (pid file of the fixture) and its children."""
    pidfile = os.path.join(os.environ.get("EF_BROKER_DIR", ""), "rabbitmq.pid")
    try:
        beam = int(open(pidfile).read().strip())
    except (OSError, ValueError):
        return []
    return [beam] + descendants(stats, beam) if beam in stats else []


def frame_of(ns, fps):
    return int(round(ns * fps / 1e9))


def part_summary(sampler, part, t0, t1, exact_cpu=None):
    """CPU, peak and time-averaged RSS of one part over [t0, t1] from the samples."""
    rows = [(t, r[part]) for t, r in sampler.samples if t0 - 1e-3 <= t <= t1 + 1e-3]
    cpu0 = rows[0][1][0] if rows else 0
    cpu_sampled = (rows[-1][1][0] - cpu0) if rows else 0
    integral = 0.0
    for (ta, a), (tb, _) in zip(rows, rows[1:]):
        integral += a[1] * (tb - ta)
    span = (rows[-1][0] - rows[0][0]) if len(rows) > 1 else 0
    alive = [a[1] for _, a in rows if a[2] > 0]
    return {
        "cpu_s": exact_cpu if exact_cpu is not None else cpu_sampled,
        "cpu_s_sampled": cpu_sampled,
        "cpu_exact": exact_cpu is not None,
        "rss_peak_sampled_mib": max((a[1] for _, a in rows), default=0) / 2**20,
        "vmhwm_max_mib": max(sampler.hwm[part].values(), default=0) / 2**20,
        "rss_avg_mib": (integral / span / 2**20) if span else 0,
        "rss_avg_alive_mib": (sum(alive) / len(alive) / 2**20) if alive else 0,
        "mib_s": integral / 2**20,
        "processes": len(sampler.hwm[part]) or len(sampler.last_ticks[part]),
    }


def write_series(path, sampler, parts, t0):
    """t, then per part CPU% (over the previous interval) and RSS MiB."""
    with open(path, "w") as f:
        f.write("# t_s " + " ".join(f"{p}_cpu_pct {p}_rss_mib" for p in parts) + "\n")
        prev = None
        for t, row in sampler.samples:
            cols = [f"{t - t0:.3f}"]
            for p in parts:
                cpu, rss, _ = row[p]
                pct = 0.0
                if prev and t > prev[0]:
                    pct = 100.0 * (cpu - prev[1][p][0]) / (t - prev[0])
                cols += [f"{pct:.1f}", f"{rss / 2**20:.1f}"]
            f.write(" ".join(cols) + "\n")
            prev = (t, row)


def cpu_of(ru):
    return ru.ru_utime + ru.ru_stime


def run_always_on(a, env, clip, truth, logdir, nvml):
    mg = Mgmt()
    for q in ("detections", "frames", "alerts"):
        mg.purge(q)
    e = dict(env, CAMERA_URI="file://" + clip, CAMERA_ID="eva-always-on")
    holder = {}
    sampler = Sampler({"always_on": lambda s: [holder["pid"]] + descendants(s, holder["pid"])
                       if "pid" in holder else [],
                       "broker": broker_members}, a.sample_ms / 1000)
    e0 = nvml.energy_mj()
    sampler.sample()
    t0 = time.time()
    p = Proc("always-on", [a.launch, "--drain-timeout", "30",
                           os.path.join(a.root, "pipelines", "always-on.pipeline")], e, logdir)
    holder["pid"] = p.pid
    sampler.start()
    try:
        if not p.wait(truth["duration_s"] * 3 + 120):
            raise Fail("always-on: did not finish the clip in time")
    finally:
        p.kill_hard()
        sampler.stop()
    t1 = time.time()
    e1 = nvml.energy_mj()
    if p.status != 0:
        raise Fail(f"always-on exited {p.status}:\n{p.stderr_tail()}")
    ex = p.find("exit")
    if not ex:
        raise Fail("always-on: no exit line")
    ex = ex[-1]
    labels = {}
    for o in p.find("detections"):
        if o.get("pts") is None:
            raise Fail("always-on: a detections line without pts")
        f = frame_of(o["pts"], truth["fps"])
        labels.setdefault(f, set()).update(d["label"] for d in o["detections"])
    write_series(os.path.join(a.out, f"series-{a.tag}-always-on.dat"), sampler,
                 ["always_on", "broker"], t0)
    parts = {"always_on": part_summary(sampler, "always_on", t0, t1, cpu_of(p.rusage)),
             "broker": part_summary(sampler, "broker", t0, t1)}
    parts["always_on"]["ru_maxrss_mib"] = p.rusage.ru_maxrss / 1024
    parts["always_on"]["wall_s"] = p.ended - p.started
    return {
        "t0": t0, "t1": t1, "wall_s": t1 - t0, "parts": parts,
        "camera_start_s": p.started - t0,
        "frames_in": truth["frames"], "frames_inferred": ex["frames_inferred"],
        "detections": ex["detections"],
        "labels": {str(k): sorted(v) for k, v in labels.items()},
        "energy_mj": (e1 - e0) if e0 is not None and e1 is not None else None,
    }


def run_gated(a, env, clip, truth, logdir, nvml):
    mg = Mgmt()
    for q in ("detections", "frames", "alerts"):
        mg.purge(q)
    e = dict(env, CAMERA_URI="file://" + clip, CAMERA_ID="eva-gated")
    so = os.path.join(a.root, "k8s", "base", "inference", "scaledobject.yaml")
    scale_argv = [a.scale, "--scaledobject", so, "--polling-interval", str(a.polling),
                  "--cooldown-period", str(a.cooldown), "--scale-down-window", str(a.window),
                  "--max-replica-count", str(a.max_replicas), "--",
                  a.launch, "--drain-timeout", "30",
                  os.path.join(a.root, "pipelines", "inference.pipeline")]
    holder = {}
    sampler = Sampler({
        "edge": lambda s: [holder["edge"]] + descendants(s, holder["edge"]) if "edge" in holder else [],
        "inference": lambda s: descendants(s, holder["scaler"]) if "scaler" in holder else [],
        "scaler": lambda s: [holder["scaler"]] if "scaler" in holder else [],
        "broker": broker_members}, a.sample_ms / 1000)
    e0 = nvml.energy_mj()
    sampler.sample()
    t0 = time.time()
    scaler = Proc("scaler", scale_argv, e, logdir)
    holder["scaler"] = scaler.pid
    sampler.start()
    edge = None
    try:
        if not scaler.wait_line("scaler-start", 30):
            raise Fail(f"scaler did not start:\n{scaler.stderr_tail()}")
        edge = Proc("edge", [a.launch, os.path.join(a.root, "pipelines", "edge.pipeline")], e, logdir)
        holder["edge"] = edge.pid
        if not edge.wait(truth["duration_s"] * 3 + 120):
            raise Fail("edge: did not finish the clip in time")
        if edge.status != 0:
            raise Fail(f"edge exited {edge.status}:\n{edge.stderr_tail()}")
        # the queue drains, the cooldown passes, the scaler stops every replica
        end = time.time() + a.cooldown + 120
        while time.time() < end:
            starts, exits = scaler.find("replica-start"), scaler.find("replica-exit")
            if starts and len(exits) == len(starts) and scaler.find(
                    "scale", lambda o: o.get("action") == "deactivate"
                    and ts(o) >= ts(starts[-1])):
                break
            if scaler.poll_exit():
                raise Fail(f"scaler exited early ({scaler.status}):\n{scaler.stderr_tail()}")
            time.sleep(0.2)
        else:
            raise Fail("gated: the scaler did not return to zero replicas in time")
        t1 = time.time()
        st = read_stat(scaler.pid)     # every replica reaped: cutime/cstime are final
        infer_cpu = (st["cutime"] + st["cstime"]) / CLK
        os.kill(scaler.pid, signal.SIGTERM)
        if not scaler.wait(60):
            raise Fail("scaler did not exit after SIGTERM")
    finally:
        if edge:
            edge.kill_hard()
        scaler.kill_hard()
        sampler.stop()
    e1 = nvml.energy_mj()
    if scaler.status != 0:
        raise Fail(f"scaler exited {scaler.status}:\n{scaler.stderr_tail()}")
    bad = [o for o in scaler.find("replica-exit") if o.get("code") != 0]
    if bad:
        raise Fail(f"replica exited abnormally: {bad[0]}")

    # detection events: one per frame sent, each with its source frame event
    events = mg.drain("detections")
    cnt = mg.counts("frames")
    ex = edge.find("exit")[-1]
    if len(events) != ex["sink_buffers"]:
        raise Fail(f"gated: {ex['sink_buffers']} frames sent but {len(events)} detection events")
    labels, inferred_frames, infer_times = {}, set(), []
    for ev in events:
        src = ev.get("source") or {}
        rt = src.get("running_time_ns")
        if rt is None:
            raise Fail("gated: a detection event without source.running_time_ns")
        f = frame_of(rt, truth["fps"])
        inferred_frames.add(f)
        labels.setdefault(f, set()).update(d["label"] for d in ev.get("detections", []))
        tr = ev.get("trace") or {}
        if tr.get("inferred") and tr.get("captured"):
            infer_times.append((ts({"ts": tr["inferred"]}), ts({"ts": tr["captured"]}),
                                len(ev.get("detections", []))))

    # cold starts: each activation from zero replicas. The wait starts at the capture of the
    # oldest frame this activation's replica inferred (for an activation that follows a new
    # motion event, that is the event's first frame).
    motions = sorted(ts(o) for o in edge.find("motion-start"))
    infer_times.sort()
    acts = [ts(o) for o in scaler.find("scale", lambda o: o.get("action") == "activate")]
    deacts = [ts(o) for o in scaler.find("scale", lambda o: o.get("action") == "deactivate")]
    cold = []
    for ta in acts:
        prev_d = max([d for d in deacts if d < ta], default=0.0)
        next_d = min([d for d in deacts if d > ta], default=float("inf"))
        mine = [x for x in infer_times if ta <= x[0] <= next_d + 30]
        if not mine:
            cold.append({"activate_ts": ta, "no_frames": True})
            continue
        c0 = min(x[1] for x in mine)
        last_motion = max([m for m in motions if m <= ta], default=None)
        # the first poll that saw a message: the management API's count, or the amqp
        # trigger's ready count (passive queue.declare)
        seen = [ts(o) for o in scaler.find("poll", lambda o: o.get("messages", 0) > 0
                                           or o.get("amqp_ready", 0) > 0)
                if c0 - 0.5 <= ts(o) <= ta]
        pl = [ts(o) for o in scaler.find("state", lambda o: o.get("to") == "PLAYING"
                                         and "replica" in o) if ts(o) >= ta]
        dets = [x[0] for x in mine if x[2] > 0]
        cold.append({
            "activate_ts": ta,
            # motion went on across the previous scale-in (no new event since it)
            "mid_event": bool(prev_d and last_motion is not None and last_motion < prev_d),
            "queue_seen_s": (seen[0] - c0) if seen else None,
            "activate_s": ta - c0,
            "playing_s": (pl[0] - c0) if pl else None,
            "first_inferred_s": mine[0][0] - c0,
            "first_detection_s": (dets[0] - c0) if dets else None,
        })

    rexits = scaler.find("replica-exit")
    wall_scaler = scaler.ended - scaler.started
    write_series(os.path.join(a.out, f"series-{a.tag}-gated.dat"), sampler,
                 ["edge", "inference", "scaler", "broker"], t0)
    scaler_cpu = cpu_of(scaler.rusage) - infer_cpu
    parts = {
        "edge": part_summary(sampler, "edge", t0, t1, cpu_of(edge.rusage)),
        "inference": part_summary(sampler, "inference", t0, t1, infer_cpu),
        "scaler": part_summary(sampler, "scaler", t0, t1, scaler_cpu),
        "broker": part_summary(sampler, "broker", t0, t1),
    }
    parts["edge"]["ru_maxrss_mib"] = edge.rusage.ru_maxrss / 1024
    parts["edge"]["wall_s"] = edge.ended - edge.started
    parts["scaler"]["wall_s"] = wall_scaler
    parts["inference"]["wall_s"] = sum(o.get("lifetime_s", 0) for o in rexits)
    return {
        "t0": t0, "t1": t1, "wall_s": t1 - t0, "parts": parts,
        "camera_start_s": edge.started - t0,
        "frames_in": ex["frames_in"], "motion_frames": ex["motion_frames"],
        "frames_sent": ex["sink_buffers"], "motion_events": len(motions),
        "frames_inferred": sum(o.get("frames_inferred", 0)
                               for o in scaler.find("exit", lambda o: "replica" in o)),
        "detections": sum(len(ev.get("detections", [])) for ev in events),
        "replicas": len(rexits), "replica_lifetime_s": parts["inference"]["wall_s"],
        "max_concurrent_replicas": max((r["inference"][2] for _, r in sampler.samples), default=0),
        "cold_starts": cold,
        "frames_queue_after": cnt,
        "labels": {str(k): sorted(v) for k, v in labels.items()},
        "inferred_frames": sorted(inferred_frames),
        "motion_ts": motions,
        "energy_mj": (e1 - e0) if e0 is not None and e1 is not None else None,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fractions", default="0.1,0.3,0.6")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--burst", type=float, default=3)
    ap.add_argument("--polling", type=int, default=1)
    ap.add_argument("--cooldown", type=int, default=10)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--max-replicas", type=int, default=1)
    ap.add_argument("--sample-ms", type=int, default=200)
    ap.add_argument("--modes", default="always-on,gated")
    a = ap.parse_args()
    bindir = os.path.join(a.build, "pipelines")
    a.launch = os.path.join(bindir, "edgefaas-launch")
    a.scale = os.path.join(bindir, "edgefaas-scale")
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    env.update(EDGEFAAS_AMQP_URL=os.environ["EF_BROKER_URL"],
               FRAME_STORE=os.path.join(a.out, "frames"),
               GST_PLUGIN_PATH_1_0=os.path.join(a.build, "plugins"),
               GST_REGISTRY_1_0=os.path.join(a.out, "registry.bin"))
    env.pop("YOLO_SITUATIONS", None)
    nvml = Nvml()
    res = {"config": {k: v for k, v in vars(a).items()}, "runs": [],
           "nvml": {"available": nvml.available, "reason": nvml.reason}}
    subprocess.run([os.path.join(bindir, "edgefaas-topology")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    failed = None
    try:
        for fr in [float(x) for x in a.fractions.split(",")]:
            a.tag = f"{int(round(fr * 100)):02d}"
            d = os.path.join(a.out, "clip-" + a.tag)
            os.makedirs(d, exist_ok=True)
            clip, tpath = os.path.join(d, "clip.mkv"), os.path.join(d, "truth.json")
            subprocess.run([os.path.join(bindir, "edgefaas-makeclip"), "--out", clip,
                            "--truth", tpath, "--duration", str(a.duration), "--fps", str(a.fps),
                            "--motion-fraction", str(fr), "--burst", str(a.burst)],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            truth = json.load(open(tpath))
            run = {"fraction": fr, "tag": a.tag, "truth": truth}
            for mode in a.modes.split(","):
                logdir = os.path.join(d, mode)
                os.makedirs(logdir, exist_ok=True)
                log(f"motion {a.tag} %: {mode} ...")
                fn = run_always_on if mode == "always-on" else run_gated
                r = fn(a, env, clip, truth, logdir, nvml)
                run[mode] = r
                log(f"motion {a.tag} %: {mode} done in {r['wall_s']:.1f} s, "
                    f"{r['frames_inferred']} frames inferred, {r['detections']} detections")
                time.sleep(2)
            res["runs"].append(run)
    except (Fail, subprocess.CalledProcessError, KeyError, ValueError) as e:
        failed = f"{type(e).__name__}: {e}"
        res["failed"] = failed
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    if failed:
        print(f"event-vs-always-on: RUN FAILED: {failed}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
