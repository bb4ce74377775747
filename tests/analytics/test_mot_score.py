#!/usr/bin/env python3
"""benchmarks/lib/mot_score.py on a real scenario truth file (edgefaas-makeclip):
perfect hypotheses, swapped ids, a gap, and the Hungarian solver on a known case."""
import json
import os
import subprocess
import sys
import tempfile

root, makeclip = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "benchmarks", "lib"))
import mot_score  # noqa: E402

# Under the sanitizer build (CI runs the unit suite with ASan + LSan), the programs we spawn
# run with leak detection off: every process that runs a GStreamer pipeline with a bus
# (even `videotestsrc ! fakesink` in a 10-line program built with -fsanitize=address,
# gst_deinit() or not) leaks one 16 KiB block allocated inside libglib whose stack
# LeakSanitizer cannot unwind past g_malloc, so no suppression can name it. Memory
# errors are still fatal (ASan proper stays on).
CHILD_ENV = dict(os.environ)
if "ASAN_OPTIONS" in CHILD_ENV:
    CHILD_ENV["ASAN_OPTIONS"] += ":detect_leaks=0"

failures = 0


def check(name, cond, detail=""):
    global failures
    print("%s - %s %s" % ("ok" if cond else "not ok", name, detail))
    failures += not cond


# Hungarian: the optimum is not the greedy choice
pairs = sorted(mot_score.hungarian([[1, 2], [1, 10]]))
check("hungarian-not-greedy", pairs == [(0, 1), (1, 0)], str(pairs))
pairs = sorted(mot_score.hungarian([[5, 1, 9], [2, 8, 7]]))
check("hungarian-rectangular", pairs == [(0, 1), (1, 0)], str(pairs))

with tempfile.TemporaryDirectory() as d:
    subprocess.run(env=CHILD_ENV, args=[makeclip, "--scenario", "crossing", "--duration", "16", "--width", "320",
                    "--height", "180", "--out", os.path.join(d, "c.mkv"),
                    "--truth", os.path.join(d, "c.json")], check=True)
    truth = json.load(open(os.path.join(d, "c.json")))


def hyps(transform):
    out = []
    for f in truth["frames_truth"]:
        objs = []
        for o in f["objects"]:
            hid = transform(f["frame"], o["id"])
            if hid is not None:
                objs.append({"id": hid, "box": o["box"], "label": "person", "state": "confirmed"})
        out.append(json.dumps({"frame": f["frame"], "objects": objs}))
    return out


s = mot_score.score(truth, hyps(lambda f, i: i))
check("perfect", s["idsw"] == 0 and s["frag"] == 0 and s["idf1"] == 1.0 and s["mota"] == 1.0, str(s))

s = mot_score.score(truth, hyps(lambda f, i: (3 - i) if f >= 100 else i))
check("swap-after-crossing", s["idsw"] == 2 and s["frag"] == 0 and s["idf1"] < 0.8, str(s))

# object 1 missing in frames 30-31: one fragmentation, no switch
s = mot_score.score(truth, hyps(lambda f, i: None if (i == 1 and f in (30, 31)) else i))
check("gap", s["idsw"] == 0 and s["frag"] == 1 and s["fn"] == 2, str(s))

# a new id after the gap: one switch, IDF1 below 1
s = mot_score.score(truth, hyps(lambda f, i: None if (i == 1 and f in (30, 31))
                                else (7 if (i == 1 and f > 31) else i)))
check("new-id-after-gap", s["idsw"] == 1 and s["frag"] == 1 and s["idf1"] < 1, str(s))

# tentative hypotheses are not counted
s = mot_score.score(truth, [l.replace("confirmed", "tentative") for l in hyps(lambda f, i: i)])
check("tentative-ignored", s["tp"] == 0 and s["hyp_boxes"] == 0, str(s))
sys.exit(1 if failures else 0)
