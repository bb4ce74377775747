#!/usr/bin/env bash
# The `containers` suite (issue 13): build both images from a clean podman store with
# scripts/build-images.sh, then run them as a cluster would and check what they do.
#
#   meson test -C build --suite containers        (root, Debian 12; ~10-15 min)
#
# How the containers run (the pods' securityContext in k8s/base): USER 10001, read-only
# root filesystem with podman's own /tmp,/run tmpfs turned off (--read-only-tmpfs=false)
# so that only the declared mounts are writable (/tmp: the emptyDir), --cap-drop=ALL,
# no-new-privileges (allowPrivilegeEscalation: false), models mounted read-only from
# $EDGEFAAS_SHARED_DIR/models at /models, the broker password as a podman secret in
# EDGEFAAS_AMQP_PASSWORD (the secretKeyRef).
#
# Network: nothing but a private RabbitMQ. podman --network=none would leave no way to
# the broker, slirp4netns would give the containers the host's loopback *and* NAT to
# the outside world. Instead the whole run happens in a fresh network namespace
# (unshare --net) that has only a loopback interface: the broker (the test fixture's
# edgefaas-broker, bound to 127.0.0.1) runs there and the containers join it with
# --network=host, i.e. that namespace's host network. There is no route out of it.
#
# Output: TAP. Anything missing (root, podman, models) fails loudly, never skips.
# EDGEFAAS_CONTAINERS_KEEP=1 keeps the podman store (/var/tmp/edgefaas-containers.*).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${EDGEFAAS_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
build=${EDGEFAAS_BUILD_ROOT:-$src/build}
shared=${EDGEFAAS_SHARED_DIR:-$src/../shared}

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $*"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
note () { printf '%s\n' "$@" | sed 's/^/# /'; }
check () { # check DESCRIPTION COMMAND...
  local desc=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$desc"; [ -z "$out" ] || note "$out"
  else not_ok "$desc"; note "$out"; fi
}
finish () { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }
bail () { not_ok "$1"; echo "Bail out! $1"; finish; }

# ---- podman with the suite's own store ----------------------------------------
# runc: crun refuses hybrid cgroup v1+v2 hosts. The rlimits: podman raises
# RLIMIT_NOFILE/NPROC for the container by default, which a container host may forbid;
# ask for what this process has.
podman_ () {
  podman --runtime "${EDGEFAAS_OCI_RUNTIME:-$(command -v runc || echo crun)}" \
    --root "$store/storage" --runroot "$store/run" "$@"
}
limits=(--ulimit "nofile=$(ulimit -n):$(ulimit -n)" --ulimit "nproc=4096:4096")
# The pods' securityContext, as podman flags.
cluster_flags=(--network=host --read-only --read-only-tmpfs=false
  --tmpfs /tmp:rw,nosuid,nodev,size=64m,mode=1777 --cap-drop=ALL
  --security-opt=no-new-privileges --user 10001:10001 "${limits[@]}")

