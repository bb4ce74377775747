#!/usr/bin/env bash
# Event-driven inference vs always-on, CPU only, in one run (issue 6, "Measurement").
#
#   benchmarks/event-vs-always-on.sh [--fractions 0.1,0.3,0.6] [--duration 60] [--no-update]
#
# For each motion fraction one clip (edgefaas-makeclip, --duration s at 10 fps) is
# processed in real time by (a) pipelines/always-on.pipeline (YOLO on every frame, the
# baseline) and (b) the event-driven system: edgefaas-scale starting/stopping
# edgefaas-launch pipelines/inference.pipeline replicas + edgefaas-launch
# pipelines/edge.pipeline, against a private RabbitMQ (tests/fixture/edgefaas-broker
# --management). CPU-seconds, wall time, peak and time-averaged RSS of each part, inference
# lifetime, frames inferred, detections in motion periods (recall of (b) vs (a) against the
# clip's ground truth), cold start; CPU and RSS over time plotted to
# docs/event-vs-always-on.png, and a timeline (motion, queue depth, replicas loading and
# running, detections) of the 30 % run to docs/scaling-timeline.png. Writes the "event-vs-always-on" section of
# docs/benchmarks.md (not with --no-update). Exits non-zero, writing nothing, when a run
# fails, finds no detection, or the event-driven system misses what always-on found.
#
# Environment: BUILD_DIR (default build/, configured with -Dtests=enabled -Damqp=enabled),
# MODELS_DIR (default $EDGEFAAS_SHARED_DIR/models or ../shared/models; Yolo-Fastest 1.1),
# EVA_POLLING (1), EVA_COOLDOWN (10), EVA_MAX_REPLICAS (1), EVA_SAMPLE_MS (200),
# EVA_WORK (work directory; default a new /tmp/edgefaas-eva.XXXXXX, kept for inspection).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
fractions=0.1,0.3,0.6 duration=60 update=1
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --fractions) fractions=$2; args+=("$1" "$2"); shift 2 ;;
    --duration) duration=$2; args+=("$1" "$2"); shift 2 ;;
    --no-update) update=0; shift ;;
    *) echo "usage: $0 [--fractions F,F,...] [--duration S] [--no-update]" >&2; exit 2 ;;
  esac
done

fail() { echo "event-vs-always-on: $*" >&2; exit 1; }
[ -f "$build/build.ninja" ] || fail "CANNOT RUN: $build is not a configured build dir (meson setup $build -Dtests=enabled)"
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
models=${MODELS_DIR:-$shared/models}
[ -f "$models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights" ] ||
  fail "CANNOT RUN: no model: $models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights (set MODELS_DIR or EDGEFAAS_SHARED_DIR)"
export MODELS_DIR=$(cd "$models" && pwd)
command -v gnuplot >/dev/null || fail "CANNOT RUN: gnuplot not installed (gnuplot-nox, scripts/deps.txt)"

ninja -C "$build" -j2 pipelines/edgefaas-launch pipelines/edgefaas-scale pipelines/edgefaas-makeclip \
  pipelines/edgefaas-topology tests/fixture/edgefaas-broker \
  plugins/motiondetect/libgstedgefaasmotion.so plugins/amqp/libgstedgefaasamqp.so \
  plugins/yolo/libgstedgefaasyolo.so >/dev/null ||
  fail "CANNOT RUN: build of the programs and plugins failed in $build"

work=${EVA_WORK:-$(mktemp -d /tmp/edgefaas-eva.XXXXXX)}
mkdir -p "$work"
here=$root/benchmarks/event-vs-always-on
echo "event-vs-always-on: work directory $work"
"$build/tests/fixture/edgefaas-broker" --management -- /usr/bin/python3 "$here/run.py" \
  --root "$root" --build "$build" --out "$work" --fractions "$fractions" --duration "$duration" \
  --polling "${EVA_POLLING:-1}" --cooldown "${EVA_COOLDOWN:-10}" \
  --max-replicas "${EVA_MAX_REPLICAS:-1}" --sample-ms "${EVA_SAMPLE_MS:-200}" ||
  fail "RUN FAILED (logs in $work/clip-*/)"
# the clips and the frame store are large and can be re-made; logs and series stay
rm -rf "$work"/frames "$work"/clip-*/clip.mkv

rel=${build#$root/}
cmd="BUILD_DIR=$rel benchmarks/event-vs-always-on.sh${args[*]:+ ${args[*]}}"
for v in EVA_POLLING EVA_COOLDOWN EVA_MAX_REPLICAS EVA_SAMPLE_MS; do
  [ -n "${!v:-}" ] && cmd="$v=${!v} $cmd"
done
# Timeline of one event-driven run (30 % motion if measured, else the first fraction)
tl_dir=$work/clip-30/gated
[ -d "$tl_dir" ] || tl_dir=$(ls -d "$work"/clip-*/gated | head -1)
/usr/bin/python3 "$here/timeline.py" "$tl_dir" "$work/scaling-timeline.png" \
  "event-driven run, $(basename "$(dirname "$tl_dir")"): motion, queue, replicas, detections" ||
  fail "timeline plot failed"
section=$(/usr/bin/python3 "$here/report.py" "$work" "$work/event-vs-always-on.png" \
  "$("$root/benchmarks/lib/machine.sh")" "$cmd") || fail "FAILED (see above; logs in $work)"
echo "$section" > "$work/section.md"
if [ "$update" = 1 ]; then
  cp "$work/event-vs-always-on.png" "$root/docs/event-vs-always-on.png"
  cp "$work/scaling-timeline.png" "$root/docs/scaling-timeline.png"
  echo "$section" | "$root/benchmarks/lib/update-section.sh" event-vs-always-on
  echo "event-vs-always-on: wrote docs/benchmarks.md (section event-vs-always-on) and docs/event-vs-always-on.png"
else
  echo "event-vs-always-on: --no-update: section in $work/section.md, plot in $work/event-vs-always-on.png"
fi
sed -n '/^| motion | frames inferred/,/^$/p' "$work/section.md"
