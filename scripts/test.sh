#!/usr/bin/env bash
# Runs every test of swapdev on this machine: installs what is missing, builds, runs the
# Swift test suites (unit, sandbox, tunnel, end-to-end) and the scripted suites (proxy image,
# portable end-to-end, fault injection, bad input, load and soak).
# Usage: scripts/test.sh [extra `swift test` arguments, e.g. --filter KubeClientTests]
#        (with arguments only `swift test` runs)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(uname -s)" == Linux && $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: the sandbox cluster creates network namespaces and needs root; run it with sudo" >&2
  exit 1
fi

SWAPDEV_WITH_IMAGE_TOOLS=1 scripts/install-deps.sh

echo "==> swift build (tests included)"
swift build --build-tests --quiet
export SWAPDEV_BIN
SWAPDEV_BIN=$(swift build --show-bin-path)

if [[ $# -gt 0 ]]; then
  exec timeout --signal=INT --kill-after=30 1200 swift test --skip-build --no-parallel "$@"
fi

logs=$(mktemp -d /tmp/swapdev-test-XXXXXX)
results=()
status=0

# suite NAME LIMIT COMMAND...: runs a suite in the foreground, bounded; a hung suite fails the
# run instead of eating CI's time.
suite() {
  local name=$1 limit=$2; shift 2
  local start=$SECONDS rc=0
  echo "==> $name"
  timeout --signal=INT --kill-after=30 "$limit" "$@" || rc=$?
  results+=("$(printf '%-28s %s  %4ds' "$name" "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")" $((SECONDS - start)))")
  [[ $rc == 0 ]] || status=1
}

# The fault-injection and bad-input suites mostly wait (dead-man timeouts, restarts, one-line
# failures), so they run one after the other beside the foreground suites, each with a sandbox
# of its own (every sandbox takes its own network slot); their output is shown when they end.
background_start=$SECONDS
(
  rc=0
  echo "==> fault injection"
  timeout --kill-after=30 900 scripts/chaos.sh || rc=$?
  echo "==> bad input"
  timeout --kill-after=30 400 scripts/bad-input.sh || rc=$((rc == 0 ? $? : rc))
  exit "$rc"
) > "$logs/background.log" 2>&1 &
background_pid=$!

# Serial: the Swift end-to-end suites each run a sandbox and real sshd processes, and on a
# 2-core machine timing-sensitive suites are more reliable one at a time.
suite "swift test" 1500 swift test --skip-build --no-parallel
suite "proxy image (buildah)" 900 scripts/test-proxy-image.sh

echo "==> fault injection and bad input (ran beside the suites above)"
background_rc=0
wait "$background_pid" || background_rc=$?
cat "$logs/background.log"
results+=("$(printf '%-28s %s  %4ds' "fault injection, bad input" "$([[ $background_rc == 0 ]] && echo ok || echo "FAILED ($background_rc)")" $((SECONDS - background_start)))")
[[ $background_rc == 0 ]] || status=1
rm -rf "$logs"

# Last and alone: its zero-failed-requests scenarios time every request (2 s each), so they
# measure swapdev, not a machine busy with three other suites.
suite "end-to-end (scripts/e2e.sh)" 600 scripts/e2e.sh
# Also alone: 1,000 concurrent connections through one swap, then a 30 s soak (the script's
# default soak is 60 s; the checks are the same).
suite "load and soak (scripts/load.sh)" 300 env SWAPDEV_LOAD_SOAK_SECONDS=30 scripts/load.sh

echo "==> summary"
printf '  %s\n' "${results[@]}"
exit "$status"