# ---- the checker: is a running container what the cluster profile demands? ----
# Fails (non-zero, one line per finding) when PID 1 runs as root, has any capability,
# may gain privileges, or when the root filesystem or any file-backed mount other than
# the declared writable paths is writable. Pseudo filesystems (proc, /dev, mqueue,
# the runtime's masking tmpfs under /proc and /sys) are not storage.
check_cluster_profile () { # NAME WRITABLE_PATH...
  local name=$1; shift
  local status mounts bad=0
  status=$(podman_ exec "$name" cat /proc/1/status) || { echo "$name: cannot exec"; return 1; }
  mounts=$(podman_ exec "$name" cat /proc/1/mounts) || return 1
  local uids caps
  uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$status")
  for u in $uids; do
    if [ "$u" = 0 ]; then echo "$name: runs as root (Uid: $uids)"; bad=1; break; fi
  done
  for cap in CapEff CapPrm CapBnd; do
    caps=$(awk -v c="$cap:" '$1 == c { print $2 }' <<<"$status")
    [ "$caps" = 0000000000000000 ] || { echo "$name: $cap $caps (capabilities not dropped)"; bad=1; }
  done
  grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$status" || { echo "$name: no_new_privs not set"; bad=1; }
  while read -r dev mnt fstype opts _; do
    case ",$opts," in *,rw,*) ;; *) continue ;; esac
    local declared=0
    for w in "$@"; do [ "$mnt" = "$w" ] && declared=1; done
    [ $declared = 1 ] && continue
    case "$fstype" in proc|sysfs|devpts|mqueue|cgroup|cgroup2) continue ;; esac
    case "$fstype:$mnt" in tmpfs:/dev|tmpfs:/dev/*|tmpfs:/proc/*|tmpfs:/sys/*) continue ;; esac
    if [ "$mnt" = / ]; then echo "$name: root filesystem is writable ($fstype $opts)"
    else echo "$name: $mnt is writable but not a declared mount ($fstype)"; fi
    bad=1
  done <<<"$mounts"
  # and a real write, in case a mount table lies
  if podman_ exec "$name" sh -c 'touch /.edgefaas-probe' 2>/dev/null; then
    echo "$name: wrote /.edgefaas-probe on the root filesystem"; bad=1
  fi
  return $bad
}

# GET PATH on PORT from inside container NAME (bash /dev/tcp: no curl in the images).
http_in () { # NAME PORT PATH -> status line + body on stdout
  podman_ exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2 || exit 1
    printf 'GET $3 HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3; cat <&3" 2>/dev/null
}
http_status () { http_in "$@" | head -n 1 | awk '{ print $2 }'; }

logs_of () { podman_ logs "$1" 2>&1 | tail -n "${2:-8}" | cut -c1-400; }
running () { [ "$(podman_ inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
exit_code () { podman_ inspect -f '{{.State.ExitCode}}' "$1"; }
wait_exit () { # NAME TIMEOUT_S
  local t=0
  while running "$1"; do
    sleep 1; t=$((t + 1)); [ $t -lt "$2" ] || return 1
  done
}
wait_ready () { # NAME PORT TIMEOUT_S
  local t=0
  until [ "$(http_status "$1" "$2" /readyz)" = 200 ]; do
    running "$1" || return 1
    sleep 1; t=$((t + 1)); [ $t -lt "$3" ] || return 1
  done
}

# ---- broker queue counts (rabbitmqctl) -------------------------------------------
queue_field () { # QUEUE FIELD  (0 for a queue not declared yet)
  # Exact counts from the broker's queue processes (rabbitmqctl through the fixture's
  # EF_BROKER_CTL), not the management API, whose counts trail by its statistics
  # interval and more on a loaded machine: a stale frame count once made the test read
  # 50 queued frames where there were 56 and report the 6 as duplicates.
  "$EF_BROKER_CTL" list_queues -q --no-table-headers name "$2" 2>/dev/null \
    | awk -v q="$1" '$1 == q { print $2; found = 1 } END { if (!found) print 0 }'
}
# Two reads 2 s apart agree: nothing is still arriving.
queue_settled () { # QUEUE FIELD
  local a b
  a=$(queue_field "$1" "$2"); sleep 2; b=$(queue_field "$1" "$2")
  while [ "$a" != "$b" ]; do a=$b; sleep 2; b=$(queue_field "$1" "$2"); done
  echo "$b"
}

# =============================================================================
scenario () {
  echo "TAP version 13"
  if ! "${EF_BROKER_CTL:-/nonexistent}" status >/dev/null 2>&1; then
    echo "Bail out! cannot run rabbitmqctl on the test broker (EF_BROKER_CTL=${EF_BROKER_CTL:-unset})"
    exit 1
  fi
  local models=$shared/models
  local amqp_url="${EF_BROKER_URL%/}/%2F"
  printf '%s' "$EDGEFAAS_AMQP_PASSWORD" | podman_ secret create ef-amqp-password - >/dev/null
  local secret=(--secret ef-amqp-password,type=env,target=EDGEFAAS_AMQP_PASSWORD)
  local edge=localhost/edgefaas-edge:test inference=localhost/edgefaas-inference-cpu:test
  note "broker $amqp_url (management on $EF_BROKER_MGMT_PORT), only loopback:" \
    "$(ip -brief addr)"

  # -- the edge image on an H.264 and an H.265 camera clip --------------------
  local total=0
  for codec in h264 h265; do
    local c=edge-$codec
    podman_ run -d --name "$c" "${cluster_flags[@]}" "${secret[@]}" \
      -v "$clips:/clips:ro" -e CAMERA_ID="cam-$codec" -e CAMERA_URI="file:///clips/$codec.mp4" \
      -e EDGEFAAS_AMQP_URL="$amqp_url" -e EDGEFAAS_SYNC=true "$edge" >/dev/null
    if wait_ready "$c" 9464 60; then ok "edge ($codec clip): /readyz 200 from inside the container"
    else not_ok "edge ($codec clip): ready"; note "$(logs_of "$c" 20)"; fi
    check "edge ($codec): runs with the cluster profile (non-root, read-only root, no caps)" \
      check_cluster_profile "$c" /tmp
    local health metrics
    health=$(http_status "$c" 9464 /healthz)
    metrics=$(http_in "$c" 9464 /metrics)
    [ "$health" = 200 ] && grep -q '^edgefaas_frames_in_total' <<<"$metrics" \
      && ok "edge ($codec): /healthz 200, /metrics has edgefaas_frames_in_total" \
      || { not_ok "edge ($codec): /healthz $health, /metrics"; note "$metrics"; }
    if wait_exit "$c" 120 && [ "$(exit_code "$c")" = 0 ]; then
      ok "edge ($codec): the clip decoded to EOS, exit 0"
    else
      not_ok "edge ($codec): exit at EOS (code $(exit_code "$c"))"
      note "$(logs_of "$c" 20)"
    fi
    local now
    now=$(queue_settled frames messages_ready)
    if [ "$now" -gt "$total" ]; then ok "edge ($codec): published $((now - total)) motion frames"
    else not_ok "edge ($codec): published no frames (queue frames: $now)"
      note "$(logs_of "$c" 20)"; fi
    total=$now
    podman_ rm -f "$c" >/dev/null
  done
  note "frames queued by the edge containers: $total"

  # -- the inference image: consume, detect, drain on SIGTERM -----------------
  # shares the namespace with nothing else now, but another port keeps the edge's
  # 9464 free (the pods have their own network namespaces).
  local inf_flags=("${cluster_flags[@]}" "${secret[@]}" -v "$models:/models:ro"
    -e EDGEFAAS_AMQP_URL="$amqp_url" -e YOLO_BACKEND=opencv)
  local inf_cmd=(--http-port 9465 /usr/share/edgefaas/pipelines/inference.pipeline)
  # The first replica gets a quarter CPU (a pod CPU limit): slow enough that SIGTERM
  # lands while frames are still queued, on an idle machine too.
  podman_ run -d --name infer-1 --cpus=0.25 "${inf_flags[@]}" "$inference" "${inf_cmd[@]}" >/dev/null
  if wait_ready infer-1 9465 180; then ok "inference: /readyz 200 from inside the container (model loaded from the read-only mount)"
  else not_ok "inference: ready"; note "$(logs_of infer-1 10)"; fi
  check "inference: runs with the cluster profile" check_cluster_profile infer-1 /tmp
  local health metrics
  health=$(http_status infer-1 9465 /healthz)
  metrics=$(http_in infer-1 9465 /metrics)
  [ "$health" = 200 ] && grep -q '^edgefaas_frames_inferred_total' <<<"$metrics" \
    && ok "inference: /healthz 200, /metrics has edgefaas_frames_inferred_total" \
    || { not_ok "inference: /healthz $health, /metrics"; note "$metrics"; }
  # SIGTERM part-way: what was taken is finished and acknowledged, the rest stays queued.
  local t=0
  while [ "$(queue_field detections messages_ready)" -lt 1 ] && [ $t -lt 600 ]; do sleep 0.2; t=$((t + 1)); done
  podman_ kill --signal TERM infer-1 >/dev/null
  if wait_exit infer-1 60 && [ "$(exit_code infer-1)" = 0 ]; then ok "inference: SIGTERM part-way drains and exits 0"
  else not_ok "inference: SIGTERM exit (code $(exit_code infer-1))"; note "$(logs_of infer-1 10)"; fi
  # A connection's last acks may still be in flight when the container exits: poll up
  # to 60 s for the counts to add up.
  local dets left unacked t=0
  while :; do
    dets=$(queue_settled detections messages_ready)
    left=$(queue_settled frames messages_ready)
    unacked=$(queue_field frames messages_unacknowledged)
    [ $((dets + left)) != "$total" ] || [ "$unacked" != 0 ] || break
    [ $t -lt 60 ] || break
    sleep 3; t=$((t + 7))
  done
  [ "$dets" -gt 0 ] && [ "$left" -gt 0 ] && [ $((dets + left)) = "$total" ] && [ "$unacked" = 0 ] \
    && ok "inference: after the drain detections $dets + frames still queued $left = $total, none unacked" \
    || { not_ok "inference: after the drain detections $dets + queued $left (unacked $unacked) != $total"
         note "$(logs_of infer-1 10)"; }
  podman_ rm -f infer-1 >/dev/null
  # a second replica finishes the queue
  podman_ run -d --name infer-2 "${inf_flags[@]}" "$inference" "${inf_cmd[@]}" >/dev/null
  wait_ready infer-2 9465 180 || note "infer-2 not ready: $(logs_of infer-2 10)"
  t=0
  while [ "$(queue_field detections messages_ready)" != "$total" ] && [ $t -lt 300 ]; do sleep 2; t=$((t + 2)); done
  podman_ kill --signal TERM infer-2 >/dev/null
  wait_exit infer-2 60
  local code2
  code2=$(exit_code infer-2)
  dets=$(queue_settled detections messages_ready)
  left=$(queue_settled frames messages_ready)
  local dead
  dead=$(queue_field frames.dead messages_ready)
  [ "$code2" = 0 ] && [ "$dets" = "$total" ] && [ "$left" = 0 ] && [ "${dead:-0}" = 0 ] \
    && ok "inference: frames in = detections out ($total = $dets), exit 0 on SIGTERM, nothing dead-lettered" \
    || { not_ok "inference: frames $total, detections $dets, left $left, dead ${dead:-?}, exit $code2"
         note "$(logs_of infer-2 10)"; }
  podman_ rm -f infer-2 >/dev/null

  # -- the checker fires on a writable root and on root --------------------------
  local base_flags=(--network=host --cap-drop=ALL --security-opt=no-new-privileges "${limits[@]}"
    "${secret[@]}" -v "$clips:/clips:ro" -e CAMERA_ID=cam-x -e CAMERA_URI=file:///clips/h264.mp4
    -e EDGEFAAS_AMQP_URL="$amqp_url" -e EDGEFAAS_SYNC=true)
  local out
  podman_ run -d --name edge-rw "${base_flags[@]}" --user 10001:10001 \
    --tmpfs /tmp:rw,size=64m,mode=1777 "$edge" >/dev/null
  out=$(check_cluster_profile edge-rw /tmp)
  [ $? -ne 0 ] && grep -q 'root filesystem is writable' <<<"$out" \
    && ok "checker: a container with a writable root fails the check" \
    || { not_ok "checker: writable root not detected"; note "$out"; }
  podman_ rm -f edge-rw >/dev/null
  podman_ run -d --name edge-root "${base_flags[@]}" --user 0:0 --read-only --read-only-tmpfs=false \
    --tmpfs /tmp:rw,size=64m,mode=1777 "$edge" >/dev/null
  out=$(check_cluster_profile edge-root /tmp)
  [ $? -ne 0 ] && grep -q 'runs as root' <<<"$out" \
    && ok "checker: a container running as root fails the check" \
    || { not_ok "checker: root not detected"; note "$out"; }
  podman_ rm -f edge-root >/dev/null

  # -- bad input: never ready-and-broken, a clear log line ----------------------
  local closed
  closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  bad_input "inference without the model mount" 'cannot read cfg file.*/models/yolo-fastest-1.1-coco/yolo-fastest-1.1.cfg.*No such file' 9465 \
    "${cluster_flags[@]}" "${secret[@]}" -e EDGEFAAS_AMQP_URL="$amqp_url" "$inference" "${inf_cmd[@]}"
  bad_input "inference without the credentials secret" '"error".*No password for the AMQP broker' 9465 \
    "${cluster_flags[@]}" -v "$models:/models:ro" -e EDGEFAAS_AMQP_URL="$amqp_url" "$inference" "${inf_cmd[@]}"
  bad_input "inference with an unreachable broker" "The AMQP broker is unreachable.*127.0.0.1:$closed" 9465 \
    "${cluster_flags[@]}" "${secret[@]}" -v "$models:/models:ro" \
    -e EDGEFAAS_AMQP_URL="amqp://edgefaas@127.0.0.1:$closed/%2F" "$inference" "${inf_cmd[@]}"
  bad_input "edge without the credentials secret" '"error".*No password for the AMQP broker' 9464 \
    "${cluster_flags[@]}" -v "$clips:/clips:ro" -e CAMERA_ID=cam-x -e CAMERA_URI=file:///clips/h264.mp4 \
    -e EDGEFAAS_AMQP_URL="$amqp_url" -e EDGEFAAS_SYNC=true "$edge"
  # a 90 s clip: a camera that keeps sending while the broker is away
  bad_input "edge with an unreachable broker" "The AMQP broker is unreachable.*127.0.0.1:$closed" 9464 \
    "${cluster_flags[@]}" "${secret[@]}" -v "$clips:/clips:ro" -e CAMERA_ID=cam-x \
    -e CAMERA_URI=file:///clips/long.mp4 -e EDGEFAAS_AMQP_URL="amqp://edgefaas@127.0.0.1:$closed/%2F" \
    -e EDGEFAAS_SYNC=true "$edge"
  finish
}

