#!/usr/bin/env bash
# meson test wrapper: install the pinned Node tooling (idempotent), then run one
# suite of k8s-test.mjs. Anything missing is a loud TAP failure, never a skip.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${EDGEFAAS_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
suite=${1:?suite}
if ! out=$("$root/scripts/install-node-tools.sh" 2>&1); then
  echo "TAP version 13"; echo "1..1"; echo "not ok 1 - k8s tooling installed (scripts/install-node-tools.sh)"
  printf '%s\n' "$out" | sed 's/^/# /'
  echo "Bail out! k8s/tools/node_modules missing and could not be installed"
  exit 1
fi
exec node "$here/k8s-test.mjs" "$suite"
