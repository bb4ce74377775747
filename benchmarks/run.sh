#!/usr/bin/env bash
# Run every benchmark; each writes its own section of docs/benchmarks.md.
#   benchmarks/run.sh [name ...]    names: motiondetect amqp-publish amqp-consume
#                                   yolo-backend yolo-element event-vs-always-on
#                                   yolo-preproc yolo-regions tracker situations
# Needs a build in build/ (scripts/test.sh or scripts/demo.sh make one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
all=(motiondetect amqp-publish amqp-consume yolo-backend yolo-element event-vs-always-on yolo-preproc yolo-regions tracker situations)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
"$here/../scripts/install-deps.sh"
status=0
for n in "${names[@]}"; do
  script="$here/$n.sh"
  if [ ! -x "$script" ]; then
    echo "benchmark $n: $script missing"; status=1; continue
  fi
  echo "== benchmark $n"
  "$script" || { echo "benchmark $n FAILED"; status=1; }
done
exit $status
