#!/usr/bin/env bash
# Fault injection against the sandbox cluster: each scenario swaps a small app, breaks something
# (kill -9 of swapdev at each phase, the proxy pod deleted, sshd killed, the API server frozen),
# and checks that the namespace ends exactly as before the swap — by itself (dead-man switch,
# reconnect) or after one `swapdev restore`. One line per scenario, then "N passed, M failed";
# exits non-zero when any failed. See docs/reliability.md.
#
# Usage: sudo scripts/chaos.sh [SCENARIO...]      (default: all; names as printed)
# Env:   SWAPDEV_SCRATCH   the scratch path whose debug binaries to use (default .build); they are
#                          built there when missing
#        RESTORE_AFTER     --restore-after in seconds for the swaps (default 12)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${SWAPDEV_SCRATCH:-.build}
RESTORE_AFTER=${RESTORE_AFTER:-12}

if [[ $(id -u) -ne 0 ]]; then
    echo "chaos: the sandbox cluster needs root (network namespaces); run: sudo scripts/chaos.sh" >&2
    exit 1
fi
for tool in kubectl jq curl python3; do
    command -v "$tool" >/dev/null || { echo "chaos: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

SWAPDEV="$ROOT/$SCRATCH/debug/swapdev"
SANDBOX="$ROOT/$SCRATCH/debug/swapdev-sandbox"
if [[ ! -x "$SWAPDEV" || ! -x "$SANDBOX" ]]; then
    echo "chaos: building swapdev and swapdev-sandbox in $SCRATCH" >&2
    swift build --scratch-path "$SCRATCH" --product swapdev --quiet && swift build --scratch-path "$SCRATCH" --product swapdev-sandbox --quiet \
        || { echo "chaos: build failed" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/swapdev-chaos-XXXXXX)
KUBECONFIG_PATH="$WORK/sandbox/kubeconfig"
mkdir -p "$WORK/original" "$WORK/local"
printf original > "$WORK/original/who"
printf local > "$WORK/local/who"
chmod -R a+rX "$WORK"
# shellcheck source=chaos/lib.sh
source "$ROOT/scripts/chaos/lib.sh"

SANDBOX_PID=""
SWAP_PID=""
cleanup() {
    [[ -n "$SWAP_PID" ]] && kill -KILL "$SWAP_PID" 2>/dev/null
    if [[ -n "$SANDBOX_PID" ]]; then
        kill -CONT "$SANDBOX_PID" 2>/dev/null
        kill -TERM "$SANDBOX_PID" 2>/dev/null
        for _ in $(seq 150); do kill -0 "$SANDBOX_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SANDBOX_PID" 2>/dev/null
    fi
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# Sandboxes share the host's service network: another one running (another test run) would
# answer for 10.96.0.1, the pods' API server. Wait a little for it, then refuse.
for _ in $(seq 120); do
    ss -ltn 2>/dev/null | grep -q '10\.96\.0\.1:443 ' || break
    sleep 1
done
if ss -ltn 2>/dev/null | grep -q '10\.96\.0\.1:443 '; then
    echo "chaos: another swapdev-sandbox runs on this host (10.96.0.1:443 is taken); run chaos.sh when it is gone" >&2
    exit 1
fi

"$SANDBOX" serve --dir "$WORK/sandbox" --proxy-image-dir "$ROOT/proxy-image" > "$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
if ! wait_until 60 test -s "$KUBECONFIG_PATH"; then
    echo "chaos: the sandbox did not start; its log:" >&2
    tail -20 "$WORK/sandbox.log" >&2
    exit 1
fi

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf 'PASS  %-34s %s\n' "$1" "$2"; }
fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL  %-34s %s\n' "$1" "$2"
    show_difference "$3"
    [[ -f "$WORK/$3.swap.log" ]] && tail -5 "$WORK/$3.swap.log" | sed 's/^/      swapdev: /'
}

# settle NAME NS START: the end of every scenario — the namespace must come back by itself (when
# a dead-man switch or swapdev can do it) or after one `swapdev restore`.
settle() {
    local name=$1 ns=$2 start=$3 auto_limit=$4
    if wait_until "$auto_limit" same_as_before "$ns"; then
        pass "$name" "restored by itself in $(( $(now) - start ))s"
        return
    fi
    restore_once "$ns"
    if wait_until 20 same_as_before "$ns"; then
        pass "$name" "restored by one swapdev restore ($(( $(now) - start ))s)"
    else
        fail "$name" "namespace differs from before the swap" "$ns"
    fi
}

# kill9_at PHASE-CHECK: swap, wait for the phase, kill -9, settle.
kill9_scenario() {
    local name=$1 ns=$2 port=$3 phase=$4
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" "$port"
    if ! wait_fast 90 "$phase" "$ns"; then
        kill9_swap
        settle "$name" "$ns" "$(now)" 1
        return
    fi
    kill9_swap
    local start; start=$(now)
    # A dead-man switch exists only once the proxy pod does.
    if proxy_exists "$ns"; then
        settle "$name" "$ns" "$start" $((RESTORE_AFTER + 40))
    else
        settle "$name (no proxy yet)" "$ns" "$start" 3
    fi
}

