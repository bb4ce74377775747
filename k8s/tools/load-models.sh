#!/usr/bin/env bash
# Load model weights into the PersistentVolumeClaim edgefaas-models (mounted
# read-only at /models by inference; nothing in an image carries weights).
#   k8s/tools/load-models.sh [--namespace NS] [--image IMAGE] [--claim NAME] MODEL_DIR...
#   k8s/tools/load-models.sh --print [--image IMAGE]     the loader Pod's YAML only
# Each MODEL_DIR (e.g. ../shared/models/yolo-fastest-1.1-coco) is copied to
# /models/<basename of MODEL_DIR>/ through a short-lived loader Pod that mounts
# the claim read-write (restricted Pod Security, uid 10001 like inference),
# its files' SHA-256 are compared with the local ones, then the Pod is deleted.
# Run it once per model version, before the first inference pod needs it
# (without the files inference exits with yolov4infer's "cannot open" error and
# stays in CrashLoopBackOff, never Ready).
# Needs kubectl with access to the namespace; the image needs tar and sha256sum
# (kubectl cp), which the Debian-based inference image has.
set -euo pipefail
ns=edgefaas
image=edgefaas-inference
claim=edgefaas-models
print=0
dirs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=${2:?--namespace needs a value}; shift 2 ;;
    --image) image=${2:?--image needs a value}; shift 2 ;;
    --claim) claim=${2:?--claim needs a value}; shift 2 ;;
    --print) print=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "load-models: unknown option $1" >&2; exit 2 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
pod=edgefaas-models-loader

manifest() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${pod}
  namespace: ${ns}
  labels:
    app.kubernetes.io/name: ${pod}
    app.kubernetes.io/part-of: edgefaas
    app.kubernetes.io/component: models-loader
spec:
  restartPolicy: Never
  serviceAccountName: edgefaas-inference
  automountServiceAccountToken: false
  activeDeadlineSeconds: 3600
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: loader
      image: ${image}
      command: ["sleep", "3600"]
      resources:
        requests: { cpu: 50m, memory: 64Mi }
        limits: { cpu: 500m, memory: 256Mi }
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: models
          mountPath: /models
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: models
      persistentVolumeClaim:
        claimName: ${claim}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
YAML
}

if [ "$print" = 1 ]; then manifest; exit 0; fi
[ ${#dirs[@]} -gt 0 ] || { echo "usage: $0 [--namespace NS] [--image IMAGE] MODEL_DIR..." >&2; exit 2; }
for d in "${dirs[@]}"; do
  [ -d "$d" ] || { echo "load-models: $d is not a directory" >&2; exit 2; }
done
command -v kubectl >/dev/null || { echo "load-models: kubectl not found" >&2; exit 1; }

trap 'kubectl -n "$ns" delete pod "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true' EXIT
manifest | kubectl apply -f -
kubectl -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout=300s
for d in "${dirs[@]}"; do
  name=$(basename "$d")
  kubectl -n "$ns" exec "$pod" -- mkdir -p "/models/$name"
  kubectl -n "$ns" cp "$d/." "$ns/$pod:/models/$name"
  want=$(cd "$d" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  got=$(kubectl -n "$ns" exec "$pod" -- sh -c "cd /models/$name && find . -type f -print0 | sort -z | xargs -0 sha256sum")
  if [ "$want" != "$got" ]; then
    echo "load-models: /models/$name differs from $d after the copy" >&2
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
    exit 1
  fi
  echo "load-models: /models/$name loaded and verified ($(printf '%s\n' "$want" | wc -l) files)"
done
