#!/usr/bin/env bash
# yolov4infer preprocessing (yolo_preproc_frame) against OpenCV doing the same
# work on the same frame in the same process: cv::cvtColor (I420 -> RGB) +
# cv::dnn::blobFromImage (resize, 1/255, planar float). See
# benchmarks/yolo-preproc.cpp. Writes the "yolo-preproc" section of
# docs/benchmarks.md.
#   benchmarks/yolo-preproc.sh [BUILD_DIR] [--no-doc]
# Environment: CG_FRAMES [2] calls per arm under callgrind (counts are exact);
#              TIME_FRAMES [5] TIME_ROUNDS [21] for the CPU-time part.
# Primary figure: instructions per call (valgrind --tool=callgrind, client
# requests around each arm's loop only; OpenCV on its native (AVX2) kernels
# and, in a second process, with AVX/AVX2/FMA disabled (SSE4), since ours is
# built for the x86-64 baseline (SSE2)). Secondary: CPU time per call
# (CLOCK_PROCESS_CPUTIME_ID), median of interleaved rounds, pinned to one CPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
if [ -n "$build" ] && [ "${build#--}" = "$build" ]; then shift; else
  build=$(ls -td "$root"/build*/ 2>/dev/null | while read -r d; do
    [ -x "$d/tests/yolo/yolo-preproc-bench" ] && { echo "$d"; break; }; done)
