#!/usr/bin/env bash
# Fault injection against the sandbox cluster: each scenario swaps a small app, breaks something
# (kill -9 of swapdev at each phase, the proxy pod deleted, sshd killed, the API server
# restarted or frozen, an HPA on the Deployment), and checks that the namespace ends exactly as
# before the swap — by itself (dead-man switch, reconnect) or after one `swapdev restore`. One
# line per scenario, then "N passed, M failed"; exits non-zero when any failed.
# See docs/reliability.md.
#
# Scenarios that only touch their own namespace run in parallel on one sandbox; the two that
# take the whole API server away (restart, freeze) run after them, one at a time.
#
# Usage: sudo scripts/chaos.sh [SCENARIO...]      (default: all; names as in ALL below)
# Env:   SWAPDEV_SCRATCH   the scratch path whose debug binaries to use (default .build); they are
#                          built there when missing or too old for this script
#        SWAPDEV_BIN       a directory holding swapdev and swapdev-sandbox (skips the build)
#        RESTORE_AFTER     --restore-after in seconds for the swaps (default 12)
#        CHAOS_JOBS        how many of the parallel scenarios run at once (default 4)
#        KEEP_WORK=1       keep the work directory (logs, snapshots) for a post-mortem
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
export SWAPDEV_SCRATCH=${SWAPDEV_SCRATCH:-.build}
RESTORE_AFTER=${RESTORE_AFTER:-12}
CHAOS_JOBS=${CHAOS_JOBS:-4}
# The sandbox's default --restart-downtime: how long SIGUSR1 keeps its API server down.
API_DOWNTIME=5

if [[ $(id -u) -ne 0 ]]; then
    echo "chaos: the sandbox cluster needs root (network namespaces); run: sudo scripts/chaos.sh" >&2
    exit 1
