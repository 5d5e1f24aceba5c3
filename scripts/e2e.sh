#!/usr/bin/env bash
# swapdev's end-to-end suite: the `swapdev` binary and the real `kubectl` against a cluster —
# the sandbox by default (started here; needs root), or any Kubernetes cluster you name.
#
# In a namespace of its own (swapdev-e2e-<random>, deleted at the end, also on failure and
# Ctrl-C) it deploys `web` (2 replicas of a Python HTTP server, a ConfigMap, a Secret, a
# Service; containers `app` and `sidecar`) and a client pod, then:
#   a. swaps web:app for a local Python process: the Service answers from it, and it sees the
#      container's env (configMap, secret, fieldRef, $(VAR), envFrom, service links), the
#      volumes under $SWAPDEV_ROOT and the sidecar on 127.0.0.1; its exit code is swapdev's;
#   b. runs a steady request loop (20 req/s, 2 s timeout each) through the Service across
#      swap → local → SIGTERM to swapdev → restore and requires zero failures and the answers
#      original → local → original (make-before-break both ways) — once with the local process
#      started separately (no --run, as from an IDE) and once with --run;
#   c. kills the proxy's sshd session (kubectl exec into the proxy container) and requires
#      swapdev to say it reconnected and the Service to reach the local process again;
#   d. after each exit (normal, SIGTERM, SIGINT) requires the namespace to equal its snapshot
#      from before, with no proxy pod and no swapdev.dev/ annotation.
# Every request is sent from the client pod (`kubectl exec`), since a real cluster's
# ClusterIPs are not reachable from here. One line per check, then "N passed, M failed";
# exit status 1 when any failed.
#
# Usage:
#   sudo scripts/e2e.sh [SCENARIO...]                     sandbox (root: network namespaces)
#   scripts/e2e.sh --kubeconfig FILE [--context C] --proxy-image IMAGE [--app-image IMAGE] [SCENARIO...]
#   SCENARIO: a, b or c (default: all; d is checked after each of them)
#
# A real cluster needs:
#   - a kubeconfig (and context) allowed to create and delete a namespace, and in it
#     deployments, pods, pods/exec, pods/portforward, pods/log, services, configmaps, secrets,
#     serviceaccounts, roles and rolebindings (what `swapdev doctor` checks);
#   - the proxy image pushed where the cluster can pull it:
#       scripts/build-proxy-image.sh --push --tag REGISTRY/swapdev-proxy:$(cat VERSION)
#     then --proxy-image REGISTRY/swapdev-proxy:...  (default: swapdev's own default image);
#   - an app image with python3 on its PATH, pullable by the cluster (default python:3.12-alpine;
#     --app-image for a mirror): it runs the app and the client pod;
#   - python3, jq and curl on this machine (the local process runs here).
# On the sandbox images are recorded, not pulled, and containers run their command on this
# host, so the same manifests work there. On a real cluster b is stricter than on the sandbox:
# kube-proxy drops a deleted pod from the Service a moment after the kubelet has stopped it
# (the sandbox drops it first), so requests fail unless the proxy is drained before it goes.
#
# Options and environment:
#   --kubeconfig FILE   E2E_KUBECONFIG      the cluster; without it a sandbox is started
#   --context NAME      E2E_CONTEXT         kubeconfig context (default: current-context)
#   --proxy-image IMG   E2E_PROXY_IMAGE     swapdev's --proxy-image
#   --app-image IMG     E2E_APP_IMAGE       image of the app and the client (python:3.12-alpine)
#   --keep                                  keep the work directory (logs) in /tmp
#   SWAPDEV_SCRATCH (or --scratch-path DIR) scratch path of the debug binaries (default .build),
#                       built (incrementally) there first; SWAPDEV_BIN: a directory holding them instead
#   E2E_TRACE=1         log the Service's endpoints and the pods every 0.5 s to trace.log (with --keep)
#   E2E_TIME_LIMIT      seconds for the whole run after the build (default 300 on the sandbox,
#                       900 on a cluster); then it fails and cleans up
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
E2E_DIR="$ROOT/scripts/e2e"

KUBECONFIG_PATH=${E2E_KUBECONFIG:-}
CONTEXT=${E2E_CONTEXT:-}
PROXY_IMAGE=${E2E_PROXY_IMAGE:-}
APP_IMAGE=${E2E_APP_IMAGE:-python:3.12-alpine}
KEEP_WORK=""
SCENARIOS=()
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --kubeconfig) KUBECONFIG_PATH=$2; shift 2 ;;
        --context) CONTEXT=$2; shift 2 ;;
        --proxy-image) PROXY_IMAGE=$2; shift 2 ;;
        --app-image) APP_IMAGE=$2; shift 2 ;;
        --scratch-path) export SWAPDEV_SCRATCH=$2; shift 2 ;;
        --keep) KEEP_WORK=1; shift ;;
        -h|--help) usage; exit 0 ;;
        a|b|c) SCENARIOS+=("$1"); shift ;;
        *) echo "e2e: unknown argument $1 (see scripts/e2e.sh --help)" >&2; exit 2 ;;
    esac
done
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=(a b c)
ON_SANDBOX=""
[[ -z "$KUBECONFIG_PATH" ]] && ON_SANDBOX=1

if [[ -n "$ON_SANDBOX" && $(id -u) -ne 0 ]]; then
    echo "e2e: the sandbox cluster needs root (network namespaces); run: sudo scripts/e2e.sh, or pass --kubeconfig FILE for a real cluster" >&2
    exit 1
fi
if [[ -n "$KUBECONFIG_PATH" && ! -r "$KUBECONFIG_PATH" ]]; then
    echo "e2e: cannot read the kubeconfig $KUBECONFIG_PATH" >&2
    exit 1
