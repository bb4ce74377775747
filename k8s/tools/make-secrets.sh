#!/usr/bin/env bash
# Generate the Secrets edgefaas needs (random passwords) as YAML on stdout:
#   k8s/tools/make-secrets.sh [--namespace NS] | kubectl apply -f -
# Nothing is written to disk and no password is ever committed. Run it once per
# cluster; re-running makes NEW passwords (then restart the pods).
#   edgefaas-amqp-credentials  username, password        pipelines (EDGEFAAS_AMQP_PASSWORD);
#                                                         production: Topology Operator User
#   edgefaas-keda-credentials  username, password, host  KEDA's scaler (host: the management
#                                                         URL with the password, KEDA 2.3)
#   edgefaas-rabbitmq-users    20-users.json             dev broker: both users, hashed
#                                                         (rabbit_password_hashing_sha256), and
#                                                         their vhost permissions: keda gets an
#                                                         entry with empty regexes (vhost access
#                                                         for the management API, no resource)
set -euo pipefail
ns=edgefaas
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=${2:?--namespace needs a value}; shift 2 ;;
    *) echo "usage: $0 [--namespace NS]" >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "make-secrets: openssl not found" >&2; exit 1; }

app_user=edgefaas
keda_user=keda
app_pw=$(openssl rand -hex 24)
keda_pw=$(openssl rand -hex 24)
# Hex passwords need no URL escaping.
keda_host="http://${keda_user}:${keda_pw}@rabbitmq.${ns}.svc:15672/"

# RabbitMQ's SHA-256 password hash: base64(salt || sha256(salt || password)), 4-byte salt.
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rabbit_hash() {
  openssl rand -out "$work/salt" 4
  { cat "$work/salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary > "$work/digest"
  cat "$work/salt" "$work/digest" | base64 -w0
}

users_json=$(cat <<JSON
{
  "users": [
    {"name": "${app_user}", "password_hash": "$(rabbit_hash "$app_pw")",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []},
    {"name": "${keda_user}", "password_hash": "$(rabbit_hash "$keda_pw")",
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["monitoring"]}
  ],
  "permissions": [
    {"user": "${app_user}", "vhost": "/",
     "configure": "^(edgefaas|frames|detections|alerts)(\\\\..*)?\$",
     "write": "^(edgefaas|frames|detections|alerts)(\\\\..*)?\$",
     "read": "^(edgefaas|frames|detections|alerts)(\\\\..*)?\$"},
    {"user": "${keda_user}", "vhost": "/", "configure": "", "write": "", "read": ""}
  ]
}
JSON
)

cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: edgefaas-amqp-credentials
  namespace: ${ns}
type: Opaque
stringData:
  username: ${app_user}
  password: ${app_pw}
---
apiVersion: v1
kind: Secret
metadata:
  name: edgefaas-keda-credentials
  namespace: ${ns}
type: Opaque
stringData:
  username: ${keda_user}
  password: ${keda_pw}
  host: ${keda_host}
---
apiVersion: v1
kind: Secret
metadata:
  name: edgefaas-rabbitmq-users
  namespace: ${ns}
type: Opaque
stringData:
  20-users.json: |
$(printf '%s\n' "$users_json" | sed 's/^/    /')
YAML
