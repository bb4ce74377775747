#!/usr/bin/env bash
# Install the Node tooling of k8s/tools (offline manifest rendering and validation)
# exactly as pinned by k8s/tools/package-lock.json. Idempotent and quiet: when
# node_modules already matches the lock file it does nothing.
#   scripts/install-node-tools.sh
# Needs node >= 20 and npm (scripts/install-deps.sh tooling) and the npm registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/k8s/tools"
lock="$tools/package-lock.json"
stamp="$tools/node_modules/.edgefaas-lock.sha256"

for cmd in node npm; do
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "install-node-tools: '$cmd' not found (run scripts/install-deps.sh tooling)" >&2; exit 1; }
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "install-node-tools: node $(node --version) is too old, need >= 20" >&2; exit 1
fi

want=$(sha256sum "$lock" | cut -d' ' -f1)
# Parallel callers (the k8s tests) wait for one installer instead of racing npm ci.
mutex="${TMPDIR:-/tmp}/edgefaas-node-tools-$(printf '%s' "$tools" | sha256sum | cut -c1-12).lock"
exec 9>"$mutex"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# npm ci removes node_modules and installs exactly the lock file.
if ! out=$(npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error 2>&1); then
  printf '%s\n' "$out" >&2
  echo "install-node-tools: npm ci failed (is the npm registry reachable?)" >&2
  exit 1
fi
echo "$want" > "$stamp"