fi
write_doc=1
[ "${1:-}" = "--no-doc" ] && write_doc=0
[ -n "$build" ] || { echo "yolo-preproc.sh: no build with tests/yolo/yolo-preproc-bench (needs -Dopencv=enabled)" >&2; exit 1; }
build=$(cd "$build" && pwd)
bench=$build/tests/yolo/yolo-preproc-bench
[ -x "$bench" ] || { echo "yolo-preproc.sh: $bench not built" >&2; exit 1; }
image=/usr/share/darknet/data/dog.jpg
[ -f "$image" ] || { echo "yolo-preproc.sh: $image missing (apt-get install darknet)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "yolo-preproc.sh: valgrind missing: scripts/install-deps.sh" >&2; exit 1; }
frames=${CG_FRAMES:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
for kern in native sse4; do
  disable=
  [ "$kern" = sse4 ] && disable=AVX,AVX2,FMA3
  env ${disable:+OPENCV_CPU_DISABLE=$disable} taskset -c 0 valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$tmp/cg-$kern.out" "$bench" --image "$image" --mode callgrind --frames "$frames" \
    > "$tmp/cg-$kern.tsv" 2> "$tmp/cg-$kern.log" || { tail -20 "$tmp/cg-$kern.log" >&2; echo "yolo-preproc.sh: callgrind run failed" >&2; exit 1; }
done
taskset -c 0 "$bench" --image "$image" --mode time --frames "${TIME_FRAMES:-5}" --rounds "${TIME_ROUNDS:-21}" \
  > "$tmp/time.tsv" 2> "$tmp/time.log" || { cat "$tmp/time.log" >&2; exit 1; }
secs=$(( $(date +%s) - start ))
python3 - "$tmp" "$secs" > "$tmp/section.md" <<'PY'
import glob, os, sys
tmp, secs = sys.argv[1], int(sys.argv[2])
counts, cases, diff = {}, [], {}
for kern in ("native", "sse4"):
    for path in glob.glob(os.path.join(tmp, "cg-%s.out.*" % kern)):
        desc = total = None
        for line in open(path):
            if line.startswith("desc: Trigger: Client Request: "):
                desc = line.split("Client Request: ", 1)[1].strip()
            elif line.startswith("totals: "):
                total = int(line.split()[1])
        cid, arm, n = desc.split("|")
        counts[(cid, arm, kern)] = total / int(n)
for line in open(os.path.join(tmp, "cg-native.tsv")):
    f = line.rstrip("\n").split("\t")
    if f[0] == "RESULT":
        cases.append((f[1], f[3], f[4], f[5]))
        diff[f[1]] = float(f[7])
times = {}
for line in open(os.path.join(tmp, "time.tsv")):
    f = line.rstrip("\n").split("\t")
    if f[0] == "RESULT":
        times[(f[1], f[2])] = float(f[6])
def m(x): return "%.2f M" % (x / 1e6)
print("| frame | input format | network input | ours: instructions/frame | OpenCV (native AVX2 kernels) | ours / OpenCV | OpenCV (SSE4 kernels) | ours / OpenCV SSE4 | CPU time ours / OpenCV (median) | mean abs(ours - OpenCV) |")
print("|---|---|---|---|---|---|---|---|---|---|")
worst = 0
for cid, frame, net, fmt in cases:
    o, cn, cs = counts[(cid, "ours", "native")], counts[(cid, "opencv", "native")], counts[(cid, "opencv", "sse4")]
    worst = max(worst, o / cn)
    t = times[(cid, "ours")] / times[(cid, "opencv")]
    print("| %s | %s | %s | %s | %s | **%.2f×** | %s | %.2f× | %.2f× (%.2f ms vs %.2f ms) | %.4f |" % (
        frame, fmt, net, m(o), m(cn), o / cn, m(cs), o / cs, t,
        times[(cid, "ours")] / 1e6, times[(cid, "opencv")] / 1e6, diff[cid]))
print()
print("Worst case ours / OpenCV (native kernels, instructions): %.2f×." % worst)
print()
print("Run time: %d s." % secs)
PY
{
  echo "## yolov4infer preprocessing vs OpenCV"
  echo
  echo "\`benchmarks/yolo-preproc.sh\` (program \`yolo-preproc-bench\` from benchmarks/yolo-preproc.cpp, built in tests/yolo; debugoptimized build, -O2, x86-64 baseline SSE2). The work: one decoded frame (dog.jpg, as jpegdec decodes it or scaled to 1080p by videoscale) into the network input blob — resize to the network size, colour conversion to RGB, normalisation to [0,1], planar CHW float."
  echo
  echo "- **ours**: \`yolo_preproc_frame\` (plugins/yolo/yolopreproc.c), plain resize: darknet's corner-aligned bilinear, asserted equal to libdarknet's \`resize_image\` (< 1e-4) by tests/yolo/test-yolo-preproc.c. Separable, vertical pass first: per output row one blend of two source rows (bytes to floats 16 at a time with vector extensions), then one gather per output sample; YUV per plane (chroma at chroma resolution) and converted to RGB 4 pixels at a time."
  echo "- **OpenCV** (baseline): I420: \`cv::cvtColor(COLOR_YUV2RGB_I420)\` on the whole frame then \`cv::dnn::blobFromImage(img, 1/255, size, Scalar(), swapRB=false, crop=false, CV_32F)\`; RGB: \`blobFromImage\` alone. Sequential (\`cv::setNumThreads(0)\`), its cheapest configuration in instructions."
  echo "- Instructions per call counted by callgrind over each arm's loop only (client requests; one warm-up call outside), both arms in the same process on the same mapped frame; the SSE4 column is a second process with \`OPENCV_CPU_DISABLE=AVX,AVX2,FMA3\`. The last column is the mean difference of the two blobs: OpenCV's INTER_LINEAR uses half-pixel centres, and its YUV2RGB is BT.601 limited range whatever the frame says (ours follows the frame's colorimetry: full range for decoded JPEG)."
  echo
  cat "$tmp/section.md"
  echo
  echo "Machine: $("$root/benchmarks/lib/machine.sh" 2>/dev/null || uname -m)"
} > "$tmp/full.md"
cat "$tmp/full.md"
[ "$write_doc" = 1 ] && (cd "$root" && benchmarks/lib/update-section.sh yolo-preproc < "$tmp/full.md")
exit 0