# A container given bad input must never answer /readyz 200; within 60 s it exits
# non-zero or stays unready, and its log has a line naming the problem.
bad_input () { # DESC LOG_REGEX PORT RUN_ARGS...
  local desc=$1 regex=$2 port=$3; shift 3
  local c=bad-$n ready=0 t=0
  podman_ run -d --name "$c" "$@" >/dev/null
  while [ $t -lt 60 ] && running "$c"; do
    [ "$(http_status "$c" "$port" /readyz)" = 200 ] && ready=1
    sleep 1; t=$((t + 1))
  done
  local code log
  running "$c" && code=running || code=$(exit_code "$c")
  log=$(podman_ logs "$c" 2>&1)
  if [ $ready = 0 ] && { [ "$code" = running ] || [ "$code" != 0 ]; } && grep -Eq "$regex" <<<"$log"; then
    ok "$desc: never ready, $( [ "$code" = running ] && echo 'stays unready' || echo "exit $code"), says why"
    note "$(grep -E "$regex" <<<"$log" | head -n 2)"
  else
    not_ok "$desc: ready=$ready exit=$code log matches /$regex/: $(grep -Ecq "$regex" <<<"$log" && echo yes || echo no)"
    note "$(tail -n 15 <<<"$log")"
  fi
  podman_ rm -f "$c" >/dev/null
}

