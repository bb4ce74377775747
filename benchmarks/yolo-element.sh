#!/usr/bin/env bash
# yolov4infer element overhead against a plain loop over the same backend (see
# benchmarks/yolo-element.c). Writes the "yolo-element" section of
# docs/benchmarks.md.
#   benchmarks/yolo-element.sh [BUILD_DIR] [--frames N] [--rounds R]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -n "$build" ] && [ "${build#--}" = "$build" ]; then shift; else
  build=$(ls -td "$root"/build*/ 2>/dev/null | while read -r d; do
    [ -x "$d/tests/yolo/yolo-element-bench" ] && { echo "$d"; break; }; done)
fi
bench=$build/tests/yolo/yolo-element-bench
[ -x "$bench" ] || { echo "yolo-element.sh: $bench not built (ninja -C BUILD tests/yolo/yolo-element-bench)" >&2; exit 1; }
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
[ -d "$shared/models" ] || { echo "yolo-element.sh: $shared/models missing (set EDGEFAAS_SHARED_DIR)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
EDGEFAAS_BUILD_ROOT=$build "$root/scripts/gen-weights" --seed 1 \
  "$shared/models/cfg/yolov4-tiny.cfg" "$tmp/yolov4-tiny.weights" >&2
export GST_PLUGIN_PATH_1_0=$build/plugins
export GST_REGISTRY_1_0=$tmp/registry.bin
cd "$root"
"$bench" --shared "$shared" --yolov4-tiny-weights "$tmp/yolov4-tiny.weights" "$@" > "$tmp/section.md"
{ cat "$tmp/section.md"; echo; echo "Machine: $("$root/benchmarks/lib/machine.sh" 2>/dev/null || uname -m)"; } > "$tmp/full.md"
cat "$tmp/full.md"
benchmarks/lib/update-section.sh yolo-element < "$tmp/full.md"
