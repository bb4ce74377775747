#!/usr/bin/env python3
"""Cold start from zero replicas, event -> first detection, over N activations.

Run by benchmarks/cold-start.sh inside tests/fixture/edgefaas-broker --management.
One scaler (edgefaas-scale, k8s/base/inference/scaledobject.yaml: the amqp activation
trigger, pollingInterval 1 s) over edgefaas-launch pipelines/inference.pipeline; for
each activation the real edge pipeline (pipelines/edge.pipeline) plays a short clip
(quiet, then a dog: one motion event), the scaler activates a replica from zero, the
replica infers the event's frames, and after cooldownPeriod the scaler returns to zero
before the next activation. Parts of each cold start, from the JSON logs and the
detection events' trace (captured / published / inferred):
  motion confirm  motion onset -> the frame that confirmed it (motion-start's timestamp
                  - running-time, stream time)
  publish         capture -> trace.published of that frame
  activation      published -> the scaler's "activate" decision
  process start   activate -> the replica's "start" line (process up, GStreamer ready)
  model load      "start" -> pipeline PLAYING (model loaded, broker connected)
  first inference PLAYING -> trace.inferred of the first frame
  total           capture -> first detection (first inferred frame with a detection)
Writes results.json into --out.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "event-vs-always-on"))
from run import Proc, Mgmt, ts, log, Fail  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--activations", type=int, default=20)
    ap.add_argument("--cooldown", type=int, default=2)
    a = ap.parse_args()
    bindir = os.path.join(a.build, "pipelines")
    launch, scale = os.path.join(bindir, "edgefaas-launch"), os.path.join(bindir, "edgefaas-scale")
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    env.update(EDGEFAAS_AMQP_URL=os.environ["EF_BROKER_URL"],
               FRAME_STORE=os.path.join(a.out, "frames"),
               GST_PLUGIN_PATH_1_0=os.path.join(a.build, "plugins"),
               GST_REGISTRY_1_0=os.path.join(a.out, "registry.bin"))
    env.pop("YOLO_SITUATIONS", None)
    subprocess.run([os.path.join(bindir, "edgefaas-topology")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    clip = os.path.join(a.out, "clip.mkv")
    subprocess.run([os.path.join(bindir, "edgefaas-makeclip"), "--out", clip, "--truth",
                    os.path.join(a.out, "truth.json"), "--schedule", "quiet:1,dog:2"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    mg = Mgmt()
    for q in ("detections", "frames", "alerts"):
        mg.purge(q)
    # warm the page cache and the registry once (a first-ever start is not a cold start
    # of a replica on a node that already ran one)
    subprocess.run([launch, "--help"], env=env, stdout=subprocess.DEVNULL)
    so = os.path.join(a.root, "k8s", "base", "inference", "scaledobject.yaml")
    scaler = Proc("scaler", [scale, "--scaledobject", so, "--cooldown-period", str(a.cooldown),
                             "--scale-down-window", "0", "--max-replica-count", "1", "--",
                             launch, "--drain-timeout", "10",
                             os.path.join(a.root, "pipelines", "inference.pipeline")],
                  dict(env, EDGEFAAS_JSON_REPLICAS="1"), a.out)
    runs, failed = [], None
    try:
        if not scaler.wait_line("scaler-start", 30):
            raise Fail(f"scaler did not start:\n{scaler.stderr_tail()}")
        rng = random.Random(11)
        for i in range(a.activations):
            n_exit = len(scaler.find("replica-exit"))
            # The loop would otherwise start each clip at the same phase of the scaler's
            # 1 s polling (right after the poll that scaled in): a random phase makes the
            # activation wait what a camera at a random moment sees.
            time.sleep(rng.uniform(0, 1))
            e = dict(env, CAMERA_URI="file://" + clip, CAMERA_ID=f"cold-{i}", EDGEFAAS_SYNC="true")
            edge = Proc(f"edge-{i}", [launch, os.path.join(a.root, "pipelines", "edge.pipeline")],
                        e, a.out)
            if not edge.wait(60) or edge.status != 0:
                raise Fail(f"edge run {i} failed ({edge.status}):\n{edge.stderr_tail()}")
            end = time.time() + 90
            while time.time() < end and len(scaler.find("replica-exit")) <= n_exit:
                time.sleep(0.1)
            if len(scaler.find("replica-exit")) <= n_exit:
                raise Fail(f"activation {i}: the replica did not exit after the cooldown")
            events = mg.drain("detections")
            if not events:
                raise Fail(f"activation {i}: no detection event")
            # the detection event's trace: captured (frame), inferred; the frame's own
            # published stamp is in source.trace (the detection's trace.published is its own)
            tr = sorted((ts({"ts": ev["trace"]["captured"]}),
                         ts({"ts": ev["source"]["trace"]["published"]}),
                         ts({"ts": ev["trace"]["inferred"]}), len(ev.get("detections", [])))
                        for ev in events)
            cap0, pub0, _, _ = tr[0]
            motion = edge.find("motion-start")
            acts = [ts(o) for o in scaler.find("scale", lambda o: o.get("action") == "activate")
                    if ts(o) >= pub0 - 1]
            rstart = [o for o in scaler.find("replica-start") if ts(o) >= pub0 - 1]
            rid = rstart[0]["replica"]
            lstart = scaler.find("start", lambda o: o.get("replica") == rid)
            playing = scaler.find("state", lambda o: o.get("replica") == rid and o.get("to") == "PLAYING")
            first_inf = min(x[2] for x in tr)
            dets = [x[2] for x in tr if x[3] > 0]
            r = {
                # stream time from the motion onset to the frame that confirmed it
                "motion_confirm_s": ((motion[0]["timestamp"] - motion[0]["running-time"]) / 1e9
                                     if motion else None),
                "publish_s": pub0 - cap0,
                "activation_s": acts[0] - pub0,
                "process_start_s": ts(lstart[0]) - acts[0],
                "model_load_s": ts(playing[0]) - ts(lstart[0]),
                "first_inference_s": first_inf - ts(playing[0]),
                "total_s": (min(dets) - cap0) if dets else None,
                "frames": len(events),
            }
            runs.append(r)
            log(f"activation {i + 1}/{a.activations}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in r.items() if isinstance(v, float)))
    except (Fail, subprocess.CalledProcessError, KeyError, IndexError, ValueError) as ex:
        failed = f"{type(ex).__name__}: {ex}"
    finally:
        scaler.kill_hard()
    res = {"activations": runs, "failed": failed, "config": vars(a)}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    if failed:
        print(f"cold-start: RUN FAILED: {failed}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