# =============================================================================
case "${1:-}" in
  --in-netns)
    # inside `unshare --net`: bring up loopback, start the private broker, run.
    ip link set lo up
    exec "$build/tests/fixture/edgefaas-broker" --management -- "$0" --scenario ;;
  --scenario)
    scenario ;;
esac

echo "TAP version 13"
[ "$(id -u)" = 0 ] || bail "run as root (podman's rootful store, debootstrap, unshare --net)"
for tool in podman debootstrap unshare ip curl python3 gst-launch-1.0; do
  command -v "$tool" >/dev/null || bail "$tool missing (scripts/install-deps.sh containers test)"
done
[ -x "$build/tests/fixture/edgefaas-broker" ] || bail "$build/tests/fixture/edgefaas-broker not built"
[ -r "$shared/models/yolo-fastest-1.1-coco/yolo-fastest-1.1.weights" ] \
  || bail "models missing under $shared/models (EDGEFAAS_SHARED_DIR)"
shared=$(cd "$shared" && pwd)

store=$(mktemp -d /var/tmp/edgefaas-containers.XXXXXX)
clips=$store/clips
export store clips shared build
cleanup () {
  podman_ rm -af >/dev/null 2>&1
  if [ "${EDGEFAAS_CONTAINERS_KEEP:-0}" = 1 ]; then note "kept $store"
  else podman_ system reset -f >/dev/null 2>&1; rm -rf "$store"; fi
}
trap cleanup EXIT

