#!/usr/bin/env bash
# Runs every test of swapdev on this machine: installs what is missing, builds, runs the
# Swift test suites (unit, sandbox, tunnel, end-to-end) and the scripted suites.
# Usage: scripts/test.sh [extra `swift test` arguments, e.g. --filter KubeClientTests]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(uname -s)" == Linux && $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: the sandbox cluster creates network namespaces and needs root; run it with sudo" >&2
  exit 1
fi

SWAPDEV_WITH_IMAGE_TOOLS=1 scripts/install-deps.sh

echo "==> swift build (tests included)"
swift build --build-tests --quiet

echo "==> swift test"
# Bounded: a hung test must fail the run, not eat CI's 90 minutes.
timeout --signal=INT --kill-after=30 1200 swift test --skip-build "$@"

for suite in scripts/e2e.sh scripts/chaos.sh; do
  if [[ -x "$suite" && $# -eq 0 ]]; then
    echo "==> $suite"
    timeout --kill-after=30 900 "$suite"
  fi
done
