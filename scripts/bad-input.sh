#!/usr/bin/env bash
# Bad input against the sandbox cluster: malformed kubeconfigs, unknown contexts and namespaces,
# bad flags and port specs, missing deployments and containers, a proxy image that cannot be
# pulled, … Each must end with exactly one `error:` line that says what is wrong and what to do
# (checked by key phrases), a non-zero exit, and the cluster exactly as it was. Unusual but valid
# input — ~1 MiB of environment, binary Secret files, non-ASCII values, a Deployment without
# ports — must instead swap, hand the local process the exact bytes, and restore exactly.
# One line per case (`PASS name` / `FAIL name: details`), then "N passed, M failed"; exits
# non-zero when any failed. The cases are in scripts/bad-input/cases.sh; see docs/reliability.md.
#
# Usage: sudo scripts/bad-input.sh [GROUP...]   (groups: kubeconfig flags targets cluster valid; default all)
# Env:   SWAPDEV_SCRATCH  the scratch path whose debug binaries to use (default .build); built when missing
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
export SWAPDEV_SCRATCH=${SWAPDEV_SCRATCH:-.build}

if [[ $(id -u) -ne 0 ]]; then
    echo "bad-input: the sandbox cluster needs root (network namespaces); run: sudo scripts/bad-input.sh" >&2
    exit 1
fi
for tool in kubectl jq curl python3 openssl timeout; do
    command -v "$tool" >/dev/null || { echo "bad-input: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

# shellcheck source=lib/sandbox.sh
source "$ROOT/scripts/lib/sandbox.sh"
# shellcheck source=bad-input/lib.sh
source "$ROOT/scripts/bad-input/lib.sh"
# shellcheck source=bad-input/cases.sh
source "$ROOT/scripts/bad-input/cases.sh"

swapdev_build_binaries || exit 1
SWAPDEV="$SWAPDEV_BIN/swapdev"
WORK=$(mktemp -d /tmp/swapdev-bad-input-XXXXXX)
chmod 755 "$WORK"
NS=bad-input

cleanup() {
    sandbox_stop
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# The 4-minute budget (BUDGET, in lib.sh) counts from the running sandbox, not the build.
STARTED=$(date +%s)
sandbox_start "$WORK/sandbox" || exit 1
KUBECONFIG_PATH="$KUBECONFIG"
CONTEXT=""   # the sandbox kubeconfig's current-context (scripts/lib/cluster.sh's kc)

# Fixtures: see scripts/bad-input/fixtures.py.
python3 "$ROOT/scripts/bad-input/fixtures.py" "$WORK" || { echo "bad-input: fixtures.py failed" >&2; exit 1; }
chmod -R a+rX "$WORK"
create_namespace "$NS" || { echo "bad-input: cannot create namespace $NS" >&2; exit 1; }
kc -n "$NS" create --validate=false -f "$WORK/fixtures.json" > /dev/null || { echo "bad-input: cannot create the fixtures" >&2; exit 1; }
fixtures_ready() {
    local deployment
    for deployment in web pair worker bigenv unicode binsecret; do
        ready "$NS" 1 "$deployment" || return 1
    done
}
if ! wait_until 90 fixtures_ready; then
    echo "bad-input: the fixtures did not become Ready in 90s:" >&2
    kc get pods -n "$NS" >&2
    exit 1
fi
save_cluster_snapshot || { echo "bad-input: cannot read the cluster: $(head -c 300 "$WORK/before")" >&2; exit 1; }

GROUPS_SELECTED=("$@")
[[ ${#GROUPS_SELECTED[@]} -eq 0 ]] && GROUPS_SELECTED=(kubeconfig flags targets cluster valid)
for group in "${GROUPS_SELECTED[@]}"; do
    "cases_$group"
done

echo "$PASSED passed, $FAILED failed ($(( $(date +%s) - STARTED ))s)"
(( FAILED == 0 ))
