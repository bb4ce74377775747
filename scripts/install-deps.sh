#!/usr/bin/env bash
# Install edgefaas' Debian 12 dependencies from scripts/deps.txt (the only list).
# Idempotent and quiet when everything is already installed.
#   scripts/install-deps.sh [group ...]     groups: build runtime test tooling bench (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build runtime test tooling bench)

wanted=()
while read -r group pkg cmd; do
  case "$group" in ''|'#'*) continue ;; esac
  [ -n "${cmd:-}" ] && command -v "$cmd" >/dev/null 2>&1 && continue
  for g in "${groups[@]}"; do
    [ "$g" = "$group" ] && wanted+=("$pkg")
  done
done < "$here/deps.txt"

missing=()
for pkg in $(printf '%s\n' "${wanted[@]}" | sort -u); do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install)" >&2
  exit 1
fi
echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# rabbitmq-server's postinst starts a system broker; we never use it (tests run
# private brokers), so keep policy-rc.d from starting services during install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy -eq 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
