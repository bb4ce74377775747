#!/usr/bin/env python3
"""edgefaas-makeclip --scenario: every scenario renders, its truth says what the scenario
means (positives expect their situation at the right time, negatives expect nothing), bad
options are refused, and the schedule CLI still works."""
import json
import os
import subprocess
import sys
import tempfile

makeclip = sys.argv[1]
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


listing = subprocess.run(env=CHILD_ENV, args=[makeclip, "--list-scenarios"], capture_output=True, text=True,
                         check=True).stdout
names = [l.split()[0] for l in listing.splitlines() if l.strip()]
check("listing", set(names) == {"collision", "passing", "parked", "zone-intrusion", "zone-pass",
                                "line-crossing", "crowd", "person-down", "person-stumble", "quiet",
                                "crossing", "crossing-3"},
      str(names))

truths = {}
with tempfile.TemporaryDirectory() as d:
    for n in names:
        out, tr = os.path.join(d, n + ".mkv"), os.path.join(d, n + ".json")
        r = subprocess.run(env=CHILD_ENV, args=[makeclip, "--scenario", n, "--width", "320", "--height", "180",
                            "--out", out, "--truth", tr], capture_output=True, text=True)
        check("render-" + n, r.returncode == 0 and os.path.getsize(out) > 0, r.stderr)
        truths[n] = json.load(open(tr))
    r = subprocess.run(env=CHILD_ENV, args=[makeclip, "--scenario", "nope", "--out", os.path.join(d, "x.mkv")],
                       capture_output=True, text=True)
    check("unknown-scenario-refused", r.returncode == 2 and "unknown scenario" in r.stderr, r.stderr)
    r = subprocess.run(env=CHILD_ENV, args=[makeclip, "--scenario", "parked", "--schedule", "dog:1",
                        "--out", os.path.join(d, "x.mkv")], capture_output=True, text=True)
    check("scenario-with-schedule-refused", r.returncode == 2, r.stderr)
    r = subprocess.run(env=CHILD_ENV, args=[makeclip, "--schedule", "quiet:1,dog:1", "--width", "160", "--height", "90",
                        "--out", os.path.join(d, "s.mkv")], capture_output=True, text=True)
    old = json.loads(r.stdout) if r.returncode == 0 else {}
    check("schedule-cli", old.get("frames") == 20 and old["motion"][0]["label"] == "dog", r.stderr)

for n, t in truths.items():
    check("frames-" + n, len(t["frames_truth"]) == t["frames"] == round(t["duration_s"] * t["fps"]))
    ids = {o["id"] for o in t["objects"]}
    seen = {o["id"] for f in t["frames_truth"] for o in f["objects"]}
    check("ids-" + n, seen == ids, "%s vs %s" % (seen, ids))
    check("polarity-" + n, bool(t["expected"]) == t["positive"], str(t["expected"]))

e = truths["collision"]["expected"][0]
check("collision", e["situation"] == "collision" and e["objects"] == [1, 2]
      and e["start_s"] == 7.0 and e["held_s"] > 15, str(e))
iou_c = truths["collision"]["pair_overlaps"][0]["max_iou"]
iou_p = truths["passing"]["pair_overlaps"][0]["max_iou"]
check("passing-overlaps-like-collision", iou_p >= 0.9 * iou_c, "%s %s" % (iou_p, iou_c))
check("parked-still", all(o["stationary"] for f in truths["parked"]["frames_truth"]
                          for o in f["objects"]))
e = truths["zone-intrusion"]["expected"][0]
check("zone-intrusion", e["situation"] == "zone_dwell" and 6.5 <= e["start_s"] <= 8.0
      and e["held_s"] > 20, str(e))
check("zone-pass-never-inside", truths["zone-pass"]["zone_visits"] == []
      and truths["zone-pass"]["zones"], str(truths["zone-pass"]["zone_visits"]))
xs = truths["line-crossing"]["expected"]
check("line-crossing-both-ways", len(xs) == 2
      and {x["direction"] for x in xs} == {"positive", "negative"}, str(xs))
e = truths["crowd"]["expected"][0]
check("crowd", e["situation"] == "crowding" and e["min_count"] == 5
      and 17 <= e["start_s"] <= 20, str(e))
# person-down: upright (h/w >= 1.3) before the fall, lying (w/h >= 1.2) from start_s to
# the end; person-stumble lies for less than coco.conf's 4 s and stands up again
def box_ratio(t, s):
    f = t["frames_truth"][round(s * t["fps"])]["objects"][0]["box"]
    return f[2] / f[3]


t = truths["person-down"]
e = t["expected"][0] if t["expected"] else {}
check("person-down", e.get("situation") == "person_down" and e.get("objects") == [1]
      and 8.0 < e["start_s"] < 9.0 and e["held_s"] >= 10
      and t["lying"] == [{"object": 1, "down_s": e["start_s"], "up_s": t["duration_s"]}]
      and 1 / box_ratio(t, 7.5) >= 1.3 and box_ratio(t, e["start_s"]) >= 1.2, str(e))
ly = truths["person-stumble"]["lying"]
check("person-stumble-short", len(ly) == 1 and 1.0 < ly[0]["up_s"] - ly[0]["down_s"] < 4.0
      and 1 / box_ratio(truths["person-stumble"], 15.0) >= 1.3, str(ly))
q = truths["quiet"]
check("quiet-empty", q["duration_s"] == 120 and not q["objects"]
      and all(not f["objects"] for f in q["frames_truth"]))
hidden = [o["visibility"] for f in truths["crossing"]["frames_truth"] for o in f["objects"]]
check("crossing-occludes", min(hidden) < 0.3, str(min(hidden)))
sys.exit(1 if failures else 0)