# ---- build, from an empty store ---------------------------------------------
start=$SECONDS
if out=$("$src/scripts/build-images.sh" --root "$store" --tag test 2>&1); then
  ok "scripts/build-images.sh built base, edge and inference images from an empty store ($((SECONDS - start)) s)"
  note "$(grep '^build-images: localhost' <<<"$out")"
else
  not_ok "scripts/build-images.sh"; note "$(tail -n 40 <<<"$out")"; bail "images not built"
fi
pkgs=$(podman_ run --rm "${limits[@]}" --network=none --entrypoint dpkg-query localhost/edgefaas-edge:test -W -f '${Package}\n')
if grep -Eq 'opencv|darknet|cuda' <<<"$pkgs"; then not_ok "edge image has no OpenCV/darknet/CUDA"; note "$(grep -E 'opencv|darknet|cuda' <<<"$pkgs")"
else ok "edge image has no OpenCV/darknet/CUDA packages"; fi
# the darknet backend module resolves all its libraries in the CPU image
lddout=$(podman_ run --rm "${limits[@]}" --network=none --entrypoint sh localhost/edgefaas-inference-cpu:test \
  -c 'ldd /usr/local/lib/x86_64-linux-gnu/edgefaas/libedgefaas-yolo-darknet.so' 2>&1)
