#!/usr/bin/env bash
# edgefaas demo: the whole event-driven system on one machine (docs/demo.md).
#   bash scripts/demo.sh            install deps if root, build into build/ if needed, run
# Environment: MODELS_DIR (default ../shared/models), BUILD_DIR (build), DEMO_SCHEDULE
# (clip segments, default below), DEMO_COOLDOWN (10 s: the ScaledObject's 120 s is long
# for a demo), DEMO_KEEP=1 keeps the work directory, DEMO_SNAPSHOTS (alert snapshots,
# /tmp/edgefaas-demo-alerts, kept), DEMO_REGIONS (1: afterwards run the two-region part,
# 0: skip it), DEMO_SPILL_MS (4000: how long region a's frames wait before they spill
# to the central region).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

if [ "${1:-}" != "--inside" ]; then
  # 1. dependencies (Debian 12; only the missing ones; needs root to install)
  bash "$root/scripts/install-deps.sh" build runtime test
  # 2. build
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dtests=enabled
  fi
  ninja -C "$build" -j2 pipelines/edgefaas-launch pipelines/edgefaas-scale \
    pipelines/edgefaas-makeclip pipelines/edgefaas-topology tests/fixture/edgefaas-broker
  ninja -C "$build" -j2 >/dev/null
  # 3. a model
  models=${MODELS_DIR:-$root/../shared/models}
  cfg=$models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg
  if [ -z "${MODEL_CFG:-}" ] && [ ! -f "$cfg" ]; then
    echo "demo: no model found: $cfg does not exist." >&2
    echo "      Set MODELS_DIR to a directory with yolo-fastest-1.1-coco/, or MODEL_CFG," >&2
    echo "      MODEL_WEIGHTS and MODEL_LABELS to any darknet model (docs/demo.md)." >&2
    exit 1
  fi
  export MODELS_DIR=$(cd "$models" 2>/dev/null && pwd || echo "$models")
  # situations need the better detector when it is there (docs/scenarios.md recall)
  xl=$MODELS_DIR/yolo-fastest-1.1-xl-coco
  if [ -z "${MODEL_CFG:-}" ] && [ -f "$xl/yolo-fastest-1.1-xl.weights" ]; then
    export MODEL_CFG=$xl/yolo-fastest-1.1-xl.cfg MODEL_WEIGHTS=$xl/yolo-fastest-1.1-xl.weights \
      MODEL_LABELS=$xl/coco.names
  fi
  # 4. a private RabbitMQ with the management API for the whole run
  exec "$build/tests/fixture/edgefaas-broker" --management -- bash "$0" --inside
fi

