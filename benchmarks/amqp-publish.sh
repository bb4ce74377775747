#!/usr/bin/env bash
# amqpsink publish throughput vs a plain librabbitmq loop (same run, same broker).
#   benchmarks/amqp-publish.sh [BUILD_DIR] [N] [WINDOW] [REPS]
# 1 KiB persistent messages, publisher confirms, WINDOW outstanding, durable queue,
# on a private RabbitMQ started by tests/fixture's edgefaas-broker. Runs are
# interleaved (plain, sink, plain, sink, ...) so machine noise hits both; the
# report gives medians and the ratio, and goes to docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-20000}
window=${3:-256}
reps=${4:-5}
bench=$build/tests/amqp/amqp-publish-bench
broker=$build/tests/fixture/edgefaas-broker
[ -x "$bench" ] || { echo "missing $bench (build with -Dtests=enabled -Damqp=enabled)" >&2; exit 1; }
[ -x "$broker" ] || { echo "missing $broker" >&2; exit 1; }
export GST_PLUGIN_PATH_1_0=$build/plugins
export GST_REGISTRY_1_0=$build/amqp-bench-registry.bin

out=$("$broker" -- bash -c '
  for i in $(seq 1 '"$reps"'); do
    "'"$bench"'" plain '"$n"' '"$window"'
    "'"$bench"'" sink '"$n"' '"$window"'
  done')
echo "$out" >&2
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
plain=$(echo "$out" | awk '$1=="plain"{print $4}' | median)
sink=$(echo "$out" | awk '$1=="sink"{print $4}' | median)
ratio=$(awk -v a="$sink" -v b="$plain" 'BEGIN{printf "%.2f", a/b}')
verdict=$(awk -v a="$sink" -v b="$plain" 'BEGIN{print (a/b >= 0.8 && a >= 5000) ? "meets" : "MISSES"}')
rmq_version=$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?')
report="## amqp-publish: amqpsink vs plain librabbitmq

Command: \`benchmarks/amqp-publish.sh $build $n $window $reps\` — $(date -u +%Y-%m-%d).
Machine: $("$root/benchmarks/lib/machine.sh").
Method: $n persistent 1 KiB messages to a durable classic queue through the default exchange,
publisher confirms with at most $window unconfirmed, clock stopped at the last confirm
(amqpsink: appsrc ! amqpsink on-full=block, until EOS, which waits for the confirms).
Baseline: a plain librabbitmq loop with the same window on one connection, same broker
(private RabbitMQ $rmq_version), interleaved, $reps runs each, medians.

| publisher | median msg/s | runs (msg/s) |
|---|---|---|
| plain librabbitmq loop (baseline) | $plain | $(echo "$out" | awk '$1=="plain"{printf "%s ", $4}') |
| amqpsink | $sink | $(echo "$out" | awk '$1=="sink"{printf "%s ", $4}') |

Ratio amqpsink / plain: **$ratio** (target ≥ 0.80 and ≥ 5,000 msg/s: $verdict)."
echo "$report"
echo "$report" | "$root/benchmarks/lib/update-section.sh" amqp-publish
