#!/usr/bin/env bash
# amqpsrc consume throughput (ack-after-processing) vs a plain librabbitmq
# consume+ack loop with the same prefetch, and publish-to-consume latency, in the
# same run against the same private broker (tests/fixture's edgefaas-broker).
#   benchmarks/amqp-consume.sh [BUILD_DIR] [N] [REPS] [LAT_N] [LAT_RATE]
# Runs are interleaved (plain, src, plain, src, ...) so machine noise hits both;
# medians and ratios go to docs/benchmarks.md (section amqp-consume).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-5000}
reps=${3:-3}
lat_n=${4:-2000}
lat_rate=${5:-500}
bench=$build/tests/amqpsrc/amqp-consume-bench
broker=$build/tests/fixture/edgefaas-broker
[ -x "$bench" ] || { echo "missing $bench (build with -Dtests=enabled -Damqp=enabled)" >&2; exit 1; }
[ -x "$broker" ] || { echo "missing $broker" >&2; exit 1; }
export GST_PLUGIN_PATH_1_0=$build/plugins
export GST_REGISTRY_1_0=$build/amqp-consume-bench-registry.bin

out=$("$broker" -- bash -c '
  set -e
  for pf in 1 10; do
    for i in $(seq 1 '"$reps"'); do
      "'"$bench"'" throughput plain '"$n"' $pf
      "'"$bench"'" throughput src '"$n"' $pf
    done
  done
  for i in $(seq 1 '"$reps"'); do
    "'"$bench"'" latency plain '"$lat_n"' 1 '"$lat_rate"'
    "'"$bench"'" latency src '"$lat_n"' 1 '"$lat_rate"'
  done')
echo "$out" >&2
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
tp() { echo "$out" | awk -v m="$1" -v pf="$2" '$1==m && $2=="throughput" && $4==pf {print $5}'; }
lat() { echo "$out" | awk -v m="$1" -v col="$2" '$1==m && $2=="latency" {print $col}'; }
rows=""
for pf in 1 10; do
  p=$(tp plain $pf | median); s=$(tp src $pf | median)
  ratio=$(awk -v a="$s" -v b="$p" 'BEGIN{printf "%.2f", a/b}')
  rows="$rows
| $pf | $p ($(tp plain $pf | tr '\n' ' ')) | $s ($(tp src $pf | tr '\n' ' ')) | **$ratio** |"
done
lp50=$(lat plain 5 | median); lp99=$(lat plain 6 | median)
ls50=$(lat src 5 | median); ls99=$(lat src 6 | median)
rmq_version=$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?')
report="## amqp-consume: amqpsrc vs plain librabbitmq consumer

Command: \`benchmarks/amqp-consume.sh $build $n $reps $lat_n $lat_rate\` — $(date -u +%Y-%m-%d).
Machine: $("$root/benchmarks/lib/machine.sh") (shared with other jobs: noisy, compare ratios).
Broker: private RabbitMQ $rmq_version on loopback (edgefaas-broker), durable classic queue with DLX.
Messages: inline 1 KiB frames (content type image/jpeg, event JSON in the \`edgefaas-event\` header), persistent.

Throughput: the queue is filled with $n messages, then drained; clock from consumer start to the
last ack (amqpsrc: \`amqpsrc prefetch=P max-messages=$n ! fakesink\`, PLAYING to EOS, and EOS comes
only after the drain acked everything; ack-mode=after-processing, i.e. acked when fakesink released the buffer).
Baseline: a plain librabbitmq loop on one connection — basic.qos P, basic.consume, parse the event
header, basic.ack — same prefetch, same broker, interleaved, $reps runs each, medians (msg/s).

| prefetch | plain loop (baseline) msg/s (runs) | amqpsrc msg/s (runs) | amqpsrc / plain |
|---|---|---|---|$rows

Latency: consumer subscribed to an empty queue; a second connection publishes $lat_n messages at
$lat_rate msg/s; latency = time the buffer reached fakesink's handoff (plain: after parsing) minus
\`trace.published\` in the event (same host clock), prefetch 1, medians of $reps runs (µs).

| consumer | p50 µs | p99 µs |
|---|---|---|
| plain loop (baseline) | $lp50 | $lp99 |
| amqpsrc | $ls50 | $ls99 |"
echo "$report"
echo "$report" | "$root/benchmarks/lib/update-section.sh" amqp-consume
