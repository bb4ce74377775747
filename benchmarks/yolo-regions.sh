#!/usr/bin/env bash
# roi-mode=motion against whole-frame inference on scenario clips made from
# darknet's sample images, real Yolo-Fastest, real motiondetect (see
# benchmarks/yolo-regions.c). Writes the "yolo-regions" section of
# docs/benchmarks.md.
#   benchmarks/yolo-regions.sh [BUILD_DIR] [--no-doc]
# Environment: FRAMES [30] frames per clip (the first 5 are empty).
# Cost: network inputs (every input has the network's size, so inputs x input
# size is the forward cost; deterministic), and as secondary figures the
# element's own measured inference+preprocessing time and the process CPU
# time of each arm (noisy on a shared machine). The process is pinned to one
# CPU and OMP_NUM_THREADS=1 so both arms run the engine single-threaded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -n "$build" ] && [ "${build#--}" = "$build" ]; then shift; else
  build=$(ls -td "$root"/build*/ 2>/dev/null | while read -r d; do
    [ -x "$d/tests/yolo/yolo-regions-bench" ] && { echo "$d"; break; }; done)
fi
write_doc=1
[ "${1:-}" = "--no-doc" ] && write_doc=0
[ -n "$build" ] || { echo "yolo-regions.sh: no build with tests/yolo/yolo-regions-bench" >&2; exit 1; }
build=$(cd "$build" && pwd)
bench=$build/tests/yolo/yolo-regions-bench
[ -x "$bench" ] || { echo "yolo-regions.sh: $bench not built" >&2; exit 1; }
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
[ -f "$shared/models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights" ] \
  || { echo "yolo-regions.sh: Yolo-Fastest missing under $shared/models (set EDGEFAAS_SHARED_DIR)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GST_PLUGIN_PATH_1_0=$build/plugins GST_REGISTRY_1_0=$tmp/registry.bin
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
start=$(date +%s)
taskset -c 0 "$bench" --shared "$shared" --frames "${FRAMES:-30}" > "$tmp/clips.tsv" 2> "$tmp/log" \
  || { cat "$tmp/log" >&2; echo "yolo-regions.sh: benchmark failed" >&2; exit 1; }
secs=$(( $(date +%s) - start ))
python3 - "$tmp/clips.tsv" "$secs" "${FRAMES:-30}" > "$tmp/section.md" <<'PY'
import sys
path, secs, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
order = []
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if f[0] != "CLIP":
        continue
    cid = f[1]
    if cid not in rows:
        rows[cid] = {}
        order.append(cid)
    rows[cid][f[5]] = dict(size=f[2], n=int(f[3]), height=float(f[4]), inputs=int(f[6]),
                           elem=float(f[7]), cpu=float(f[8]), truth=int(f[9]), found=int(f[10]),
                           dups=int(f[11]), byw=f[12], regions=int(f[13]), whole=int(f[14]))
print("| clip | frame | moving objects | picture height | whole-frame: network inputs | motion: network inputs (frames on regions / whole-frame fallbacks) | **cost ratio** (inputs) | element time ratio | CPU time ratio | recall whole-frame | recall motion | whole-frame's finds also found by motion | duplicate boxes whole / motion |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
cost_ok = recall_ok = True
for cid in order:
    w, m = rows[cid]["whole"], rows[cid]["motion"]
    ratio = m["inputs"] / w["inputs"]
    rw, rm = w["found"] / w["truth"], m["found"] / m["truth"]
    cost_ok &= ratio <= 1.0
    recall_ok &= m["found"] >= w["found"]
    print("| %s | %s | %d | %.0f %% | %d | %d (%d / %d) | **%.2f** | %.2f | %.2f | %.2f (%d/%d) | %.2f (%d/%d) | %s | %d / %d |" % (
        cid, w["size"], w["n"], w["height"] * 100, w["inputs"], m["inputs"], m["regions"], m["whole"],
        ratio, m["elem"] / w["elem"], m["cpu"] / w["cpu"], rw, w["found"], w["truth"],
        rm, m["found"], m["truth"], m["byw"], w["dups"], m["dups"]))
print()
print("Targets: cost <= whole-frame on every clip: %s; recall >= whole-frame's on every clip: %s." % (
    "met" if cost_ok else "NOT met", "met" if recall_ok else "NOT met"))
print()
print("%d frames per clip (the first 5 empty), 10 fps. Run time: %d s." % (frames, secs))
PY
{
  echo "## yolov4infer roi-mode=motion vs whole frame"
  echo
  echo "\`benchmarks/yolo-regions.sh\` (program \`yolo-regions-bench\` from benchmarks/yolo-regions.c). Scenario clips made in the benchmark from darknet's sample images (person, dog, horses, giraffe, eagle) pasted at the given height on a still background (sky, ground, buildings) and sliding right by 1 % of the width per frame, 5 empty frames first. Both arms run \`appsrc ! motiondetect ! yolov4infer roi-mode=frame|motion ! appsink\` with Yolo-Fastest 1.1 (320×320) on the same frames in the same process (pinned to one CPU, single-threaded engine)."
  echo
  echo "- Truth: each picture alone is run through yolov4infer first; its most confident box of the picture's label is the object, scaled and moved with the paste. Found = a detection of that label with IoU ≥ 0.3; more than one such detection = duplicate."
  echo "- Cost: network inputs (each input is 320×320, so inputs × input size is the forward cost; deterministic). Element time = the element's measured inference + preprocessing ms; CPU time = process CPU time of the arm (includes motiondetect and frame making; noisy here)."
  echo "- Baseline: whole-frame inference (roi-mode=frame), same clip, same run."
  echo
  cat "$tmp/section.md"
  echo
  echo "Machine: $(env -u OMP_NUM_THREADS "$root/benchmarks/lib/machine.sh" 2>/dev/null || uname -m)"
} > "$tmp/full.md"
cat "$tmp/full.md"
[ "$write_doc" = 1 ] && (cd "$root" && benchmarks/lib/update-section.sh yolo-regions < "$tmp/full.md")
exit 0
