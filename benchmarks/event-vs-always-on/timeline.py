#!/usr/bin/env python3
"""Timeline of one event-driven run: motion, queue depth, replicas (loading / ready),
detections over time, from the edge's and the scaler's JSON logs.

  timeline.py LOGDIR OUT.png TITLE

LOGDIR holds edge.jsonl and scaler.jsonl (an event-vs-always-on gated run). Plots with
gnuplot: motion intervals (edge motion-start/-end), the queue depth each poll read
(amqp ready count, and the management API's ready + unacked), running replicas (and how
many were loading), detections per second (replicas' detections lines)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ts  # noqa: E402


def lines(path):
    out = []
    for l in open(path):
        try:
            o = json.loads(l)
        except ValueError:
            continue
        if isinstance(o, dict) and "ts" in o:
            out.append(o)
    return out


logdir, png, title = sys.argv[1], sys.argv[2], sys.argv[3]
edge, scaler = lines(os.path.join(logdir, "edge.jsonl")), lines(os.path.join(logdir, "scaler.jsonl"))
t0 = min(ts(o) for o in edge + scaler)
d = tempfile.mkdtemp(prefix="timeline.")
with open(os.path.join(d, "motion.dat"), "w") as f:
    on = None
    for o in edge:
        if o["type"] == "motion-start":
            on = ts(o) - t0
        elif o["type"] == "motion-end" and on is not None:
            f.write(f"{on:.3f} 0\n{on:.3f} 1\n{ts(o) - t0:.3f} 1\n{ts(o) - t0:.3f} 0\n")
            on = None
with open(os.path.join(d, "polls.dat"), "w") as f:
    for o in scaler:
        if o["type"] == "poll":
            f.write(f"{ts(o) - t0:.3f} {o.get('amqp_ready', 'NaN')} {o.get('messages', 'NaN')}\n")
# replicas from the scaler's lifecycle lines: started (running) and not yet ready (loading)
with open(os.path.join(d, "replicas.dat"), "w") as f:
    running, loading = 0, 0
    f.write("0 0 0\n")
    for o in scaler:
        t, ty = ts(o) - t0, o["type"]
        if ty == "replica-start":
            running, loading = running + 1, loading + 1
        elif ty == "replica-ready":
            loading = max(0, loading - 1)
        elif ty == "replica-stop":
            running = max(0, running - 1)
        else:
            continue
        f.write(f"{t:.3f} {running} {loading}\n")
    f.write(f"{max(ts(x) for x in edge + scaler) - t0:.3f} {running} {loading}\n")
with open(os.path.join(d, "dets.dat"), "w") as f:
    per = {}
    for o in scaler:
        if o["type"] == "detections" and "replica" in o:
            s = int(ts(o) - t0)
            per[s] = per.get(s, 0) + len(o.get("detections", []))
    for s in sorted(per):
        f.write(f"{s + 0.5} {per[s]}\n")
with open(os.path.join(d, "events.dat"), "w") as f:
    for o in scaler:
        if o["type"] == "replica-start":
            f.write(f"{ts(o) - t0:.3f} start\n")
script = f"""
set terminal pngcairo size 1100,720 font ",10"
set output "{png}"
set multiplot layout 4,1 title "{title}"
set lmargin 12
set xrange [0:{max(ts(x) for x in edge + scaler) - t0:.1f}]
set grid
set ylabel "motion"
set yrange [-0.1:1.2]
set ytics ("no" 0, "yes" 1)
unset xlabel
plot "{d}/motion.dat" with lines lw 2 lc rgb "#d62728" notitle
set ylabel "queue (frames)"
set yrange [0:*]
set ytics auto
plot "{d}/polls.dat" using 1:2 with steps lw 2 title "ready (amqp, at once)", \\
     "{d}/polls.dat" using 1:3 with steps lw 1 dt 2 title "ready+unacked (management, ~5 s old)"
set ylabel "replicas"
set yrange [0:*]
set ytics 1
plot "{d}/replicas.dat" using 1:2 with steps lw 2 title "running", \\
     "{d}/replicas.dat" using 1:3 with steps lw 1 title "loading (started, not PLAYING)"
set ytics auto
set ylabel "objects detected/s"
set xlabel "time (s)"
plot "{d}/dets.dat" using 1:2 with impulses lw 3 lc rgb "#2ca02c" notitle
unset multiplot
"""
subprocess.run(["gnuplot"], input=script.encode(), check=True)
