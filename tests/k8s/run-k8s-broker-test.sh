#!/usr/bin/env bash
# meson test wrapper: install the pinned Node tooling (idempotent), then run
# SCRIPT OVERLAY (broker-keda.mjs, broker-edge-spool.mjs) against a private
# RabbitMQ with the management plugin (tests/fixture edgefaas-broker).
#   run-k8s-broker-test.sh EDGEFAAS_BROKER SCRIPT OVERLAY
# Anything missing is a loud TAP failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${EDGEFAAS_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
broker=${1:?edgefaas-broker path}
script=${2:?script}
overlay=${3:?overlay}
if ! out=$("$root/scripts/install-node-tools.sh" 2>&1); then
  echo "TAP version 13"; echo "1..1"; echo "not ok 1 - k8s tooling installed (scripts/install-node-tools.sh)"
  printf '%s\n' "$out" | sed 's/^/# /'
  exit 1
fi
exec "$broker" --management -- node "$here/$script" "$overlay"
