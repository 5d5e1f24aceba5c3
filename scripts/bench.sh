#!/usr/bin/env bash
# Runs swapdev's benchmarks and prints one figure per line as `name value`.
# Every comparison is made inside the same run (these machines are noisy), and the
# results table in docs/performance.md is rewritten from this run's figures.
#
# Usage: scripts/bench.sh [tunnel|dev|swap|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

run() {
  local script="$1"
  if [[ ! -x "$script" ]]; then
    echo "bench: $script is missing" >&2
    return 1
  fi
  "$script" | tee -a "$results"
}

case "$what" in
  tunnel) run scripts/bench-tunnel.sh ;;
  dev)    run scripts/bench-dev.sh ;;
  swap)   run scripts/bench-swap.sh ;;
  all)
    status=0
    for s in scripts/bench-tunnel.sh scripts/bench-swap.sh scripts/bench-dev.sh; do
      run "$s" || status=1
    done
    ;;
  *) echo "usage: scripts/bench.sh [tunnel|dev|swap|all]" >&2; exit 2 ;;
esac

scripts/bench/write-performance-doc.py "$results" docs/performance.md
exit "${status:-0}"
