#!/usr/bin/env bash
# Benchmarks `swapdev dev` on the sandbox cluster and prints `name value` lines:
#   dev_sync_p50_ms / dev_sync_p95_ms   save → served by python3 -m http.server, one-file change (20 runs)
#   dev_initial_sync_10k_s             swapdev's initial sync of a 10,000-file tree
#   kubectl_tar_10k_s                  `tar c | kubectl exec -i POD -- tar x` of the same tree, same run
#   dev_replace_10k_s                  `kubectl delete pod` of the dev pod → the forwarded port serves the
#                                      tree again from its replacement (new pod, initial sync, restart)
# Needs root (the sandbox makes network namespaces), curl and kubectl; builds the binaries in
# ${SWAPDEV_SCRATCH:-.build} when they are missing.
# Override the binaries with SWAPDEV=... SANDBOX=...; RUNS=N changes the number of one-file changes.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCRATCH="${SWAPDEV_SCRATCH:-.build}"
BIN="${BIN:-$ROOT/$SCRATCH/debug}"
SWAPDEV="${SWAPDEV:-$BIN/swapdev}"
SANDBOX="${SANDBOX:-$BIN/swapdev-sandbox}"
RUNS="${RUNS:-20}"
PYTHON=/usr/bin/python3

if [ ! -x "$SWAPDEV" ] || [ ! -x "$SANDBOX" ]; then
  (cd "$ROOT" && swift build --scratch-path "$SCRATCH" --product swapdev --quiet && swift build --scratch-path "$SCRATCH" --product swapdev-sandbox --quiet) >&2
fi
for tool in "$SWAPDEV" "$SANDBOX"; do
  [ -x "$tool" ] || { echo "missing $tool: build it first with swift build --product $(basename "$tool")" >&2; exit 1; }
done
command -v kubectl >/dev/null || { echo "kubectl is needed for the comparison: apt-get install kubectl" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed: apt-get install curl" >&2; exit 1; }

WORK="$(mktemp -d /tmp/bench-dev.XXXXXX)"
SANDBOX_PID=""
DEV_PID=""
cleanup() {
  [ -n "$DEV_PID" ] && kill -INT "$DEV_PID" 2>/dev/null && wait "$DEV_PID" 2>/dev/null || true
  [ -n "$SANDBOX_PID" ] && kill -TERM "$SANDBOX_PID" 2>/dev/null && wait "$SANDBOX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SANDBOX" serve --dir "$WORK/sandbox" >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 600); do [ -f "$WORK/sandbox/kubeconfig" ] && break; sleep 0.1; done
[ -f "$WORK/sandbox/kubeconfig" ] || { echo "sandbox did not start: $(tail -5 "$WORK/sandbox.log")" >&2; exit 1; }
export KUBECONFIG="$WORK/sandbox/kubeconfig"
K="kubectl --request-timeout=60s"

# The target: static files from an emptyDir at /app, as a dev image would have.
cat >"$WORK/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, labels: {app: bench}}
spec:
  replicas: 1
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      volumes: [{name: app, emptyDir: {}}, {name: copy, emptyDir: {}}]
      containers:
      - name: web
        image: example/bench:1
        command: [$PYTHON, -m, http.server, "8000"]
        workingDir: /app
        volumeMounts: [{name: app, mountPath: /app}, {name: copy, mountPath: /copy}]
YAML
$K apply -f "$WORK/deploy.yaml" >/dev/null
$K rollout status deployment/bench --timeout=120s >/dev/null

# 10,000 files of ~200 bytes in 100 directories.
TREE="$WORK/tree"
"$PYTHON" - "$TREE" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(f"{root}/dir{d}", exist_ok=True)
    for f in range(100):
        with open(f"{root}/dir{d}/file{f}.txt", "w") as out:
            out.write(f"{d}/{f} " * 25)
PY

now_ms() { date +%s%3N; }

# kubectl baseline: tar the same tree into the running original pod.
POD="$($K get pods -l app=bench -o jsonpath='{.items[0].metadata.name}')"
start=$(now_ms)
tar cf - -C "$TREE" . | $K exec -i "$POD" -c web -- tar xf - -C /copy
kubectl_ms=$(( $(now_ms) - start ))

# swapdev dev with the same tree.
PORT=$(( 20000 + RANDOM % 20000 ))
(cd "$TREE" && exec "$SWAPDEV" dev bench:web --sync ".:/app" --no-restart --no-logs --port-forward "$PORT:8000") >"$WORK/dev.log" 2>&1 &
DEV_PID=$!
for _ in $(seq 1 1200); do grep -q "process started" "$WORK/dev.log" && break; kill -0 "$DEV_PID" 2>/dev/null || break; sleep 0.1; done
grep -q "process started" "$WORK/dev.log" || { echo "swapdev dev did not start: $(tail -5 "$WORK/dev.log")" >&2; exit 1; }
initial_ms=$(sed -n 's/.*initial sync: 10000 files .* in \([0-9.]*\) \(ms\|s\).*/\1 \2/p' "$WORK/dev.log" | head -1)
case "$initial_ms" in
  *" ms") initial_s=$(awk -v v="${initial_ms% ms}" 'BEGIN{printf "%.2f", v/1000}') ;;
  *" s") initial_s=$(awk -v v="${initial_ms% s}" 'BEGIN{printf "%.2f", v}') ;;
  *) echo "no initial sync line for 10000 files in $WORK/dev.log: $(grep 'initial sync' "$WORK/dev.log")" >&2; exit 1 ;;
