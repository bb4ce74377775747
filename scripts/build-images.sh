#!/usr/bin/env bash
# Build edgefaas' container images without any container registry, on Debian 12 as root:
#   1. a local Debian 12 base image: `debootstrap --variant=minbase bookworm` from the
#      machine's configured Debian mirror (/etc/apt/sources.list*), then `podman import`;
#   2. the edge image (k8s/containers/Containerfile.edge) FROM that base;
#   3. the CPU inference image (k8s/containers/Containerfile.inference) FROM that base.
# Prints each image's size and build time. Needs the `containers` group of
# scripts/deps.txt (podman, buildah, debootstrap): scripts/install-deps.sh containers
#
#   scripts/build-images.sh [--root DIR] [--tag TAG] [--base IMAGE] [--mirror URL] [IMAGE...]
#     IMAGE: base edge inference (default: all three, in that order)
#     --root DIR   podman storage root (default: podman's own); the `containers` test
#                  suite passes a fresh one so the build starts from a clean store.
#     --base IMAGE use this base instead of building one (e.g. docker.io/library/debian:12-slim)
#     --tag TAG    tag of the edge/inference images (default: dev)
#     --mirror URL Debian mirror for debootstrap (default: the first bookworm one in
#                  /etc/apt/sources.list*)
# EDGEFAAS_OCI_RUNTIME: the OCI runtime (default: runc when installed, else podman's).
# Images: localhost/edgefaas-base:bookworm, localhost/edgefaas-edge:TAG,
#         localhost/edgefaas-inference-cpu:TAG
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

root=""
tag=dev
base=""
mirror=""
images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    base|edge|inference) images+=("$1"); shift ;;
    *) echo "build-images: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#images[@]} -gt 0 ] || images=(base edge inference)

if [ "$(id -u)" -ne 0 ]; then
  echo "build-images: run as root (debootstrap and podman's rootful store)" >&2
  exit 1
fi
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "build-images: $tool missing: scripts/install-deps.sh containers" >&2; exit 1; }
done

podman_cmd=(podman)
# runc, not Debian's default crun: crun refuses hybrid cgroup v1+v2 hosts.
runtime=${EDGEFAAS_OCI_RUNTIME:-$(command -v runc || true)}
[ -z "$runtime" ] || podman_cmd+=(--runtime "$runtime")
if [ -n "$root" ]; then
  mkdir -p "$root/storage" "$root/run"
  podman_cmd+=(--root "$root/storage" --runroot "$root/run")
fi

# The first Debian mirror serving bookworm in the apt configuration, both formats
# (deb822 .sources with URIs:/Suites:, one-line "deb URL bookworm ...").
configured_mirror () {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk '$1 == "deb" && $3 == "bookworm" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { uri = ""; ok = 0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
             if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1 }
           if (ok && uri != "") { print uri; exit } }' "$f"
  done
}

size_of () { "${podman_cmd[@]}" image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

report=()
record () { report+=("$(printf '%-42s %8s  built in %4d s' "$1" "$(size_of "$1")" "$2")"); }

build_base () {
  local image=localhost/edgefaas-base:bookworm
  [ -n "$mirror" ] || mirror=$(configured_mirror | head -n 1)
  [ -n "$mirror" ] || { echo "build-images: no bookworm mirror in /etc/apt/sources.list*; pass --mirror" >&2; exit 1; }
  local rootfs start=$SECONDS
  rootfs=$(mktemp -d /var/tmp/edgefaas-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  echo "build-images: debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  # What debian:12-slim also has: updates + security suites, no apt caches or docs.
  cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
EOF
  # As in Debian's official images: apt keeps no downloaded .debs in a layer.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  tar --numeric-owner -C "$rootfs" -c . | "${podman_cmd[@]}" import \
    --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
  base=$image
  record "$image" $((SECONDS - start))
}

build_image () {
  local name=$1 file=$2 image=$3 start=$SECONDS
  echo "build-images: $name image $image FROM $base"
  "${podman_cmd[@]}" build --pull=missing --layers=false --network=host \
    --build-arg BASE_IMAGE="$base" -f "$src/k8s/containers/$file" -t "$image" "$src"
  record "$image" $((SECONDS - start))
}

for image in "${images[@]}"; do
  case "$image" in
    base) [ -n "$base" ] && [ "$base" != localhost/edgefaas-base:bookworm ] && continue; build_base ;;
    edge|inference)
      [ -n "$base" ] || base=localhost/edgefaas-base:bookworm
      if [ "$image" = edge ]; then
        build_image edge Containerfile.edge "localhost/edgefaas-edge:$tag"
      else
        build_image inference Containerfile.inference "localhost/edgefaas-inference-cpu:$tag"
      fi ;;
  esac
done
printf 'build-images: %s\n' "${report[@]}"
