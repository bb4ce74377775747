#!/bin/sh
# Verify yolov4infer on an NVIDIA GPU from a bundle made by
# scripts/gpu-bundle.sh, with no network and nothing installed (docs/gpu.md):
#   sh gpu-verify.sh [BUNDLE_DIR] [--require-gpu] [--cpu-only]
# BUNDLE_DIR defaults to the folder this script is in. Everything runs
# through the bundle's own glibc loader with the bundle's libraries first;
# only the NVIDIA driver (libcuda, nvidia-smi) comes from the machine.
#
# Prints, in this order (RESULT lines are the machine-readable record):
#   1. CPU reference: Yolo-Fastest detections on the sample images (device=cpu)
#   2. CPU figures: per-frame time of Yolo-Fastest and YOLOv4 (generated
#      weights) at batch 1 and 4, model load and first frame of a cold process
#   3. GPU (device=cuda), when nvidia-smi sees a GPU, with the bundle's CUDA
#      engine (OpenCV's CUDA DNN from engine/, else the darknet fork's CUDA
#      build; a bundle with neither fails here): the same detections
#      (every CPU detection >= 0.3 has one of its label with IoU >= 0.9 on the
#      GPU and back), per-frame times at batch 1 and 4, GPU memory held by one
#      inference process, power idle vs busy, model load / first frame of a
#      cold process. Without a GPU it says so plainly, and shows that
#      device=cuda fails with a LIBRARY error.
#   With the darknet fork in the bundle (gpu-bundle.sh --darknet-fork), also
#   backend=darknet through libedgefaas-yolo-darknet-fork.so: its CPU build
#   gives the same detections as the CPU reference; its CUDA build, on a GPU,
#   the same detections and per-frame times of Yolo-Fastest and YOLOv4 at
#   batch 1 and 4 ("darknet-fork/..." RESULT lines); without a GPU,
#   backend=darknet device=cuda fails with a LIBRARY error too.
# Exit status: 0 = everything that could run passed; 1 = a failure;
# 2 = --require-gpu and no GPU.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=$here require_gpu=0 cpu_only=0
for a in "$@"; do
  case $a in
    --require-gpu) require_gpu=1 ;;
    --cpu-only) cpu_only=1 ;;
    -*) echo "gpu-verify.sh: unknown option $a" >&2; exit 1 ;;
    *) B=$(cd "$a" && pwd) ;;
  esac
