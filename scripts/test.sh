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
# Serial: the end-to-end suites each run a sandbox and real sshd processes, and on a 2-core
# machine timing-sensitive suites are more reliable one at a time. Bounded: a hung test must
# fail the run, not eat CI's time.
timeout --signal=INT --kill-after=30 1200 swift test --skip-build --no-parallel "$@"

if [[ $# -eq 0 ]]; then
  echo "==> proxy image: build with buildah on a debootstrap base, log in through it"
  timeout --kill-after=30 900 scripts/test-proxy-image.sh
  echo "==> fault injection"
  timeout --kill-after=30 900 scripts/chaos.sh
fi
