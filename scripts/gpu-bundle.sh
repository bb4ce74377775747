#!/usr/bin/env bash
# Make the folder that scripts/gpu-verify.sh runs from on an NVIDIA machine
# without network (docs/gpu.md):
#   scripts/gpu-bundle.sh OUT_DIR [--build BUILD_DIR] [--debs CACHE_DIR] [--engine LIB_DIR]
#       [--darknet-fork PREFIX [--cuda-lib DIR]]
#
# OUT_DIR gets:
#   plugins/      our GStreamer plugin and libgstedgefaas, as built in BUILD_DIR
#   bin/          yolo-gpu-probe, yolo-gen-weights (built in BUILD_DIR)
#   prefix/       the runtime as Debian packages: every package that owns a
#                 library those binaries (and the GStreamer elements they use:
#                 coreelements, app, videoconvertscale, jpeg) load, glibc and
#                 its loader included, fetched with `apt-get download` at the
#                 versions installed here and unpacked with `dpkg -x`
#   models/       Yolo-Fastest 1.1 (cfg, weights, names) and yolov4.cfg from
#                 ../shared/models; YOLOv4 weights are generated on the GPU
#                 machine by bin/yolo-gen-weights (245 MB, seeded)
#   images/       darknet's sample images (/usr/share/darknet/data/*.jpg)
#   engine/       (only with --engine) a CUDA build of the inference engine:
#                 the shared libraries in LIB_DIR, put first on the library
#                 path (docs/gpu.md says how to build it)
#   darknet/      (only with --darknet-fork) AlexeyAB's darknet, which runs
#                 YOLOv4: PREFIX/lib/libdarknet.so (its CUDA build for the GPU
#                 machine; its CPU build also works, for device=cpu) and the
#                 CUDA runtime libraries it needs (libcudart, libcublas,
#                 libcurand, ... from --cuda-lib DIR, default the lib64 beside
#                 nvcc; never the driver's libcuda.so.1). Our module
#                 libedgefaas-yolo-darknet-fork.so goes to plugins/: BUILD_DIR
#                 must have been configured with -Ddarknet-fork (docs/gpu.md)
#   gpu-verify.sh, MANIFEST (packages and versions, source commit)
# --debs keeps the downloaded .deb files (default:
# ~/.cache/edgefaas/gpu-debs) so a second bundle needs no download.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: gpu-bundle.sh OUT_DIR [--build BUILD_DIR] [--debs CACHE_DIR] [--engine LIB_DIR] [--darknet-fork PREFIX [--cuda-lib DIR]]}
shift
build=$root/build debs= engine= fork= cuda_lib=
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --debs) debs=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --darknet-fork) fork=$2; shift 2 ;;
    --cuda-lib) cuda_lib=$2; shift 2 ;;
    *) echo "gpu-bundle.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
debs=${debs:-${XDG_CACHE_HOME:-$HOME/.cache}/edgefaas/gpu-debs}
shared=${EDGEFAAS_SHARED_DIR:-$root/../shared}
probe=$build/tests/yolo/yolo-gpu-probe
genw=$build/tests/yolobackend/yolo-gen-weights
plugin=$build/plugins/yolo/libgstedgefaasyolo.so
for f in "$probe" "$genw" "$plugin"; do
  [ -e "$f" ] || { echo "gpu-bundle.sh: $f not built (ninja -C $build)" >&2; exit 1; }
done
fast=$shared/models/yolo-fastest-1.1-coco
[ -f "$fast/yolo-fastest-1.1.weights" ] && [ -f "$shared/models/cfg/yolov4.cfg" ] \
  || { echo "gpu-bundle.sh: models missing under $shared/models (set EDGEFAAS_SHARED_DIR)" >&2; exit 1; }