if grep -q 'libdarknet.so' <<<"$lddout" && ! grep -q 'not found' <<<"$lddout"; then ok "inference image: the darknet backend module and libdarknet load"
else not_ok "inference image: darknet module libraries"; note "$lddout"; fi

# ---- camera clips (the host's encoders: x264enc from -ugly, x265enc from -bad) ----
mkdir -p "$clips"
for enc in "h264:x264enc speed-preset=ultrafast" "h265:x265enc speed-preset=ultrafast ! h265parse" \
    "long:x264enc speed-preset=ultrafast"; do
  codec=${enc%%:*}
  frames=80; [ "$codec" = long ] && frames=900
  if ! out=$(gst-launch-1.0 -q videotestsrc num-buffers=$frames pattern=ball \
      ! video/x-raw,format=I420,width=320,height=240,framerate=10/1 ! ${enc#*:} ! mp4mux \
      ! filesink location="$clips/$codec.mp4" 2>&1); then
    bail "making the $codec clip: $out"
  fi
done
chmod 0755 "$clips"; chmod 0644 "$clips"/*.mp4

# ---- run, in a network namespace with only loopback --------------------------
unshare --net -- "$0" --in-netns | sed '/^TAP version/d; /^1\.\./d' > "$store/run.tap"
rc=${PIPESTATUS[0]}
# renumber the inner TAP lines after ours
while IFS= read -r line; do
  case "$line" in
    "ok "*) ok "$(sed -E 's/^ok [0-9]+ - //' <<<"$line")" ;;
    "not ok "*) not_ok "$(sed -E 's/^not ok [0-9]+ - //' <<<"$line")" ;;
    *) echo "$line" ;;
  esac
done < "$store/run.tap"
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || not_ok "container scenario exited $rc"
note "suite time $((SECONDS - start)) s"
finish
