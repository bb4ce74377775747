#!/usr/bin/env bash
# motiondetect CPU benchmark: per-frame CPU cost of motiondetect vs gst-plugins-bad
# motioncells vs H.264 decoding (avdec_h264) of the same frames, in one run.
# Writes the "motiondetect" section of docs/benchmarks.md.
#
#   benchmarks/motiondetect.sh [BUILD_DIR] [--frames N] [--runs R] [--sizes WxH,...]
#
# BUILD_DIR defaults to ./build; it must be configured with tests enabled (the
# benchmark program uses GstHarness and is built from tests/motiondetect/meson.build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$root/$build ;; esac
frames=150 runs=5 sizes=768x576,1280x720,1920x1080
while [ $# -gt 0 ]; do
  case $1 in
    --frames) frames=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ninja -C "$build" -j2 tests/motiondetect/bench_motiondetect >/dev/null
bench=$build/tests/motiondetect/bench_motiondetect
[ -x "$bench" ] || { echo "CANNOT RUN: $bench not built (configure with -Dtests=enabled)" >&2; exit 1; }

export GST_PLUGIN_PATH_1_0=$build/plugins
export GST_REGISTRY_1_0=$build/bench-registry.bin
log=$(mktemp)
trap 'rm -f "$log"' EXIT
table=$("$bench" --frames "$frames" --runs "$runs" --sizes "$sizes" 2> >(grep -v -e 'Sticky event misordering' -e '^$' | tee "$log" >&2))

{
  echo "## motiondetect: CPU per frame vs motioncells and H.264 decode"
  echo
  echo "Machine: $("$root/benchmarks/lib/machine.sh")  "
  echo "Date: $(date -u +%Y-%m-%dT%H:%MZ)  "
  echo "Command: \`benchmarks/motiondetect.sh BUILD_DIR --frames $frames --runs $runs --sizes $sizes\`"
  echo
  echo "$table"
  echo
  echo "Method: $frames I420 frames per size drawn in C (textured static background, two moving"
  echo "squares, sensor-like noise), held in memory. Each element runs in a GstHarness and only"
  echo "the synchronous push (the element's chain function) is timed with"
  echo "CLOCK_PROCESS_CPUTIME_ID; the same loop through \`identity\` (harness overhead) is"
  echo "subtracted. motiondetect runs with default properties on I420 (and once with"
  echo "downscale-rows=0, an exact full-frame area average). motioncells (gst-plugins-bad"
  echo "1.22, defaults) accepts only RGB, so it gets the same frames converted to RGB"
  echo "beforehand (conversion not timed, in motioncells' favour). Decode: the same frames"
  echo "encoded once with x264enc (veryfast, no B-frames, 2 bits/pixel/s, i.e. ~4 Mbit/s at"
  echo "1080p25), timed through h264parse ! avdec_h264 max-threads=1 so all decode work is in"
  echo "the timed thread. Each of the $runs runs re-creates every element; figures are the"
  echo "median over runs of the per-frame mean. Ratios are taken between figures of the"
  echo "same run. The machine is shared (2 cores, other builds running): absolute"
  echo "figures move by 10-30 % between runs, ratios less."
  echo
  echo "<details><summary>Per-run figures</summary>"
  echo
  echo '```'
  cat "$log"
  echo '```'
  echo "</details>"
} | "$root/benchmarks/lib/update-section.sh" motiondetect
echo "$table"