ls /usr/share/darknet/data/*.jpg >/dev/null 2>&1 || { echo "gpu-bundle.sh: /usr/share/darknet/data missing (apt-get install darknet)" >&2; exit 1; }
command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "gpu-bundle.sh: needs apt-get and dpkg (Debian)" >&2; exit 1; }
command -v patchelf >/dev/null || { echo "gpu-bundle.sh: patchelf missing: scripts/install-deps.sh" >&2; exit 1; }
fork_module=$build/plugins/yolo/libedgefaas-yolo-darknet-fork.so
if [ -n "$fork" ]; then
  [ -f "$fork/lib/libdarknet.so" ] || { echo "gpu-bundle.sh: --darknet-fork $fork has no lib/libdarknet.so" >&2; exit 1; }
  [ -f "$fork_module" ] || { echo "gpu-bundle.sh: $fork_module not built (meson configure $build -Ddarknet-fork=PREFIX)" >&2; exit 1; }
  if [ -z "$cuda_lib" ]; then
    nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    cuda_lib=$(dirname "$(dirname "$(readlink -f "$nvcc")")")/lib64
  fi
fi
if [ -n "$engine" ]; then
  ls "$engine"/*.so* >/dev/null 2>&1 || { echo "gpu-bundle.sh: --engine $engine has no shared libraries" >&2; exit 1; }
fi

rm -rf "$out"
mkdir -p "$out"/{plugins,bin,prefix,models,images} "$debs"
out=$(cd "$out" && pwd)
cp "$plugin" "$out/plugins/"
libedgefaas=$(ldd "$plugin" | awk '/libgstedgefaas-1.0/ {print $3}')
[ -n "$libedgefaas" ] && cp -L "$libedgefaas" "$out/plugins/$(basename "$libedgefaas" | sed 's/\.so\..*/.so.0/')"
cp "$probe" "$genw" "$out/bin/"
cp "$root/scripts/gpu-verify.sh" "$out/"
cp "$fast/yolo-fastest-1.1.cfg" "$fast/yolo-fastest-1.1.weights" "$fast/coco.names" "$shared/models/cfg/yolov4.cfg" "$out/models/"
cp /usr/share/darknet/data/*.jpg "$out/images/"
[ -n "$engine" ] && { mkdir -p "$out/engine"; cp -a "$engine"/*.so* "$out/engine/"; }
fork_line=
if [ -n "$fork" ]; then
  # the fork's libdarknet, the CUDA runtime libraries it needs (a CUDA build),
  # and our module for it; the driver's libcuda.so.1 stays the GPU machine's
  mkdir -p "$out/darknet"
  cp -L "$fork/lib/libdarknet.so" "$out/darknet/"
  cp "$fork_module" "$out/plugins/"
  patchelf --remove-rpath "$out/plugins/libedgefaas-yolo-darknet-fork.so"
  LD_LIBRARY_PATH=$cuda_lib ldd "$out/darknet/libdarknet.so" > "$out/.fork-ldd"
  missing=$(awk '$3 == "not" && $1 != "libcuda.so.1" {print $1}' "$out/.fork-ldd")
  [ -z "$missing" ] || { echo "gpu-bundle.sh: libdarknet.so needs $missing, not in --cuda-lib $cuda_lib" >&2; exit 1; }
  for l in $(awk '$2 == "=>" && $3 ~ /^\// && $1 ~ /^lib(cu|nv)/ && $1 != "libcuda.so.1" {print $3}' "$out/.fork-ldd"); do
    cp -L "$l" "$out/darknet/"
  done
  rm -f "$out/.fork-ldd"
  cuda=no
  if nm -D "$out/darknet/libdarknet.so" | grep ' T cuda_make_array$' > /dev/null; then cuda=yes; fi
  runtime=$(cd "$out/darknet" && ls | { grep -v '^libdarknet' || true; } | tr '\n' ',' | sed 's/,$//')
  fork_line="darknet-fork commit=$(cat "$fork/COMMIT" 2>/dev/null || echo unknown) cuda=$cuda libdarknet_sha256=$(sha256sum "$out/darknet/libdarknet.so" | cut -c1-16) cuda_runtime=${runtime:-none}"
fi

# --- the runtime: packages owning every library the binaries load -----------
gstdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
elements=("$gstdir/libgstcoreelements.so" "$gstdir/libgstapp.so" "$gstdir/libgstvideoconvertscale.so" "$gstdir/libgstjpeg.so")
libs=$( { for f in "$out/plugins/"*.so* "$out/bin/"* "${elements[@]}" $(ls "$out/darknet/"*.so* 2>/dev/null); do
            LD_LIBRARY_PATH=$out/plugins:$out/darknet ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
          done; printf '%s\n' "${elements[@]}"; } | sort -u)
# owners in one dpkg -S call: the real path of each library, with and
# without /usr (merged /usr: the package database may list either)
cands=$(for l in $libs; do
          case $l in "$out"/*) continue ;; esac
          r=$(readlink -f "$l"); echo "$r"; echo "${r#/usr}"
        done | sort -u)
dpkg -S $cands > "$out/.owners" 2>/dev/null || true
for l in $libs; do
  case $l in "$out"/*) continue ;; esac
  r=$(readlink -f "$l")
  grep -q -e ": $r\$" -e ": ${r#/usr}\$" "$out/.owners" \
    || { echo "gpu-bundle.sh: no package owns $l" >&2; exit 1; }
done
pkgs=$(cut -d: -f1 "$out/.owners" | tr ',' '\n' | sed 's/^ *//' | sort -u)
rm -f "$out/.owners"
# the GStreamer plugin packages themselves, and libc6 (the loader the verify
# script runs everything with)
pkgs=$(printf '%s\n' $pkgs libgstreamer1.0-0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good libc6 | sed 's/:amd64$//' | sort -u)
: > "$out/MANIFEST"
echo "edgefaas $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown) built in $build" >> "$out/MANIFEST"
[ -z "$fork_line" ] || echo "$fork_line" >> "$out/MANIFEST"
for p in $pkgs; do
  v=$(dpkg-query -W -f='${Version}' "$p")
  f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -n1 || true)
  # a cached .deb of another version is the fallback an earlier run took
  if [ -z "$f" ]; then
    # the installed version; if the archive no longer has it (a newer
    # security update replaced it), the current one of the same release
    (cd "$debs" && { apt-get download -q -o APT::Sandbox::User=root "$p=$v" >/dev/null 2>&1 \
        || apt-get download -q -o APT::Sandbox::User=root "$p" >/dev/null; }) \
      || { echo "gpu-bundle.sh: apt-get download $p failed (apt-get update?)" >&2; exit 1; }
    f=$(ls -t "$debs/${p}_"*.deb | head -n1)
    [ "$(dpkg-deb -f "$f" Version)" = "$v" ] || echo "gpu-bundle.sh: $p: installed $v is gone from the archive, bundled $(dpkg-deb -f "$f" Version)" >&2
  fi
  echo "$p $(dpkg-deb -f "$f" Version)" >> "$out/MANIFEST"
  dpkg -x "$f" "$out/prefix"
done
# a library without SONAME (Debian's libdarknet.so) is recorded by its
# absolute path, which would bypass the bundle: record the file name only
for f in "$out/plugins/"*.so* "$out/bin/"*; do
  for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(\/.*\)\]/\1/p'); do
    patchelf --replace-needed "$n" "$(basename "$n")" "$f"
  done
done
loader=$(cd "$out/prefix" && find . -name 'ld-linux-x86-64.so.2' | head -n1)
[ -n "$loader" ] || { echo "gpu-bundle.sh: the loader is not in the unpacked libc6" >&2; exit 1; }
echo "loader ${loader#./}" >> "$out/MANIFEST"
echo "gpu-bundle.sh: $out: $(echo $pkgs | wc -w) Debian packages, $(du -sh "$out" | cut -f1)" >&2
