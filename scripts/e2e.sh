#!/usr/bin/env bash
# Runs swapdev's end-to-end suite (swap + restore) against the sandbox cluster: the Swift
# end-to-end tests start their own sandbox (needs root), so this builds and runs them.
# Usage: sudo scripts/e2e.sh [--scratch-path DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SWAPDEV_SCRATCH:-.build}
[[ "${1:-}" == --scratch-path ]] && scratch=$2

if [[ $(id -u) -ne 0 ]]; then
  echo "e2e: the sandbox cluster needs root (network namespaces); run: sudo scripts/e2e.sh" >&2
  exit 1
fi
scripts/install-deps.sh
swift build --scratch-path "$scratch" --build-tests
# The suites use SandboxLauncher, which finds swapdev-sandbox next to the test bundle.
timeout --signal=INT --kill-after=30 900 \
  swift test --scratch-path "$scratch" --skip-build --filter 'SwapEngineTests'
