#!/usr/bin/env bash
# Benchmarks `swapdev swap` on a fresh sandbox cluster and prints `name value` lines on stdout
# (progress and the per-phase breakdown go to stderr):
#   sandbox_pod_ready_s    median time for the sandbox to make a plain pod (readiness probe,
#                          periodSeconds 1) Ready: create request → Ready condition
#   swap_ready_s           median time from starting `swapdev swap web:app --run LOCAL_SERVER`
#                          to the first request through the Service's ClusterIP answered by the
#                          local process (polled every 20 ms)
#   swap_ready_overhead_s  swap_ready_s − sandbox_pod_ready_s                      (target ≤ 1.0)
#   cli_rss_mb             swapdev's peak RSS (VmHWM) after 100 concurrent 1 MiB echoes through
#                          the tunnel to the local process                         (target ≤ 40)
# The two readiness figures are measured alternately in the same run (the machines are noisy).
# Needs root (the sandbox makes network namespaces).
# Environment: SWAPDEV_BENCH_CONFIG=release|debug (default release), SWAPDEV_SCRATCH (scratch
# path, default .build), SWAPDEV_BIN (a directory with both binaries: skips the build),
# SWAPDEV_BENCH_SWAP_RUNS (default 3), SWAPDEV_BENCH_RSS_CONNECTIONS (100; 0 skips cli_rss_mb),
# SWAPDEV_BENCH_RSS_BYTES (1048576, per connection).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
config=${SWAPDEV_BENCH_CONFIG:-release}
runs=${SWAPDEV_BENCH_SWAP_RUNS:-3}
rss_connections=${SWAPDEV_BENCH_RSS_CONNECTIONS:-100}
rss_bytes=${SWAPDEV_BENCH_RSS_BYTES:-1048576}
# The system interpreter: a pyenv shim costs seconds of start-up on a loaded machine, which
# would be counted in swap_ready_s (the local command is a Python server).
py=/usr/bin/python3
[[ -x "$py" ]] || py=$(command -v python3)
load="$root/scripts/load"
# shellcheck source=lib/sandbox.sh
source "$root/scripts/lib/sandbox.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "bench-swap: the sandbox cluster needs root (network namespaces); run as root" >&2
  exit 1
fi
say() { echo "bench-swap: $*" >&2; }

if [[ -z "${SWAPDEV_BIN:-}" ]]; then
  scratch=${SWAPDEV_SCRATCH:-.build}
  say "building swapdev and swapdev-sandbox ($config, $scratch)"
  swift build -c "$config" --scratch-path "$scratch" --product swapdev-sandbox --quiet >&2
  swift build -c "$config" --scratch-path "$scratch" --product swapdev --quiet >&2
  SWAPDEV_BIN=$(swift build -c "$config" --scratch-path "$scratch" --show-bin-path)
  export SWAPDEV_BIN
fi
swapdev_build_binaries
swapdev="$SWAPDEV_BIN/swapdev"

work=$(mktemp -d /tmp/swapdev-bench-swap.XXXXXX)
swap_pid=""
stop_swap() {
  [[ -n "$swap_pid" ]] || return 0
  kill -INT "$swap_pid" 2>/dev/null || true
  local _
  for _ in $(seq 600); do kill -0 "$swap_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$swap_pid" 2>/dev/null || true
  wait "$swap_pid" 2>/dev/null || true
  swap_pid=""
}
cleanup() {
  stop_swap
  sandbox_stop
  rm -rf "$work"
}
trap cleanup EXIT

say "starting a sandbox in $work"
sandbox_start "$work/sandbox"
k() { kubectl --request-timeout=60s "$@"; }

