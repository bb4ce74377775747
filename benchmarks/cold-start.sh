#!/usr/bin/env bash
# Cold start from zero replicas, event -> first detection, over N activations (issue 11).
#
#   benchmarks/cold-start.sh [--activations 20] [--no-update]
#
# A private RabbitMQ (tests/fixture/edgefaas-broker --management), edgefaas-scale with
# k8s/base/inference/scaledobject.yaml over pipelines/inference.pipeline, and the real
# edge pipeline on a 3 s clip per activation; p50/p95 of the total and of each part
# (motion confirm, publish, activation, process start, model load, first inference).
# Writes the "cold-start" section of docs/benchmarks.md (not with --no-update).
# About 10 s per activation. Environment: BUILD_DIR (default build/), MODELS_DIR,
# CS_COOLDOWN (2), CS_WORK (work directory, default a new /tmp/edgefaas-cold.XXXXXX).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
activations=20 update=1
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --activations) activations=$2; args+=("$1" "$2"); shift 2 ;;
    --no-update) update=0; shift ;;
    *) echo "usage: $0 [--activations N] [--no-update]" >&2; exit 2 ;;
  esac
done
fail() { echo "cold-start: $*" >&2; exit 1; }
[ -f "$build/build.ninja" ] || fail "CANNOT RUN: $build is not a configured build dir"
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
models=${MODELS_DIR:-$shared/models}
[ -f "$models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights" ] ||
  fail "CANNOT RUN: no model under $models (set MODELS_DIR or EDGEFAAS_SHARED_DIR)"
export MODELS_DIR=$(cd "$models" && pwd)
ninja -C "$build" -j2 pipelines/edgefaas-launch pipelines/edgefaas-scale pipelines/edgefaas-makeclip \
  pipelines/edgefaas-topology tests/fixture/edgefaas-broker >/dev/null ||
  fail "CANNOT RUN: build failed in $build"
work=${CS_WORK:-$(mktemp -d /tmp/edgefaas-cold.XXXXXX)}
mkdir -p "$work"
here=$root/benchmarks/cold-start
echo "cold-start: work directory $work"
"$build/tests/fixture/edgefaas-broker" --management -- /usr/bin/python3 "$here/run.py" \
  --root "$root" --build "$build" --out "$work" --activations "$activations" \
  --cooldown "${CS_COOLDOWN:-2}" || fail "RUN FAILED (logs in $work)"
rm -rf "$work/frames"
rel=${build#$root/}
cmd="BUILD_DIR=$rel benchmarks/cold-start.sh${args[*]:+ ${args[*]}}"
section=$(/usr/bin/python3 "$here/report.py" "$work/results.json" \
  "$("$root/benchmarks/lib/machine.sh")" "$cmd") || fail "report failed (logs in $work)"
echo "$section" > "$work/section.md"
if [ "$update" = 1 ]; then
  echo "$section" | "$root/benchmarks/lib/update-section.sh" cold-start
  echo "cold-start: wrote docs/benchmarks.md (section cold-start)"
fi
echo "$section" | head -12