scenario_sigint() {
    local name="Ctrl-C with the tunnel up" ns=chaos-sigint
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" 18081
    if ! wait_until 90 tunnel_up "$ns"; then stop_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    local start; start=$(now)
    stop_swap
    settle "$name" "$ns" "$start" 30
}

scenario_kill9_recorded()  { kill9_scenario "kill -9 right after the record" chaos-k9-record 18082 record_written; }
scenario_kill9_proxy()     { kill9_scenario "kill -9 after the proxy exists" chaos-k9-proxy 18083 proxy_exists; }
scenario_kill9_scaled()    { kill9_scenario "kill -9 after the scale-down" chaos-k9-scaled 18084 scaled_down; }
scenario_kill9_tunnel()    { kill9_scenario "kill -9 with the tunnel up" chaos-k9-tunnel 18085 tunnel_up; }

scenario_kill9_restore() {
    local name="kill -9, then swapdev restore" ns=chaos-k9-restore
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" 18086
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    kill9_swap
    restore_once "$ns"
    if ! wait_until 20 same_as_before "$ns"; then fail "$name" "one restore did not bring it back" "$ns"; return; fi
    # The dead-man switch went with the proxy: nothing may change later.
    sleep $((RESTORE_AFTER + 5))
    if same_as_before "$ns" && "$SWAPDEV" restore web -n "$ns" --kubeconfig "$KUBECONFIG_PATH" | grep -q "nothing to restore"; then
        pass "$name" "exact after one restore; a second restore changes nothing"
    else
        fail "$name" "changed after the restore, or a second restore did something" "$ns"
    fi
}

scenario_proxy_deleted() {
    local name="proxy pod deleted" ns=chaos-proxy-deleted
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" 18087
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    local start; start=$(now)
    kc delete pod -n "$ns" "$(proxy_pod "$ns")" --wait=false >/dev/null
    # swapdev notices (the tunnel cannot come back) and restores, or one restore does.
    if wait_until 60 same_as_before "$ns"; then
        stop_swap
        pass "$name" "swapdev restored by itself in $(( $(now) - start ))s"
    else
        stop_swap
        settle "$name" "$ns" "$start" 5
    fi
}

scenario_sshd_killed() {
    local name="sshd killed in the proxy" ns=chaos-sshd-killed
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" 18088
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    local pod pid
    pod=$(proxy_pod "$ns")
    pid=$(kc exec -n "$ns" "$pod" -c app -- cat /var/run/swapdev/sshd.pid 2>/dev/null | tr -dc 0-9)
    if [[ -z "$pid" ]]; then stop_swap; fail "$name" "cannot read sshd's pid in $pod" "$ns"; return; fi
    # The sandbox runs pods as host processes: the pid file holds a host pid.
    kill -KILL "$pid"
    local start; start=$(now)
    sleep 2
    if wait_until 60 tunnel_up "$ns"; then
        local back=$(( $(now) - start ))
        stop_swap
        if wait_until 30 same_as_before "$ns"; then pass "$name" "tunnel back in ${back}s, then an exact restore"; else fail "$name" "restore after the reconnect was not exact" "$ns"; fi
    else
        stop_swap
        restore_once "$ns"
        fail "$name" "the tunnel did not come back within 60s (cleaned up with swapdev restore)" "$ns"
    fi
}

scenario_api_frozen() {
    local name="API server frozen 15s" ns=chaos-api-frozen
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns" 18089
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    # SIGSTOP: the API server neither answers nor closes connections (a network partition).
    kill -STOP "$SANDBOX_PID"
    sleep 15
    kill -CONT "$SANDBOX_PID"
    local start; start=$(now)
    if wait_until 60 tunnel_up "$ns" && recorded "$ns"; then
        local back=$(( $(now) - start ))
        stop_swap
        if wait_until 30 same_as_before "$ns"; then pass "$name" "swap survived (serving again ${back}s after), exact restore"; else fail "$name" "restore after the freeze was not exact" "$ns"; fi
    else
        stop_swap
        restore_once "$ns"
        fail "$name" "the swap did not survive the freeze (cleaned up with swapdev restore)" "$ns"
    fi
}

ALL=(sigint kill9_recorded kill9_proxy kill9_scaled kill9_tunnel kill9_restore proxy_deleted sshd_killed api_frozen)
SELECTED=("$@")
[[ ${#SELECTED[@]} -eq 0 ]] && SELECTED=("${ALL[@]}")
for scenario in "${SELECTED[@]}"; do
    "scenario_$scenario"
    SWAP_PID=""
done

if "$SWAPDEV" restore --all -A --kubeconfig "$KUBECONFIG_PATH" | grep -q "nothing to restore"; then
    pass "nothing left anywhere" "swapdev restore --all -A finds nothing"
else
    FAILED=$((FAILED + 1)); echo "FAIL  nothing left anywhere             swapdev restore --all -A still found something"
fi
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