esac
for _ in $(seq 1 100); do curl -sf --noproxy '*' "http://127.0.0.1:$PORT/dir0/file0.txt" >/dev/null && break; sleep 0.1; done

# One-file changes: save → the server returns the new content.
samples=()
for run in $(seq 1 "$RUNS"); do
  value="change-$run-$RANDOM"
  start=$(now_ms)
  printf '%s' "$value" >"$TREE/dir7/file7.txt"
  deadline=$(( start + 30000 ))
  while :; do
    got="$(curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/dir7/file7.txt" || true)"
    [ "$got" = "$value" ] && break
    [ "$(now_ms)" -gt "$deadline" ] && { echo "change $run not served within 30 s" >&2; exit 1; }
    sleep 0.005
  done
  samples+=( $(( $(now_ms) - start )) )
  sleep 0.3
done

# Replacement: delete the dev pod; swapdev makes the next one, syncs the tree into it and moves
# the port-forward over. Timed from the delete to the same local port serving the last change.
DEV_POD="$($K get pods -l swapdev.dev/swap -o jsonpath='{.items[0].metadata.name}')"
start=$(now_ms)
$K delete pod "$DEV_POD" --wait=false >/dev/null
deadline=$(( start + 180000 ))
while :; do
  if grep -q "replacing it with" "$WORK/dev.log" && grep -q "is in sync and its process started" "$WORK/dev.log"; then
    got="$(curl -sf --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/dir7/file7.txt" || true)"
    [ "$got" = "$value" ] && break
  fi
  [ "$(now_ms)" -gt "$deadline" ] && { echo "no replacement served within 180 s: $(tail -5 "$WORK/dev.log")" >&2; exit 1; }
  sleep 0.05
done
replace_ms=$(( $(now_ms) - start ))

kill -INT "$DEV_PID"; wait "$DEV_PID" 2>/dev/null || true; DEV_PID=""

sorted=$(printf '%s\n' "${samples[@]}" | sort -n)
pick() { printf '%s\n' "$sorted" | awk -v p="$1" '{a[NR]=$1} END{i=int((NR*p+99)/100); if(i<1)i=1; print a[i]}'; }
echo "dev_sync_p50_ms $(pick 50)"
echo "dev_sync_p95_ms $(pick 95)"
echo "dev_initial_sync_10k_s $initial_s"
echo "kubectl_tar_10k_s $(awk -v v="$kubectl_ms" 'BEGIN{printf "%.2f", v/1000}')"
echo "dev_replace_10k_s $(awk -v v="$replace_ms" 'BEGIN{printf "%.2f", v/1000}')"
