#!/usr/bin/env bash
# yolov4infer backends, engine only: load time, first frame, steady-state fps
# for Yolo-Fastest 1.1 @320 (real COCO weights) and YOLOv4-tiny @416 (seeded
# generated weights) on the opencv and darknet backends, against the opencv /
# Yolo-Fastest baseline of the same run. Writes the "yolo-backend" section of
# docs/benchmarks.md.
#   benchmarks/yolo-backend.sh [BUILD_DIR] [--frames N] [--rounds R]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -n "$build" ] && [ "${build#--}" = "$build" ]; then shift; else
  build=$(ls -td "$root"/build*/ 2>/dev/null | while read -r d; do
    [ -x "$d/tests/yolobackend/yolo-backend-bench" ] && { echo "$d"; break; }; done)
fi
bench=$build/tests/yolobackend/yolo-backend-bench
[ -x "$bench" ] || { echo "yolo-backend.sh: $bench not built (ninja -C BUILD tests/yolobackend/yolo-backend-bench)" >&2; exit 1; }
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
[ -d "$shared/models" ] || { echo "yolo-backend.sh: $shared/models missing (set EDGEFAAS_SHARED_DIR)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EDGEFAAS_BUILD_ROOT=$build "$root/scripts/gen-weights" --seed 1 \
  "$shared/models/cfg/yolov4-tiny.cfg" "$tmp/yolov4-tiny.weights" >&2
cd "$root"
"$bench" --shared "$shared" --yolov4-tiny-weights "$tmp/yolov4-tiny.weights" "$@" > "$tmp/section.md"
cat "$tmp/section.md"
benchmarks/lib/update-section.sh yolo-backend < "$tmp/section.md"
