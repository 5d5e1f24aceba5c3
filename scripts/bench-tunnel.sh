#!/usr/bin/env bash
# Measures swapdev's SSH tunnel against OpenSSH's own `ssh -R`, same sshd (the proxy image's
# entrypoint and config, run on 127.0.0.1), same target server, same run. Prints `name value`:
#   tunnel_throughput_vs_openssh   one 200 MB download: swapdev MB/s ÷ ssh -R MB/s   (target ≥ 0.6)
#   tunnel_rps_vs_openssh          sequential small requests, each a new connection  (target ≥ 1.5)
#   tunnel_concurrent_vs_openssh   50 concurrent 20 MB downloads                     (target ≥ 1.0)
#   tunnel_added_latency_us_p50    median request latency through swapdev minus direct
# Environment: SWAPDEV_BENCH_CONFIG=release|debug (default release), SWAPDEV_BENCH_SECONDS (1.5,
# the sequential-request slice per path and round), SWAPDEV_BENCH_ROUNDS (5).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
config="${SWAPDEV_BENCH_CONFIG:-release}"
seconds="${SWAPDEV_BENCH_SECONDS:-1.5}"
rounds="${SWAPDEV_BENCH_ROUNDS:-5}"
scratch="$root/${SWAPDEV_SCRATCH:-.build}"
work=$(mktemp -d /tmp/swapdev-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f "$work/state/sshd.pid" ]] && kill "$(cat "$work/state/sshd.pid")" 2>/dev/null || true
  exec 3>&- 4>&- 5>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

swift build -c "$config" --scratch-path "$scratch" --product swapdev-tunnel-bench >&2
bench_bin="$scratch/$config/swapdev-tunnel-bench"
user=$(id -un)

# Target server.
coproc SERVER { python3 "$root/scripts/bench/tunnel_server.py"; }
pids+=("$SERVER_PID")
read -r _ server_port <&"${SERVER[0]}"

# swapdev's side first: it prints the public key sshd must accept.
coproc BENCH { "$bench_bin" "$user" "$server_port"; }
pids+=("$BENCH_PID")
read -r _ swapdev_pubkey <&"${BENCH[0]}"

# OpenSSH client key, then sshd with both keys.
ssh-keygen -q -t ed25519 -N '' -f "$work/id" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sshd_port=$(free_port)
SWAPDEV_STATE_DIR="$work/state" SWAPDEV_SSHD_PORT="$sshd_port" SWAPDEV_SSHD_LISTEN=127.0.0.1 \
  SWAPDEV_AUTHORIZED_KEY="$swapdev_pubkey"$'\n'"$(cat "$work/id.pub")" \
  "$root/proxy-image/entrypoint.sh" > "$work/sshd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'swapdev-proxy: ready' "$work/sshd.log" && break; sleep 0.1; done
fingerprint=$(sed -n 's/^swapdev-proxy: host key //p' "$work/sshd.log")
[[ -n "$fingerprint" ]] || { echo "bench-tunnel: sshd did not start: $(tail -3 "$work/sshd.log")" >&2; exit 1; }

echo "$sshd_port $fingerprint" >&"${BENCH[1]}"
read -r _ swapdev_port <&"${BENCH[0]}"

openssh_port=$(free_port)
ssh -N -o ExitOnForwardFailure=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
  -i "$work/id" -p "$sshd_port" -R "127.0.0.1:$openssh_port:127.0.0.1:$server_port" "$user@127.0.0.1" &
pids+=($!)
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$openssh_port)).close()" 2>/dev/null && break
  sleep 0.1
done

load() { python3 "$root/scripts/bench/tunnel_load.py" "$1" "$seconds" >> "$work/$2.jsonl"; }
# Rounds of all three paths in turn, each round a short slice of each: a machine that gets
# busier or quieter during the run then weighs on both tunnels alike. Each figure is the median
# of its per-round ratios.
for round in $(seq "$rounds"); do
  load "$server_port" direct
  load "$swapdev_port" swapdev
  load "$openssh_port" openssh
  echo "bench-tunnel: round $round: swapdev $(tail -1 "$work/swapdev.jsonl")" >&2
  echo "bench-tunnel: round $round: openssh $(tail -1 "$work/openssh.jsonl")" >&2
done

python3 - "$work" <<'PY'
import json, statistics, sys
runs = {name: [json.loads(line) for line in open(f"{sys.argv[1]}/{name}.jsonl")] for name in ("direct", "swapdev", "openssh")}
def ratio(key):
    return statistics.median(s[key] / o[key] for s, o in zip(runs["swapdev"], runs["openssh"]))
print("tunnel_throughput_vs_openssh %.2f" % ratio("bulk_mbps"))
print("tunnel_rps_vs_openssh %.2f" % ratio("rps"))
print("tunnel_concurrent_vs_openssh %.2f" % ratio("concurrent_mbps"))
print("tunnel_added_latency_us_p50 %.0f" % statistics.median(s["p50_us"] - d["p50_us"] for s, d in zip(runs["swapdev"], runs["direct"])))
PY