# ---- inside: EF_BROKER_URL, EF_BROKER_MGMT_PORT, EDGEFAAS_AMQP_PASSWORD are set ----
bin=$build/pipelines
work=$(mktemp -d /tmp/edgefaas-demo.XXXXXX)
[ "${DEMO_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export EDGEFAAS_AMQP_URL=$EF_BROKER_URL
export FRAME_STORE=$work/frames CAMERA_ID=${CAMERA_ID:-demo-cam}
export GST_PLUGIN_PATH_1_0=$build/plugins GST_REGISTRY_1_0=$work/registry.bin
schedule=${DEMO_SCHEDULE:-quiet:8,dog:4,quiet:8,person:4,quiet:6,horses:4,quiet:4}
cooldown=${DEMO_COOLDOWN:-10}

say() { printf '\033[1m%s\033[0m\n' "$*"; }
say "== edgefaas demo: work dir $work, broker $EF_BROKER_URL (password from env, not shown)"
"$bin/edgefaas-makeclip" --out "$work/clip.mkv" --truth "$work/truth.json" --schedule "$schedule"
export CAMERA_URI=file://$work/clip.mkv
say "== clip: $schedule (seconds; objects slide in over a still background)"
# Situation clips (docs/scenarios.md): two cars collide and stop (camera demo-road), a person
# walks into the danger zone and stays (demo), two cars pass each other (demo-pass, negative).
for s in collision zone-intrusion passing; do
  "$bin/edgefaas-makeclip" --scenario "$s" --out "$work/$s.mkv" --truth "$work/$s.json" >/dev/null
done
say "== situation clips: collision (camera demo-road), zone-intrusion (demo), passing (demo-pass)"
# The shipped rules (pipelines/situations/coco.conf) with the demo's cameras declared.
sed 's/^\[camera:demo\]$/[camera:demo]\n[camera:demo-road]\n[camera:demo-pass]/' \
  "$root/pipelines/situations/coco.conf" > "$work/rules.conf"
export SITUATION_RULES=$work/rules.conf MOTION_QUIET_TIME=6000000000
export SNAPSHOT_DIR=${DEMO_SNAPSHOTS:-/tmp/edgefaas-demo-alerts}
mkdir -p "$SNAPSHOT_DIR"
"$bin/edgefaas-topology"

log=$work/events.jsonl
: > "$log"
so=$root/k8s/base/inference/scaledobject.yaml
soarg=(); [ -f "$so" ] && soarg=(--scaledobject "$so")
say "== scaler: ScaledObject ${so#$root/} with cooldownPeriod=${cooldown}s for the demo"
"$bin/edgefaas-scale" "${soarg[@]}" --polling-interval 1 --cooldown-period "$cooldown" \
  --scale-down-window 5 --quiet-polls -- \
  "$bin/edgefaas-launch" --drain-timeout 30 "$root/pipelines/inference.pipeline" >> "$log" &
scaler=$!

# Live view: motion, scaler decisions, replica lifecycle, detections, alerts.
alog=$work/analytics.jsonl
: > "$alog"
tail -q -n +1 -f "$log" "$alog" | awk '
  function f(k,   r) { if (match($0, "\"" k "\":\"[^\"]*\"")) { r = substr($0, RSTART, RLENGTH); sub("^\"" k "\":\"", "", r); sub("\"$", "", r); return r }
                        if (match($0, "\"" k "\":[-0-9.eE+a-z]*")) { r = substr($0, RSTART, RLENGTH); sub("^\"" k "\":", "", r); return r } return "" }
  function r1(v) { return v == "" ? "?" : sprintf("%.1f", v) }
  { t = substr(f("ts"), 12, 12); type = f("type") }
  type == "motion-start" { printf "%s  motion   start  event %s\n", t, f("event-id"); fflush() }
  type == "motion-end"   { printf "%s  motion   end    event %s\n", t, f("event-id"); fflush() }
  type == "scale"        { printf "%s  scaler   %s %s -> %s (%s)\n", t, f("action"), f("from"), f("to"), f("reason"); fflush() }
  type == "replica-start"{ printf "%s  scaler   started inference replica %s (pid %s)\n", t, f("replica"), f("pid"); fflush() }
  type == "replica-stop" { printf "%s  scaler   SIGTERM to replica %s\n", t, f("replica"); fflush() }
  type == "replica-exit" { printf "%s  scaler   replica %s exited code %s after %s s\n", t, f("replica"), f("code"), r1(f("lifetime_s")); fflush() }
  type == "state" && f("to") == "PLAYING" && f("replica") != "" { printf "%s  infer    replica %s PLAYING (model loaded) after %s s\n", t, f("replica"), r1(f("since_start_s")); fflush() }
  type == "detections"   { s = $0; out = ""; while (match(s, /"label":"[^"]*"/)) { out = out " " substr(s, RSTART + 9, RLENGTH - 10); s = substr(s, RSTART + RLENGTH) }
                           printf "%s  detect   camera %s event %s:%s (latency %s ms)\n", t, f("camera_id"), f("event_id"), out, r1(f("latency_ms")); fflush() }
  type == "situation"    { printf "%s  ALERT    %s on camera %s (tracks %s, zone %s)\n          snapshot %s\n", t, f("situation"), f("camera"), f("track-ids"), f("zone"), f("snapshot"); fflush() }
  type == "error" || type == "warning" { printf "%s  %s  %s\n", t, type, f("message"); fflush() }
' &
viewer=$!

say "== analytics stage (detectionorder ! objecttrack ! situationdetect, rules ${SITUATION_RULES#$work/})"
"$bin/edgefaas-launch" --drain-timeout 30 "$root/pipelines/analytics.pipeline" > "$alog" &
analytics=$!
for _ in $(seq 1 60); do grep -q '"to":"PLAYING"' "$alog" && break; sleep 0.5; done

say "== edge pipelines on the clips (real time)"
CAMERA_ID=demo-road CAMERA_URI=file://$work/collision.mkv \
  "$bin/edgefaas-launch" "$root/pipelines/edge.pipeline" > "$work/edge-road.jsonl" &
road=$!
CAMERA_ID=demo CAMERA_URI=file://$work/zone-intrusion.mkv \
  "$bin/edgefaas-launch" "$root/pipelines/edge.pipeline" > "$work/edge-zone.jsonl" &
zone=$!
CAMERA_ID=demo-pass CAMERA_URI=file://$work/passing.mkv \
  "$bin/edgefaas-launch" "$root/pipelines/edge.pipeline" > "$work/edge-pass.jsonl" &
pass=$!
"$bin/edgefaas-launch" "$root/pipelines/edge.pipeline" >> "$log"
wait "$road" "$zone" "$pass" || true
say "== edge pipeline done; waiting for the queue to drain and the cooldown to stop inference"
for _ in $(seq 1 $((cooldown + 60))); do
  grep -q '"type":"replica-exit"' "$log" && ! [ "$(grep -c '"type":"replica-start"' "$log")" -gt "$(grep -c '"type":"replica-exit"' "$log")" ] && break
  sleep 1
done
kill -TERM "$scaler"; wait "$scaler" || true
sleep 3   # detectionorder's stale timeout: the last frames of each camera
kill -TERM "$analytics"; wait "$analytics" || true
sleep 0.5; kill "$viewer" 2>/dev/null || true; wait "$viewer" 2>/dev/null || true

# ---- regions: two regions and a central one (docs/architecture.md, Regions) ----
# Their own exchange, so the main part's queue "frames" (bound to frames.#) does not
# also collect the regions' frames. One scaler per region queue, from the same
# ScaledObject file (--queue frames-<region>); region queues are declared by
# edgefaas-topology only (EDGEFAAS_DECLARE=false: they carry the spill arguments).
region_part() {
  local rx=edgefaas-regions spill=${DEMO_SPILL_MS:-4000}
  "$bin/edgefaas-makeclip" --out "$work/region.mkv" --truth "$work/region.json" \
    --schedule quiet:2,dog:4,quiet:2 >/dev/null
  say "== regions: a, b and central on exchange $rx; a's frames spill to central after ${spill} ms"
  EDGEFAAS_EXCHANGE=$rx "$bin/edgefaas-topology" --regions a,b,central --central central \
    --spill-after "$spill"
  region_scaler() {   # region, log, then "declare" for the central one (plain arguments)
    local decl=false; [ "${3:-}" = declare ] && decl=true
    EDGEFAAS_EXCHANGE=$rx REGION=$1 EDGEFAAS_FRAME_QUEUE=frames-$1 EDGEFAAS_DECLARE=$decl \
      EDGEFAAS_FRAME_BINDING="frames.$1.#" \
      "$bin/edgefaas-scale" "${soarg[@]}" --queue "frames-$1" --max-replica-count 1 \
      --polling-interval 1 --cooldown-period 4 --scale-down-window 2 --quiet-polls -- \
      "$bin/edgefaas-launch" --drain-timeout 30 "$root/pipelines/inference.pipeline" > "$2" &
  }
  region_edge() {     # camera, region
    EDGEFAAS_EXCHANGE=$rx REGION=$2 CAMERA_ID=$1 CAMERA_URI=file://$work/region.mkv \
      EDGEFAAS_FRAME_QUEUE=frames-$2 EDGEFAAS_DECLARE=false \
      "$bin/edgefaas-launch" "$root/pipelines/edge.pipeline" > "$work/edge-$1.jsonl"
    num "$(grep '"type":"exit"' "$work/edge-$1.jsonl" | tail -1)" sink_buffers
  }
  count() { grep -c "\"type\":\"$2\"" "$1" || true; }
  wait_done() {       # until the scaler of log $1 started a replica and all have exited
    for _ in $(seq 1 90); do
      sleep 1
      [ "$(count "$1" replica-start)" -gt 0 ] &&
        [ "$(count "$1" replica-start)" -eq "$(count "$1" replica-exit)" ] && break
    done
  }
  consumed() { grep '"type":"exit"' "$1" | grep '"replica"' |
    sed -n 's/.*"frames_consumed":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}'; }

  say "== regions 1/2: motion on camera cam-a of region a; one scaler for a, one for b"
  local la=$work/scale-a.jsonl lb=$work/scale-b.jsonl lc=$work/scale-central.jsonl
  region_scaler a "$la"; local sa=$!
  region_scaler b "$lb"; local sb=$!
  sleep 1
  local sent1; sent1=$(region_edge cam-a a)
  wait_done "$la"
  kill -TERM "$sa" "$sb" 2>/dev/null || true; wait "$sa" "$sb" 2>/dev/null || true
  echo "region a: $sent1 frames sent, $(count "$la" replica-start) replica(s) started, $(consumed "$la") frames inferred"
  echo "region b: $(count "$lb" replica-start) replica(s) started (no motion there: stays at zero)"

  say "== regions 2/2: region a without capacity (no scaler); central infers its frames after ${spill} ms"
  region_scaler central "$lc" declare; local sc=$!
  sleep 1
  local sent2; sent2=$(region_edge cam-a a)
  wait_done "$lc"
  kill -TERM "$sc" 2>/dev/null || true; wait "$sc" 2>/dev/null || true
  local n; n=$(consumed "$lc")
  echo "region a: $sent2 frames sent; the central region inferred $n (spilled: x-first-death-reason expired)"
  if [ "$n" = "$sent2" ]; then echo "nothing lost, nothing inferred twice"
  else echo "MISMATCH: region a sent $sent2 frames, the central region inferred $n"; fi
}

# ---- summary ----
edge_exit=$(grep '"type":"exit"' "$log" | grep -v '"replica"' | tail -1)
num() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
r1() { [ -n "$1" ] && printf '%.1f' "$1" || printf '?'; }
say "== summary"
echo "frames seen:               $(num "$edge_exit" frames_in)"
echo "frames with motion:        $(num "$edge_exit" motion_frames)"
echo "frames sent:               $(num "$edge_exit" sink_buffers)"
echo "inference replicas:        $(grep -c '"type":"replica-start"' "$log")"
grep '"type":"replica-exit"' "$log" | while read -r l; do
  echo "  replica $(num "$l" replica): lifetime $(r1 "$(num "$l" lifetime_s)") s, exit code $(num "$l" code)"; done
echo "frames inferred:           $(grep '"type":"exit"' "$log" | grep '"replica"' | sed -n 's/.*"frames_inferred":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')"
echo "detections by label:"
grep '"type":"detections"' "$log" | grep -o '"label":"[^"]*"' | cut -d'"' -f4 | sort | uniq -c | sort -rn | sed 's/^/  /'
echo "alerts (analytics stage):  $(grep -c '"type":"situation"' "$alog" || true)"
grep '"type":"situation"' "$alog" | while read -r l; do
  cam=$(echo "$l" | sed -n 's/.*"camera":"\([^"]*\)".*/\1/p')
  sit=$(echo "$l" | sed -n 's/.*"situation":"\([^"]*\)".*/\1/p')
  snap=$(echo "$l" | sed -n 's/.*"snapshot":"file:\/\/\([^"]*\)".*/\1/p')
  echo "  $sit on $cam: snapshot $snap"
done
echo "alerts on the negative:    $(grep '"type":"situation"' "$alog" | grep -c '"camera":"demo-pass"' || true) (camera demo-pass, two cars passing)"
lat=$(grep '"type":"detections"' "$log" | sed -n 's/.*"latency_ms":\([0-9.]*\).*/\1/p' | sort -n)
if [ -n "$lat" ]; then
  n=$(echo "$lat" | wc -l)
  p50=$(echo "$lat" | sed -n "$(( (n * 50 + 99) / 100 ))p"); p99=$(echo "$lat" | sed -n "$(( (n * 99 + 99) / 100 ))p")
  echo "end-to-end latency:        p50 $(r1 "$p50") ms, p99 $(r1 "$p99") ms (capture -> detection, $n frames with detections)"
fi
echo "truth (clip):              $(grep -o '"label" : "[^"]*"' "$work/truth.json" | cut -d'"' -f4 | tr '\n' ' ')"
if [ "${DEMO_REGIONS:-1}" != 0 ]; then
  region_part
fi
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "event log:                 $log"
else
  echo "event log:                 removed with the work dir (DEMO_KEEP=1 keeps it)"
fi
