#!/bin/sh
# The GPU bundle chain, as far as it runs without a GPU (docs/gpu.md):
# scripts/gpu-bundle.sh builds the bundle (Debian packages fetched with
# apt-get download into ~/.cache/edgefaas/gpu-debs, unpacked with dpkg -x),
# the bundle is moved to another folder (nothing points back to the build),
# and gpu-verify.sh runs from there with an empty environment: the CPU path
# passes, every library it loads comes from the bundle, it prints its CPU
# figures, says plainly that the GPU part needs a GPU, and device=cuda fails
# with a LIBRARY error. On a machine with an NVIDIA GPU the GPU part must pass.
# TAP output.
set -u
root=${EDGEFAAS_SOURCE_ROOT:?}
build=${EDGEFAAS_BUILD_ROOT:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
echo "1..9"

if "$root/scripts/gpu-bundle.sh" "$tmp/made" --build "$build" > "$tmp/bundle.log" 2>&1; then
  ok "gpu-bundle.sh builds the bundle"
else
  not_ok "gpu-bundle.sh builds the bundle"; sed 's/^/# /' "$tmp/bundle.log"
fi
check "the bundle has the plugin, the probe, the runtime packages, the models, the images" \
  '[ -f "$tmp/made/plugins/libgstedgefaasyolo.so" ] && [ -x "$tmp/made/bin/yolo-gpu-probe" ] &&
   [ "$(grep -c . "$tmp/made/MANIFEST")" -gt 20 ] && [ -f "$tmp/made/models/yolov4.cfg" ] &&
   [ -f "$tmp/made/images/dog.jpg" ]'
mv "$tmp/made" "$tmp/elsewhere"
env -i PATH=/usr/bin:/bin sh "$tmp/elsewhere/gpu-verify.sh" > "$tmp/verify.log" 2>&1
status=$?
sed 's/^/# /' "$tmp/verify.log"
check "gpu-verify.sh exits 0 from the moved bundle (status $status)" '[ $status = 0 ]'
check "the CPU detections are there" 'grep -q "dog.jpg dog" "$tmp/verify.log"'
check "every library of the CPU run came from the bundle" \
  'grep -q "every library came from the bundle" "$tmp/verify.log"'
check "CPU per-frame times for Yolo-Fastest and YOLOv4 at batch 1 and 4" \
  '[ "$(grep -c "^RESULT cpu .* per_frame_ms=[0-9]" "$tmp/verify.log")" = 4 ]'
check "cold-process model load and first-frame times" \
  '[ "$(grep -c "^RESULT cpu .*cold_first_output_ms=[0-9].*load_ms=[0-9]" "$tmp/verify.log")" = 4 ]'
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  check "GPU: detections equal to the CPU's" 'grep -q "^RESULT cuda detections_equal" "$tmp/verify.log"'
  check "GPU: power and memory figures" 'grep -q "^RESULT cuda power_idle_w=" "$tmp/verify.log"'
else
  check "no GPU: it says plainly the GPU part needs a GPU" \
    'grep -q "NOT RUN: this part needs an NVIDIA GPU" "$tmp/verify.log"'
  check "no GPU: device=cuda fails with a LIBRARY error" \
    'grep -q "LIBRARY error, as it must" "$tmp/verify.log"'
fi
[ $failed = 0 ]
