# Helpers of scripts/bad-input.sh (sourced, bash). Needs: kubectl, jq, curl, python3, timeout.
# Uses: SWAPDEV (the binary), KUBECONFIG_PATH (the sandbox kubeconfig), CONTEXT (empty), NS (the
# fixtures' namespace), WORK.

PASSED=0
FAILED=0

# now, wait_until
# shellcheck source=lib/wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/wait.sh"
# wait_for_exit
# shellcheck source=lib/process.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/process.sh"
# kc, create_namespace, ready, scaled_down, service_answers, SNAPSHOT_KINDS and SNAPSHOT_JQ
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"

# cluster_snapshot: the state a bad input must not change, as canonical JSON, from one kubectl
# call — scripts/lib/cluster.sh's namespace snapshot of $NS (objects made comparable, pods by
# owner), widened to the whole cluster: the list of namespaces, anything labelled as a swap's
# anywhere, and any Deployment with a swapdev.dev/ annotation anywhere. Errors are printed
# into it (so a difference shows them) and make it fail.
cluster_snapshot() {
    {
        kc get "namespaces,$SNAPSHOT_KINDS,pods" -A -o json | jq -S --arg ns "$NS" "$SNAPSHOT_JQ"'
            .items as $all
            | {objects: [$all[] | select(.metadata.namespace == $ns and .kind != "Pod")] | comparable_objects,
               pods: [$all[] | select(.metadata.namespace == $ns and .kind == "Pod")] | pods_by_owner,
               namespaces: [$all[] | select(.kind == "Namespace") | .metadata.name] | sort,
               labelled: [$all[] | select(.metadata.labels // {} | has("swapdev.dev/swap")) | "\(.kind) \(.metadata.namespace)/\(.metadata.name)"] | sort,
               annotated: [$all[] | select(.kind == "Deployment" and (.metadata.annotations // {} | keys | any(startswith("swapdev.dev/")))) | .metadata.name] | sort}'
    } 2>&1
}

# save_cluster_snapshot: keeps the snapshot that `unchanged` compares with; fails when the
# cluster could not be read.
save_cluster_snapshot() { cluster_snapshot > "$WORK/before"; }

# unchanged: the cluster equals the saved snapshot; waits up to SECONDS (default 0) for it,
# for cases whose cleanup (a deleted proxy pod, a recreated original) is still finishing.
unchanged() {
    local limit=$(( $(now) + ${1:-0} ))
    while true; do
        cluster_snapshot > "$WORK/after"
        cmp -s "$WORK/before" "$WORK/after" && return 0
        (( $(now) >= limit )) && return 1
        sleep 0.5
    done
}

# difference: a short description of how the cluster differs from the snapshot.
difference() { diff "$WORK/before" "$WORK/after" | grep '^[<>]' | head -4 | cut -c1-160 | tr '\n' ' '; }

# over_budget: the run has used its time (BUDGET seconds from STARTED, default 240); the
# remaining cases fail at once rather than let the test command overrun.
over_budget() { (( $(now) - ${STARTED:-$(now)} > ${BUDGET:-240} )); }

# CASE_STARTED: when the current case began, for the "(Ns)" after its name.
CASE_STARTED=0
took() { echo "$(( $(now) - CASE_STARTED ))s"; }
pass() { PASSED=$((PASSED + 1)); echo "PASS $1 ($(took))"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1: $2 ($(took))"; }

# A progress line of swapdev's phase reporter (`✓ done (0.01s)`, `✗ phase (0.01s)`,
# `  … waiting`, `! warning`): allowed around the one error line.
PROGRESS='^(✓ |✗ |  … |! )'

# bad NAME PHRASE... -- COMMAND...: COMMAND (a swapdev invocation) must
#   - exit non-zero (not by a signal, within 60 s),
#   - print exactly one error line (`error: ...`) on stderr, and nothing else there but
#     progress lines — no usage block, no multi-line error, no stack trace,
#   - have every PHRASE (fixed strings) in that line: what is wrong and what to do,
#   - leave the cluster exactly as it was.
bad() {
    local name=$1; shift
    local phrases=()
    while [[ $1 != -- ]]; do phrases+=("$1"); shift; done
    shift
    CASE_STARTED=$(now)
    if over_budget; then fail "$name" "not run: the suite is over its ${BUDGET:-240}s budget"; return; fi
    local err="$WORK/case.err" code
    timeout -k 5 60 "$@" < /dev/null > "$WORK/case.out" 2> "$err"
    code=$?
    local errors others line
    errors=$(grep -cE '^(error|Error): ' "$err")
    others=$(grep -vE '^(error|Error): ' "$err" | grep -cvE "$PROGRESS")
    line=$(grep -E '^(error|Error): ' "$err" | head -1)
    if (( code == 0 )); then
        fail "$name" "exit status 0 (stderr: $(head -c 200 "$err" | tr '\n' ' '); stdout: $(head -c 200 "$WORK/case.out" | tr '\n' ' '))"
    elif (( code == 124 || code > 128 )); then
        fail "$name" "did not finish by itself (status $code); stderr: $(tail -c 200 "$err" | tr '\n' ' ')"
    elif (( errors != 1 || others != 0 )); then
        fail "$name" "want one error line, got $errors error line(s) and $others other line(s): $(head -c 300 "$err" | tr '\n' '|')"
    else
        local phrase missing=""
        for phrase in "${phrases[@]}"; do
            [[ $line == *"$phrase"* ]] || missing+=" \"$phrase\""
        done
        if [[ -n $missing ]]; then
            fail "$name" "error line lacks$missing: $line"
        elif ! unchanged 20; then
            fail "$name" "the cluster changed: $(difference)"
        else
            pass "$name"
        fi
    fi
}

# good NAME DEPLOYMENT PORT PHRASE... -- SWAP-ARGS...: an unusual but valid swap must work:
# `swapdev swap DEPLOYMENT` with the probe as local command (serving on 127.0.0.1:PORT unless
# PORT is "-"), up until the original is scaled to 0 (and, with a port, the Service answers from
# the probe); then Ctrl-C. It must exit 0, the probe must have received $WORK/expected/DEPLOYMENT's
# bytes exactly and stderr must hold every PHRASE. The cases run side by side (each its own
# Deployment and local port); `goods_finish` waits for them and then requires the cluster to be
# exactly as before.
GOOD_NAMES=()
GOOD_DEPLOYMENTS=()
GOOD_PIDS=()
good() {
    local name=$1 deployment=$2 port=$3; shift 3
    local phrases=()
    while [[ $1 != -- ]]; do phrases+=("$1"); shift; done
    shift
    GOOD_NAMES+=("$name")
    GOOD_DEPLOYMENTS+=("$deployment")
    ( good_run "$deployment" "$port" "${phrases[@]}" -- "$@" > "$WORK/good-$deployment.result" 2>&1 ) &
    GOOD_PIDS+=($!)
}

# good_run DEPLOYMENT PORT PHRASE... -- SWAP-ARGS...: one success case; prints "ok: ..." or why not.
good_run() {
    local deployment=$1 port=$2; shift 2
    local phrases=()
    while [[ $1 != -- ]]; do phrases+=("$1"); shift; done
    shift
    local out="$WORK/probe-$deployment" log="$WORK/swap-$deployment.log"
    local expose=() probe_port=()
    if [[ $port != - ]]; then expose=(--expose "$port:http"); probe_port=("$port"); fi
    rm -rf "$out"
    "$SWAPDEV" swap "$deployment" -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --timeout 60s "${expose[@]}" "$@" \
        --run python3 "$ROOT/scripts/bad-input/probe.py" "$out" "${probe_port[@]}" < /dev/null > "$log" 2>&1 &
    local pid=$! detail=""
    if ! wait_until 90 swapped "$deployment" "$out"; then
        detail="the swap did not come up in 90s"
    elif [[ $port != - ]] && ! wait_until 20 service_answers "$NS" "$deployment" local; then
        detail="Service $deployment does not answer from the local process"
    fi
    kill -INT "$pid" 2>/dev/null
    wait_for_exit "$pid" 90
    local code=$WAITED_STATUS compared phrase missing=""
    compared=$(python3 "$ROOT/scripts/bad-input/compare.py" "$WORK/expected/$deployment" "$out" 2>&1)
    for phrase in "${phrases[@]}"; do grep -qF -- "$phrase" "$log" || missing+=" \"$phrase\""; done
    if [[ -n $detail ]]; then
        echo "$detail; swapdev: $(grep -E '^(error|! )' "$log" | head -2 | tr '\n' ' ')"
    elif (( code != 0 )); then
        echo "exit status $code after Ctrl-C; swapdev: $(tail -2 "$log" | tr '\n' ' ')"
    elif [[ $compared != ok:* ]]; then
        echo "$compared"
    elif [[ -n $missing ]]; then
        echo "stderr lacks$missing"
    else
        echo "$compared"
    fi
}

# goods_finish: waits for the success cases, then checks that the cluster is exactly as before.
goods_finish() {
    CASE_STARTED=$(now)
    local pid restored=1 i result
    # Not a bare `wait`: the sandbox is a background job of this shell too.
    for pid in "${GOOD_PIDS[@]}"; do wait "$pid"; done
    unchanged 30 || restored=0
    for i in "${!GOOD_NAMES[@]}"; do
        result=$(cat "$WORK/good-${GOOD_DEPLOYMENTS[$i]}.result" 2>/dev/null)
        if [[ $result != ok:* ]]; then
            fail "${GOOD_NAMES[$i]}" "${result:-no result}"
        elif (( ! restored )); then
            fail "${GOOD_NAMES[$i]}" "not restored exactly: $(difference)"
        else
            pass "${GOOD_NAMES[$i]} ($result)"
        fi
    done
}

# swapped DEPLOYMENT OUT: the probe runs and the original is scaled to 0 (the swap is complete).
swapped() {
    [[ -f "$2/ready" ]] && scaled_down "$NS" "$1"
}
