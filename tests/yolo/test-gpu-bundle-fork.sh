#!/bin/sh
# The GPU bundle with the darknet fork (gpu-bundle.sh --darknet-fork, the
# prefix this build was configured with, -Ddarknet-fork, given as $1; docs/gpu.md), moved
# to another folder and verified there with an empty environment: with the
# fork's CPU build, backend=darknet gives the CPU reference's detections from
# the bundle's own libdarknet; with its CUDA build, it says plainly that this
# needs a CUDA device; without a GPU, backend=darknet device=cuda is a LIBRARY
# error. TAP output.
set -u
root=${EDGEFAAS_SOURCE_ROOT:?}
build=${EDGEFAAS_BUILD_ROOT:?}
fork=${1:?usage: test-gpu-bundle-fork.sh DARKNET_FORK_PREFIX}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check () { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
echo "1..6"

if "$root/scripts/gpu-bundle.sh" "$tmp/made" --build "$build" --darknet-fork "$fork" > "$tmp/bundle.log" 2>&1; then
  ok "gpu-bundle.sh --darknet-fork builds the bundle"
else
  not_ok "gpu-bundle.sh --darknet-fork builds the bundle"; sed 's/^/# /' "$tmp/bundle.log"
fi
check "the bundle has libdarknet, the fork module and the MANIFEST line" \
  '[ -f "$tmp/made/darknet/libdarknet.so" ] && [ -f "$tmp/made/plugins/libedgefaas-yolo-darknet-fork.so" ] &&
   grep -q "^darknet-fork commit=" "$tmp/made/MANIFEST"'
cuda=no
grep -q "^darknet-fork .*cuda=yes" "$tmp/made/MANIFEST" 2>/dev/null && cuda=yes
mv "$tmp/made" "$tmp/elsewhere"
env -i PATH=/usr/bin:/bin sh "$tmp/elsewhere/gpu-verify.sh" > "$tmp/verify.log" 2>&1
status=$?
sed 's/^/# /' "$tmp/verify.log"
check "gpu-verify.sh exits 0 from the moved bundle (status $status)" '[ $status = 0 ]'
if [ $cuda = no ]; then
  check "fork CPU build: detections equal to the CPU reference" \
    'grep -q "^RESULT cpu-darknet-fork detections_equal matched=\([0-9]*\)/\1$" "$tmp/verify.log" &&
     ! grep -q "^RESULT cpu-darknet-fork detections_equal matched=0/" "$tmp/verify.log"'
  check "fork CPU build: libdarknet came from the bundle" \
    'grep -q "libdarknet from the bundle: $tmp/elsewhere/darknet/libdarknet.so" "$tmp/verify.log"'
else
  check "fork CUDA build: the CPU part says it needs a CUDA device" \
    'grep -q "NOT RUN: the fork.s CUDA build needs a CUDA device" "$tmp/verify.log"'
  ok "fork CUDA build: (no CPU detections to compare)"
fi
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  check "GPU: fork detections equal to the CPU's" \
    '[ $cuda = no ] || grep -q "^RESULT cuda darknet-fork detections_equal" "$tmp/verify.log"'
else
  check "no GPU: backend=darknet device=cuda fails with a LIBRARY error" \
    'grep -q "darknet fork: LIBRARY error, as it must" "$tmp/verify.log"'
fi
[ $failed = 0 ]