fi
for tool in kubectl jq curl python3; do
    command -v "$tool" >/dev/null || { echo "e2e: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

# shellcheck source=lib/sandbox.sh
source "$ROOT/scripts/lib/sandbox.sh"
# shellcheck source=e2e/lib.sh
source "$E2E_DIR/lib.sh"
# shellcheck source=e2e/scenarios.sh
source "$E2E_DIR/scenarios.sh"

# The binaries: swapdev always, swapdev-sandbox for the sandbox.
if [[ -n "$ON_SANDBOX" ]]; then
    swapdev_build_binaries || exit 1
elif [[ -z "${SWAPDEV_BIN:-}" || ! -x "$SWAPDEV_BIN/swapdev" ]]; then
    scratch=${SWAPDEV_SCRATCH:-.build}
    swift build --scratch-path "$scratch" --product swapdev --quiet || { echo "e2e: build of swapdev failed" >&2; exit 1; }
    SWAPDEV_BIN=$(swift build --scratch-path "$scratch" --show-bin-path)
fi
SWAPDEV="$SWAPDEV_BIN/swapdev"
# Waits are longer on a real cluster: images are pulled, kube-proxy takes its time.
if [[ -n "$ON_SANDBOX" ]]; then READY_TIMEOUT=60 SWAP_TIMEOUT=60; else READY_TIMEOUT=180 SWAP_TIMEOUT=180; fi
LOAD_RATE=20
LOAD_MAX_SECONDS=$(( SWAP_TIMEOUT * 2 ))

WORK=$(mktemp -d /tmp/swapdev-e2e-XXXXXX)
chmod 755 "$WORK"
NS="swapdev-e2e-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SWAP_PID=""
LOAD_PID=""
LOCAL_PID=""
TRACE_PID=""
WATCHDOG_PID=""
NAMESPACE_CREATED=""

cleanup() {
    trap - EXIT INT TERM
    [[ -n "$WATCHDOG_PID" ]] && kill "$WATCHDOG_PID" 2>/dev/null
    [[ -n "$TRACE_PID" ]] && kill "$TRACE_PID" 2>/dev/null
    if [[ -n "$SWAP_PID" ]] && kill -0 "$SWAP_PID" 2>/dev/null; then
        # Let swapdev restore (the namespace goes anyway, but a swap must never outlive the run).
        kill -TERM "$SWAP_PID" 2>/dev/null
        wait_swap_exit 60 >/dev/null 2>&1 || true
    fi
    kill_swap
    if [[ -n "$LOCAL_PID" ]]; then kill "$LOCAL_PID" 2>/dev/null; wait "$LOCAL_PID" 2>/dev/null; fi
    if [[ -n "$LOAD_PID" ]]; then kill "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; fi
    if [[ -n "$NAMESPACE_CREATED" ]]; then
        kc delete namespace "$NS" --wait=false >/dev/null 2>&1
        # On a real cluster a namespace may take a while to go; say so rather than wait long.
        wait_until 60 not_found namespace "$NS" || echo "e2e: namespace $NS is still terminating; it will go by itself" >&2
    fi
    [[ -n "$ON_SANDBOX" ]] && sandbox_stop
    if [[ -n "$KEEP_WORK" ]]; then echo "e2e: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
not_found() { ! kc get "$@" >/dev/null 2>&1; }
trap cleanup EXIT
trap 'echo "e2e: interrupted; cleaning up" >&2; exit 130' INT
trap 'echo "e2e: stopped (time limit or SIGTERM); cleaning up" >&2; exit 124' TERM

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s: %s\n' "$1" "$2"; }
# fail NAME DETAIL [LOG]: with LOG, the end of that swap's log ($WORK/LOG.log).
fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL %s: %s\n' "$1" "$2"
    if [[ -n "${3:-}" && -f "$WORK/$3.log" ]]; then tail -12 "$WORK/$3.log" | sed 's/^/      swapdev: /'; fi
}

started=$(now)
# The watchdog: SIGTERM to this script when the time is up (its sleep goes with it when cleanup ends it).
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "${E2E_TIME_LIMIT:-$([[ -n "$ON_SANDBOX" ]] && echo 300 || echo 900)}" & sleeper=$!
    wait "$sleeper" && kill -TERM $$ 2>/dev/null
) &
WATCHDOG_PID=$!

if [[ -n "$ON_SANDBOX" ]]; then
    sandbox_start "$WORK/sandbox" || exit 1
    KUBECONFIG_PATH=$KUBECONFIG
    echo "e2e: sandbox cluster ($KUBECONFIG_PATH), namespace $NS"
else
    echo "e2e: cluster from $KUBECONFIG_PATH${CONTEXT:+ (context $CONTEXT)}, namespace $NS, proxy image ${PROXY_IMAGE:-the swapdev default}, app image $APP_IMAGE"
fi

if ! create_namespace "$NS" swapdev.dev/e2e=true; then
    fail "setup" "cannot create namespace $NS"
else
    NAMESPACE_CREATED=1
    if ! deploy_app; then
        fail "setup" "the app or the client pod did not become Ready in ${READY_TIMEOUT}s"
        kc -n "$NS" get pods -o wide 2>&1 | sed 's/^/      /'
    elif ! save_snapshot "$NS"; then
        fail "setup" "cannot read namespace $NS: $(head -c 300 "$WORK/$NS.before" | tr '\n' ' ')"
    else
        start_trace
        for scenario in "${SCENARIOS[@]}"; do "scenario_$scenario"; done
    fi
fi

echo "$PASSED passed, $FAILED failed ($(( $(now) - started ))s)"
[[ $FAILED -eq 0 ]]