done
P=$B/prefix
[ -f "$B/MANIFEST" ] || { echo "gpu-verify.sh: $B is not a bundle (no MANIFEST)" >&2; exit 1; }
loader=$P/$(awk '$1 == "loader" {print $2}' "$B/MANIFEST")
[ -x "$loader" ] || { echo "gpu-verify.sh: bundle loader $loader missing" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
t_start=$(date +%s)

# library path: the CUDA engine (if bundled), our plugin, then every folder
# of the unpacked packages that holds shared libraries (gstreamer plugin
# folder excluded), then the machine's NVIDIA driver
libpath=$B/engine:$B/darknet:$B/plugins
for d in $(cd "$P" && find . -name '*.so*' -type f -printf '%h\n' 2>/dev/null | sort -u); do
  case $d in *gstreamer-1.0*) continue ;; esac
  libpath=$libpath:$P/${d#./}
done

fork=$(awk '$1 == "darknet-fork" {print}' "$B/MANIFEST")
fork_cuda=no
case $fork in *cuda=yes*) fork_cuda=yes ;; esac
# The CUDA engine section 3 measures (detections, times, GPU memory, power):
# OpenCV's CUDA DNN when a CUDA OpenCV is bundled (engine/, gpu-bundle.sh
# --engine), else the darknet fork's CUDA build; none: section 3 says so.
gpu_backend=
if ls "$B"/engine/*.so* >/dev/null 2>&1; then gpu_backend=opencv
elif [ $fork_cuda = yes ]; then gpu_backend=darknet; fi

gpu=0 gpu_why=
if [ "$cpu_only" = 1 ]; then
  gpu_why="--cpu-only given"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  gpu_why="nvidia-smi not found (no NVIDIA driver on this machine)"
elif ! nvidia-smi -L > "$T/gpus" 2>&1 || ! grep -q '^GPU ' "$T/gpus"; then
  gpu_why="nvidia-smi sees no GPU: $(head -n1 "$T/gpus")"
else
  gpu=1
  drv=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 / {print $NF; exit}')
  [ -n "$drv" ] && libpath=$libpath:$(dirname "$drv")
fi

run () {
  env GST_PLUGIN_SYSTEM_PATH_1_0="$P/usr/lib/x86_64-linux-gnu/gstreamer-1.0" \
    GST_PLUGIN_PATH_1_0="$B/plugins" GST_REGISTRY_1_0="$T/registry.bin" GST_REGISTRY_FORK=no \
    GST_PLUGIN_SCANNER=/nonexistent \
    EDGEFAAS_YOLO_DARKNET_MODULE="$B/plugins/libedgefaas-yolo-darknet-fork.so" \
    "$loader" --library-path "$libpath" "$@"
}
M=$B/models
fast="--config $M/yolo-fastest-1.1.cfg --weights $M/yolo-fastest-1.1.weights --labels $M/coco.names"
imgs=$(ls "$B"/images/*.jpg | tr '\n' ',' | sed 's/,$//')
probe () { run "$B/bin/yolo-gpu-probe" "$@"; }
field () { awk -v k="$1" '$1 == k {print $2; exit}' "$2"; }
fail=0

echo "== bundle: $B"
echo "   $(head -n1 "$B/MANIFEST"); $(grep -c . "$B/MANIFEST") manifest lines"
echo "   GPU: $([ $gpu = 1 ] && head -n1 "$T/gpus" || echo "none ($gpu_why)")"

echo "== 1. CPU reference: Yolo-Fastest on $(echo "$imgs" | tr ',' '\n' | wc -l) sample images (device=cpu)"
if probe $fast --images "$imgs" --device cpu --backend opencv > "$T/cpu-ref.tsv" 2> "$T/err"; then
  grep -c '^DET' "$T/cpu-ref.tsv" | sed 's/^/   detections: /'
  awk '$1 == "DET" && $4 >= 0.5 {printf "   %s %s %.2f\n", $2, $3, $4}' "$T/cpu-ref.tsv"
  if awk '$1 == "LIB" {print $2}' "$T/cpu-ref.tsv" | grep -v "^$B/" | grep -v -e '/libcuda\.' > "$T/outside"; then
    echo "   FAIL: libraries loaded from outside the bundle:"; sed 's/^/     /' "$T/outside"; fail=1
  else
    echo "   every library came from the bundle ($(grep -c '^LIB' "$T/cpu-ref.tsv") checked)"
  fi
else
  echo "   FAIL: $(grep '^ERROR' "$T/cpu-ref.tsv" | head -n1) $(tail -n3 "$T/err")"; fail=1
fi

echo "== generating YOLOv4 weights (seeded, architecture only)"
run "$B/bin/yolo-gen-weights" --seed 1 "$M/yolov4.cfg" "$T/yolov4.weights" > /dev/null 2>&1 \
  || { echo "   FAIL: yolo-gen-weights"; fail=1; }
v4="--config $M/yolov4.cfg --weights $T/yolov4.weights --labels $M/coco.names"
one=$B/images/dog.jpg

# model label batch device frames: per-frame ms and the cold-start figures
timing () {
  name=$1 dev=$2 batch=$3 frames=$4; shift 4
  if probe "$@" --images "$one" --device "$dev" --backend "${BACKEND:-opencv}" --batch "$batch" --frames "$frames" \
      > "$T/t.tsv" 2> "$T/err"; then
    pf=$(field PER_FRAME_MS "$T/t.tsv")
    echo "   $name batch $batch: $pf ms/frame (cold process: first output after $(field COLD_MS "$T/t.tsv") ms; model load $(field LOAD_MS "$T/t.tsv") ms, first forward pass $(field FIRST_INFER_MS "$T/t.tsv") ms)"
    echo "RESULT $dev $name batch=$batch per_frame_ms=$pf cold_first_output_ms=$(field COLD_MS "$T/t.tsv") load_ms=$(field LOAD_MS "$T/t.tsv") first_infer_ms=$(field FIRST_INFER_MS "$T/t.tsv")"
  else
    echo "   FAIL $name batch $batch: $(grep '^ERROR' "$T/t.tsv" | head -n1)"; fail=1
  fi
}

echo "== 2. CPU figures (device=cpu, all cores)"
timing yolo-fastest cpu 1 9 $fast
timing yolo-fastest cpu 4 12 $fast
timing yolov4-608 cpu 1 3 $v4
timing yolov4-608 cpu 4 8 $v4

if [ -n "$fork" ]; then
  echo "== 2b. darknet fork: $(echo "$fork" | cut -d' ' -f2-3), backend=darknet device=cpu"
  if [ $fork_cuda = yes ] && [ $gpu = 0 ]; then
    echo "   NOT RUN: the fork's CUDA build needs a CUDA device even for device=cpu; $gpu_why."
  elif probe $fast --images "$imgs" --device cpu --backend darknet --compare "$T/cpu-ref.tsv" > "$T/fork-cpu.tsv" 2> "$T/err"; then
    echo "   detections equal to the CPU reference (IoU >= 0.9): $(field MATCHED "$T/fork-cpu.tsv")"
    echo "RESULT cpu-darknet-fork detections_equal matched=$(field MATCHED "$T/fork-cpu.tsv")"
    dn=$(awk '$1 == "LIB" && /libdarknet/ {print $2; exit}' "$T/fork-cpu.tsv")
    case $dn in
      "$B"/*) echo "   libdarknet from the bundle: $dn" ;;
      *) echo "   FAIL: libdarknet not from the bundle: ${dn:-not mapped}"; fail=1 ;;
    esac
  else
    echo "   FAIL: $(field MATCHED "$T/fork-cpu.tsv") $(grep -e '^MISMATCH' -e '^ERROR' "$T/fork-cpu.tsv" | head -n3)"; fail=1
  fi
fi

echo "== 3. GPU (device=cuda)"
if [ $gpu = 0 ]; then
  echo "   NOT RUN: this part needs an NVIDIA GPU with its driver; $gpu_why."
  echo "   What device=cuda does here:"
  if probe $fast --images "$one" --device cuda --backend opencv > "$T/cuda.tsv" 2>&1; then
    echo "   FAIL: device=cuda worked without a GPU?"; fail=1
  elif grep -q '^ERROR.*gst-library-error-quark' "$T/cuda.tsv"; then
    echo "   LIBRARY error, as it must: $(grep '^ERROR' "$T/cuda.tsv" | head -n1 | cut -f2 | cut -c1-160)"
  else
    echo "   FAIL: device=cuda did not fail with a LIBRARY error: $(head -n2 "$T/cuda.tsv")"; fail=1
  fi
  if [ -n "$fork" ]; then
    if probe $fast --images "$one" --device cuda --backend darknet > "$T/fork-cuda.tsv" 2>&1; then
      echo "   FAIL: backend=darknet device=cuda worked without a GPU?"; fail=1
    elif grep -q '^ERROR.*gst-library-error-quark' "$T/fork-cuda.tsv"; then
      echo "   darknet fork: LIBRARY error, as it must: $(grep '^ERROR' "$T/fork-cuda.tsv" | head -n1 | cut -f2 | cut -c1-200)"
    else
      echo "   FAIL: backend=darknet device=cuda did not fail with a LIBRARY error: $(head -n2 "$T/fork-cuda.tsv")"; fail=1
    fi
  fi
  echo "RESULT gpu not-run reason=\"$gpu_why\""
  echo "== done in $(( $(date +%s) - t_start )) s: CPU part $([ $fail = 0 ] && echo passed || echo FAILED); GPU part not run (needs a GPU)"
  [ $fail = 0 ] || exit 1
  [ $require_gpu = 0 ] || exit 2
  exit 0
fi

if [ -z "$gpu_backend" ]; then
  echo "   FAIL: this bundle holds no CUDA engine (neither engine/ from gpu-bundle.sh --engine nor the darknet fork's CUDA build from --darknet-fork)"
  echo "== done in $(( $(date +%s) - t_start )) s: FAILED"
  exit 1
fi
echo "   engine: backend=$gpu_backend"
export BACKEND=$gpu_backend
# detections equal to the CPU's
if probe $fast --images "$imgs" --device cuda --backend $gpu_backend --compare "$T/cpu-ref.tsv" > "$T/gpu-ref.tsv" 2> "$T/err"; then
  echo "   detections equal to the CPU's (IoU >= 0.9): $(field MATCHED "$T/gpu-ref.tsv")"
  echo "RESULT cuda detections_equal matched=$(field MATCHED "$T/gpu-ref.tsv")"
else
  echo "   FAIL detections: $(field MATCHED "$T/gpu-ref.tsv") $(grep -e '^MISMATCH' -e '^ERROR' "$T/gpu-ref.tsv" | head -n5)"; fail=1
fi
awk '$1 == "LIB" && /cud/ {print "   uses " $2}' "$T/gpu-ref.tsv"

power () {   # mean power.draw over N samples, 0.5 s apart
  n=$1 s=0 i=0
  while [ $i -lt "$n" ]; do
    w=$(nvidia-smi --query-gpu=power.draw --format=csv,noheader,nounits -i 0 2>/dev/null | head -n1)
    s=$(awk -v a="$s" -v b="${w:-0}" 'BEGIN {print a + b}')
    i=$((i + 1)); sleep 0.5
  done
  awk -v a="$s" -v n="$n" 'BEGIN {printf "%.1f", a / n}'
}
idle=$(power 6)
echo "   power idle (no inference process): $idle W"

timing yolo-fastest cuda 1 50 $fast
timing yolo-fastest cuda 4 100 $fast
timing yolov4-608 cuda 1 20 $v4
timing yolov4-608 cuda 4 40 $v4

# memory held by one inference process, and power while it is busy
probe_pid () {   # the probe's own pid, from the first line it prints
  i=0
  while [ $i -lt 100 ]; do
    p=$(awk '$1 == "PID" {print $2; exit}' "$1" 2>/dev/null)
    [ -n "$p" ] && { echo "$p"; return 0; }
    i=$((i + 1)); sleep 0.1
  done
  return 1
}
for m in yolo-fastest yolov4-608; do
  args=$fast
  [ $m = yolov4-608 ] && args=$v4
  probe $args --images "$one" --device cuda --backend $gpu_backend --batch 4 --frames 8 --hold-ms 4000 > "$T/hold.tsv" 2>&1 &
  job=$!
  pid=$(probe_pid "$T/hold.tsv" || true)
  mem=
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
    sleep 0.5
    kill -0 $job 2>/dev/null || break
    if grep -q '^LIB' "$T/hold.tsv" 2>/dev/null; then
      mem=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null \
        | awk -F', *' -v p="$pid" '$1 == p {print $2}')
      [ -n "$mem" ] && break
    fi
  done
  wait $job || true
  echo "   GPU memory held by one $m process (batch 4, model loaded): ${mem:-?} MiB"
  echo "RESULT cuda $m gpu_memory_mib=${mem:-unknown}"
  [ -n "$mem" ] || { echo "   FAIL: the process did not show in nvidia-smi --query-compute-apps"; fail=1; }
done
probe $v4 --images "$one" --device cuda --backend $gpu_backend --batch 4 --frames 100000 > "$T/busy.tsv" 2>&1 &
job=$!
pid=$(probe_pid "$T/busy.tsv" || true)
sleep 8                      # model load and the first (slow) passes
busy=$(power 10)
if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
wait $job 2>/dev/null || true
grep -q '^ERROR' "$T/busy.tsv" && { echo "   FAIL busy run: $(grep '^ERROR' "$T/busy.tsv" | head -n1)"; fail=1; }
echo "   power busy (YOLOv4 batch 4 running): $busy W, idle $idle W"
echo "RESULT cuda power_idle_w=$idle power_busy_w=$busy"

if [ $fork_cuda = yes ] && [ "$gpu_backend" = darknet ]; then
  echo "== 4. darknet fork on the GPU: measured as section 3's engine above"
elif [ $fork_cuda = yes ]; then
  echo "== 4. darknet fork on the GPU (backend=darknet device=cuda)"
  if probe $fast --images "$imgs" --device cuda --backend darknet --compare "$T/cpu-ref.tsv" > "$T/fork-gpu.tsv" 2> "$T/err"; then
    echo "   detections equal to the CPU's (IoU >= 0.9): $(field MATCHED "$T/fork-gpu.tsv")"
    echo "RESULT cuda darknet-fork detections_equal matched=$(field MATCHED "$T/fork-gpu.tsv")"
  else
    echo "   FAIL detections: $(field MATCHED "$T/fork-gpu.tsv") $(grep -e '^MISMATCH' -e '^ERROR' "$T/fork-gpu.tsv" | head -n5)"; fail=1
  fi
  BACKEND=darknet timing darknet-fork/yolo-fastest cuda 1 50 $fast
  BACKEND=darknet timing darknet-fork/yolo-fastest cuda 4 100 $fast
  BACKEND=darknet timing darknet-fork/yolov4-608 cuda 1 20 $v4
  BACKEND=darknet timing darknet-fork/yolov4-608 cuda 4 40 $v4
elif [ -n "$fork" ]; then
  echo "== 4. darknet fork on the GPU: NOT RUN: the bundled libdarknet is the fork's CPU build (bundle its CUDA build)"
fi
echo "== done in $(( $(date +%s) - t_start )) s: $([ $fail = 0 ] && echo "all passed" || echo FAILED)"
[ $fail = 0 ]