# The app: Deployment web (1 replica) whose container answers `original` on http (8080) and
# declares an echo port (9000); Service web exposes both.
mkdir -p "$work/original"
echo original > "$work/original/index.html"
container_spec() {
  cat <<JSON
{"name": "app", "image": "example/web:1",
 "command": ["$py", "-m", "http.server", "8080", "--directory", "$work/original"],
 "ports": [{"name": "http", "containerPort": 8080}, {"name": "echo", "containerPort": 9000}],
 "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}
JSON
}
k create --validate=false -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
  "spec": {"selector": {"app": "web"},
           "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "echo", "port": 9000, "targetPort": "echo"}]}},
 {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
           "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [$(container_spec)]}}}}]}
JSON
k rollout status deployment/web --timeout=120s >/dev/null
cluster_ip=$(k get service web -o jsonpath='{.spec.clusterIP}')
say "app deployed; Service web at $cluster_ip"

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One swap: starts swapdev in the background (pid in swap_pid), waits for the first answer of
# the local process through the Service, writes the timing JSON to $work/swap$1.json.
swap_once() {
  local run=$1 http_port echo_port since
  http_port=$(free_port)
  echo_port=$(free_port)
  since=$(date +%s%N)
  "$swapdev" swap web:app --timeout 60s --expose "$http_port:http" --expose "$echo_port:echo" \
    --run "$py" "$load/local_server.py" "$http_port" "$echo_port" \
    > "$work/swap$run.out" 2> "$work/swap$run.log" &
  swap_pid=$!
  if ! "$py" "$load/first_local_answer.py" --url "http://$cluster_ip/" --since "$since" \
      --log "$work/swap$run.log" --pid "$swap_pid" --timeout 120 --linger 2 > "$work/swap$run.json"; then
    say "swap $run: the local process never answered through the Service; swapdev's log:"
    sed 's/^/    /' "$work/swap$run.log" >&2
    return 1
  fi
}

for run in $(seq "$runs"); do
  # The baseline: a bare pod like the app's (same command, same probe), in the same run.
  "$py" - "$run" "$(container_spec)" > "$work/plain$run.json" <<'PY'
import json, sys
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"plain-{sys.argv[1]}"},
                  "spec": {"containers": [json.loads(sys.argv[2])]}}))
PY
  "$py" "$load/pod_ready.py" "$KUBECONFIG" default "$work/plain$run.json" > "$work/plain$run.s"
  say "run $run: plain pod Ready in $(cat "$work/plain$run.s") s"

  swap_once "$run"
  say "run $run: first answer of the local process after $("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ready_s"])' "$work/swap$run.json") s"

  if [[ $run -eq $runs && $rss_connections -gt 0 ]]; then
    # Peak memory with N concurrent connections through the tunnel, on the last swap.
    status="/proc/$swap_pid/status"
    say "swapdev before the load: $(grep -E 'VmRSS|VmHWM' "$status" | tr -s ' \t\n' ' ')"
    "$py" "$load/echo_load.py" concurrent "$cluster_ip" 9000 --connections "$rss_connections" \
      --size "$rss_bytes" --timeout 120 > "$work/rss-load.json" ||
      say "WARNING: the load for cli_rss_mb had errors (the peak is still swapdev's; see scripts/load.sh): $(cat "$work/rss-load.json")"
    hwm_kb=$(awk '/^VmHWM:/ {print $2}' "$status")
    say "swapdev after $rss_connections concurrent $rss_bytes-byte echoes: $(grep -E 'VmRSS|VmHWM' "$status" | tr -s ' \t\n' ' ')"
    say "load: $(cat "$work/rss-load.json")"
  fi
  stop_swap
  k rollout status deployment/web --timeout=120s >/dev/null
done

# Medians and the per-phase breakdown (stderr): for each phase line, the time it appeared
# after swapdev started and the duration swapdev reports for it.
"$py" - "$work" "$runs" "${hwm_kb:-0}" <<'PY'
import json, re, statistics, sys
work, runs, hwm_kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
plain = [float(open(f"{work}/plain{r}.s").read()) for r in range(1, runs + 1)]
swaps = [json.load(open(f"{work}/swap{r}.json")) for r in range(1, runs + 1)]
ready = [s["ready_s"] for s in swaps]
phase_pattern = re.compile(r"^\s*[✓✗] (.*) \((\d+\.\d+)s\)$")
table = {}
for s in swaps:
    for at, line in s["phases"]:
        match = phase_pattern.match(line)
        if match:
            # Pod names and swap ids differ per run; keep the phase's words.
            name = match.group(1)
            for pattern, replacement in ((r"web-swapdev-\w+", "PROXY"), (r"swap \w+ recorded", "swap recorded"),
                                         (r"swapdev-root-\w+", "swapdev-root-X")):
                name = re.sub(pattern, replacement, name)
            table.setdefault(name, []).append((at, float(match.group(2))))
print("bench-swap: phases (median over runs: appeared at / took), in order:", file=sys.stderr)
for name, values in sorted(table.items(), key=lambda item: statistics.median(v[0] for v in item[1])):
    print(f"bench-swap:   {statistics.median(v[0] for v in values):6.2f}s  {statistics.median(v[1] for v in values):5.2f}s  {name}", file=sys.stderr)
print(f"bench-swap: runs: pod Ready {plain}, swap ready {ready}", file=sys.stderr)
pod, swap = statistics.median(plain), statistics.median(ready)
print(f"sandbox_pod_ready_s {pod:.2f}")
print(f"swap_ready_s {swap:.2f}")
print(f"swap_ready_overhead_s {swap - pod:.2f}")
if hwm_kb:
    print(f"cli_rss_mb {hwm_kb / 1024:.1f}")
PY