fi
for tool in kubectl jq curl python3; do
    command -v "$tool" >/dev/null || { echo "chaos: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

# shellcheck source=lib/sandbox.sh
source "$ROOT/scripts/lib/sandbox.sh"
# The binaries already built in the scratch path, unless they miss what this script needs
# (a sandbox that cannot restart its API server on SIGUSR1 would die of it).
built="$ROOT/$SWAPDEV_SCRATCH/debug"
if [[ -z "${SWAPDEV_BIN:-}" && -x "$built/swapdev" && -x "$built/swapdev-sandbox" ]] \
    && "$built/swapdev-sandbox" serve --help 2>/dev/null | grep -q -- --restart-downtime; then
    SWAPDEV_BIN=$built
fi
swapdev_build_binaries || { echo "chaos: build failed" >&2; exit 1; }
SWAPDEV="$SWAPDEV_BIN/swapdev"

WORK=$(mktemp -d /tmp/swapdev-chaos-XXXXXX)
KUBECONFIG_PATH="$WORK/sandbox/kubeconfig"
CONTEXT=""   # the sandbox kubeconfig's current-context (scripts/lib/cluster.sh's kc)
mkdir -p "$WORK/original" "$WORK/local"
printf original > "$WORK/original/who"
printf local > "$WORK/local/who"
chmod -R a+rX "$WORK"
# shellcheck source=chaos/lib.sh
source "$ROOT/scripts/chaos/lib.sh"

SWAP_PID=""
SCENARIO_PIDS=()
cleanup() {
    local pid
    for pid in "${SCENARIO_PIDS[@]}"; do
        for child in $(descendants "$pid"); do kill -KILL "$child" 2>/dev/null; done
        kill -KILL "$pid" 2>/dev/null
    done
    [[ -n "$SWAP_PID" ]] && kill -KILL "$SWAP_PID" 2>/dev/null
    sandbox_stop
    [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

STARTED=$(now)
sandbox_start "$WORK/sandbox" || exit 1
API_PORT=$(sed -n 's#.*server: https://127.0.0.1:\([0-9]*\).*#\1#p' "$KUBECONFIG_PATH")

# Result lines go to standard output (a file per scenario when they run in parallel); the
# closing count is taken from them.
pass() { printf 'PASS  %-40s %s\n' "$1" "$2"; }
fail() {
    printf 'FAIL  %-40s %s\n' "$1" "$2"
    show_difference "$3"
    [[ -f "$WORK/$3.swap.log" ]] && tail -5 "$WORK/$3.swap.log" | sed 's/^/      swapdev: /'
}

# settle NAME NS START AUTO_LIMIT: the end of every scenario — the namespace must come back by
# itself within AUTO_LIMIT seconds (when a dead-man switch or swapdev can do it) or after one
# `swapdev restore`.
settle() {
    local name=$1 ns=$2 start=$3 auto_limit=$4
    # Done by itself: exact, or the switch has finished (no proxy, no record) — then any
    # leftover (a dead-man object swapdev was killed before handing to the pod) needs a restore.
    if wait_until "$auto_limit" restored_or_switch_done "$ns" && wait_until 5 same_as_before "$ns"; then
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

# kill9_scenario NAME NS PHASE-CHECK: swap, wait for the phase, kill -9, settle.
kill9_scenario() {
    local name=$1 ns=$2 phase=$3
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns"
    if ! wait_fast 90 "$phase" "$ns"; then
        kill9_swap
        settle "$name" "$ns" "$(now)" 1
        return
    fi
    kill9_swap
    local start; start=$(now)
    # The dead-man switch runs in the proxy pod, and only once swapdev made its objects (the
    # pod's token Secret among them): a pod that cannot start means one restore is needed.
    if ! proxy_exists "$ns"; then
        settle "$name (no proxy yet)" "$ns" "$start" 3
    elif ! wait_until 10 proxy_running "$ns"; then
        settle "$name (switch incomplete)" "$ns" "$start" 3
    else
        settle "$name" "$ns" "$start" $((RESTORE_AFTER + 40))
    fi
}

scenario_sigint() {
    local name="Ctrl-C with the tunnel up" ns=chaos-sigint
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns"
    if ! wait_until 90 tunnel_up "$ns"; then stop_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    local start; start=$(now)
    stop_swap
    settle "$name" "$ns" "$start" 30
}

scenario_kill9_recorded()  { kill9_scenario "kill -9 right after the record" chaos-k9-record record_written; }
scenario_kill9_proxy()     { kill9_scenario "kill -9 after the proxy exists" chaos-k9-proxy proxy_exists; }
scenario_kill9_scaled()    { kill9_scenario "kill -9 after the scale-down" chaos-k9-scaled scaled_down; }
scenario_kill9_tunnel()    { kill9_scenario "kill -9 with the tunnel up" chaos-k9-tunnel tunnel_up; }

scenario_kill9_restore() {
    local name="kill -9, then swapdev restore" ns=chaos-k9-restore
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns"
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
    start_swap "$ns"
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
    start_swap "$ns"
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    local pod pid drops
    drops=$(log_count "$ns" "the tunnel went down")
    pod=$(proxy_pod "$ns")
    pid=$(kc exec -n "$ns" "$pod" -c app -- cat /var/run/swapdev/sshd.pid 2>/dev/null | tr -dc 0-9)
    if [[ -z "$pid" ]]; then stop_swap; fail "$name" "cannot read sshd's pid in $pod" "$ns"; return; fi
    # The sandbox runs pods as host processes: the pid file holds a host pid.
    kill -KILL "$pid"
    local start; start=$(now)
    # The old session must be seen to die before "serving again" means anything.
    wait_until 10 log_count_above "$ns" "the tunnel went down" "$drops"
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

# An HPA (min 2) on the Deployment: `--force` swaps anyway; the HPA must not scale the
# Deployment back up during the swap (autoscaling is disabled at 0 replicas), and after the
# restore it is active again and enforces its minimum.
scenario_hpa() {
    local name="HPA on the Deployment (--force)" ns=chaos-hpa
    deploy_app "$ns" hpa || { fail "$name" "the app or its HPA did not start" "$ns"; return; }
    local SWAP_OPTIONS=(--force)
    start_swap "$ns"
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; restore_once "$ns"; fail "$name" "the swap never served the local process" "$ns"; return; fi
    if ! wait_until 10 hpa_condition "$ns" ScalingActive False ScalingDisabled; then
        stop_swap; fail "$name" "the HPA did not report ScalingDisabled during the swap" "$ns"; return
    fi
    # The controller reacts to every change at once; 3 s at 0 shows it leaves the swap alone.
    sleep 3
    if ! scaled_down "$ns" || ! service_answers "$ns" web local; then
        stop_swap; fail "$name" "the HPA scaled the swapped Deployment back up" "$ns"; return
    fi
    stop_swap
    if ! wait_until 30 same_as_before "$ns"; then fail "$name" "the restore was not exact" "$ns"; return; fi
    if ! wait_until 10 hpa_condition "$ns" ScalingActive True; then fail "$name" "the HPA is not active after the restore" "$ns"; return; fi
    local rescales; rescales=$(hpa_rescales "$ns")
    kc scale deployment web -n "$ns" --replicas=1 >/dev/null
    # Back as before means spec.replicas 2 and two live pods of web (readiness can lag on a busy host).
    if wait_until 20 hpa_rescaled_since "$ns" "$rescales" && wait_until 30 same_as_before "$ns"; then
        pass "$name" "stayed at 0 during the swap; after the restore the HPA enforces min 2 again"
    else
        fail "$name" "after the restore the HPA did not bring a scale to 1 back to its min 2" "$ns"
        echo "      replicas $(kc get deployment web -n "$ns" -o jsonpath='{.spec.replicas}'), rescale events $rescales → $(hpa_rescales "$ns"), HPA status:"
        kc get horizontalpodautoscaler web -n "$ns" -o json | jq -c .status | sed 's/^/      /' 
    fi
}

# A real API server restart: every connection (the port-forward under the SSH session, watches,
# keep-alive) is cut, new ones are refused for a while, then it serves the same state. swapdev
# must reconnect by itself within seconds with its local process still running.
scenario_api_restarted() {
    local name="API server restarted with the tunnel up" ns=chaos-api-restart
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns"
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; restore_once "$ns"; fail "$name" "the swap never served the local process" "$ns"; return; fi
    await_turn api_restarted
    local local_pids reconnects
    local_pids=$(descendants "$SWAP_PID")
    reconnects=$(log_count "$ns" "tunnel reconnected")
    kill -USR1 "$SANDBOX_PID"
    local start; start=$(now)
    if ! wait_until 5 api_refuses; then stop_swap; fail "$name" "the API server did not go down on SIGUSR1" "$ns"; return; fi
    if ! wait_until $((API_DOWNTIME + 10)) api_answers; then stop_swap; fail "$name" "the API server did not come back" "$ns"; return; fi
    if wait_until 30 log_count_above "$ns" "tunnel reconnected" "$reconnects" && wait_until 30 tunnel_up "$ns" && recorded "$ns"; then
        local back=$(( $(now) - start )) pid
        for pid in $local_pids; do
            kill -0 "$pid" 2>/dev/null || { stop_swap; fail "$name" "the local process (pid $pid) did not survive the reconnect" "$ns"; return; }
        done
        stop_swap
        if wait_until 30 same_as_before "$ns"; then
            pass "$name" "reconnected, serving again ${back}s after the restart (${API_DOWNTIME}s down); exact restore"
        else
            fail "$name" "restore after the API server restart was not exact" "$ns"
        fi
    else
        stop_swap
        restore_once "$ns"
        fail "$name" "swapdev did not reconnect within 30s of the API server's return (cleaned up with swapdev restore)" "$ns"
    fi
}

# A network partition rather than a restart: connections hang without being closed, longer than
# --restore-after. The dead-man switch must not fire (it cannot read the heartbeat either and
# restarts its clock), and swapdev must get its tunnel back once the API server answers.
scenario_api_frozen() {
    local name="API server frozen 15s" ns=chaos-api-frozen
    deploy_app "$ns" || { fail "$name" "the app did not start" "$ns"; return; }
    start_swap "$ns"
    if ! wait_until 90 tunnel_up "$ns"; then kill9_swap; fail "$name" "the swap never served the local process" "$ns"; return; fi
    await_turn api_frozen
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

# Scenarios confined to their own namespace run in parallel. The others take the whole API
# server away: they set up their swap alongside, then wait for their turn (await_turn), which
# comes once the parallel ones are done, one at a time. The frozen-API swap is up during the
# restart too, so it has to come through both.
PARALLEL=(sigint kill9_recorded kill9_proxy kill9_scaled kill9_tunnel kill9_restore proxy_deleted sshd_killed hpa)
EXCLUSIVE=(api_restarted api_frozen)
ALL=("${PARALLEL[@]}" "${EXCLUSIVE[@]}")
SELECTED=("$@")
[[ ${#SELECTED[@]} -eq 0 ]] && SELECTED=("${ALL[@]}")
for scenario in "${SELECTED[@]}"; do
    declare -F "scenario_$scenario" >/dev/null || { echo "chaos: no scenario '$scenario'; known: ${ALL[*]}" >&2; exit 1; }
done
is_exclusive() { [[ " ${EXCLUSIVE[*]} " == *" $1 "* ]]; }

# await_turn SCENARIO: blocks an exclusive scenario until the main loop gives it its turn.
await_turn() { while [[ ! -e "$WORK/turn-$1" ]]; do sleep 0.2; done; }

mkdir -p "$WORK/results"
declare -A PID_OF
launch() {
    ( "scenario_$1" ) > "$WORK/results/$1" 2>&1 &
    PID_OF[$1]=$!
    SCENARIO_PIDS+=($!)
}
# The exclusive ones first (they only set up, then wait), then the others, at most CHAOS_JOBS
# at a time: more swaps at once than the machine can serve only measures the machine.
for scenario in "${SELECTED[@]}"; do is_exclusive "$scenario" && launch "$scenario"; done
running_limit=$(( CHAOS_JOBS + $(jobs -rp | wc -l) ))
for scenario in "${SELECTED[@]}"; do
    is_exclusive "$scenario" && continue
    while (( $(jobs -rp | wc -l) >= running_limit )); do wait -n; done
    launch "$scenario"
done
# Reported in the order given, each as soon as it and those before it are done; the exclusive
# ones get their turn after every parallel one has finished.
for scenario in "${SELECTED[@]}"; do
    is_exclusive "$scenario" && continue
    wait "${PID_OF[$scenario]}"
    cat "$WORK/results/$scenario"
done
for scenario in "${SELECTED[@]}"; do
    is_exclusive "$scenario" || continue
    touch "$WORK/turn-$scenario"
    wait "${PID_OF[$scenario]}"
    cat "$WORK/results/$scenario"
done
SCENARIO_PIDS=()

if "$SWAPDEV" restore --all -A --kubeconfig "$KUBECONFIG_PATH" | grep -q "nothing to restore"; then
    pass "nothing left anywhere" "swapdev restore --all -A finds nothing" | tee "$WORK/results/zz-final"
else
    printf 'FAIL  %-40s %s\n' "nothing left anywhere" "swapdev restore --all -A still found something" | tee "$WORK/results/zz-final"
fi
PASSED=$(cat "$WORK"/results/* | grep -c '^PASS ')
FAILED=$(cat "$WORK"/results/* | grep -c '^FAIL ')
# A scenario that died without a line (a bug in this script) counts as failed.
for scenario in "${SELECTED[@]}"; do
    grep -q '^\(PASS\|FAIL\) ' "$WORK/results/$scenario" || { echo "FAIL  $scenario: no result line"; FAILED=$((FAILED + 1)); }
done
echo "chaos: $(( $(now) - STARTED ))s wall time"
echo "$PASSED passed, $FAILED failed"
(( FAILED == 0 ))
