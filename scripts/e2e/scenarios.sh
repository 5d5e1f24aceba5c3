# The scenarios of scripts/e2e.sh (sourced after lib.sh). Each prints PASS/FAIL lines through
# pass/fail (defined in e2e.sh) and leaves swapdev stopped and the namespace as it found it.

# check_restored LABEL: after swapdev ended, the namespace equals the snapshot taken before the
# first swap; no proxy pod; no swap annotation.
check_restored() {
    local label=$1 start
    start=$(now)
    local leftovers annotations
    if wait_until 30 same_as_before "$NS"; then
        leftovers=$(proxy_pods "$NS")
        annotations=$(swap_annotations | tr '\n' ' ')
        if [[ -z "$leftovers" && -z "$annotations" ]]; then
            pass "$label" "namespace as before the swap, no proxy pod, no swapdev.dev/ annotation ($(( $(now) - start ))s after exit)"
            return
        fi
        fail "$label" "proxy pod(s) [$leftovers] or annotations [$annotations] left"
    else
        fail "$label" "the namespace differs from before the swap 30 s after swapdev exited"
        show_difference "$NS"
    fi
}

# not_up_reason: why wait_swap_up gave up, for a FAIL line.
not_up_reason() {
    if ! kill -0 "$SWAP_PID" 2>/dev/null; then
        echo "swapdev ended before the swap was up"
    else
        echo "no local answer through the Service within ${SWAP_TIMEOUT}s (last: $(client get "$SERVICE_URL" 2>&1 | head -1))"
    fi
}

# a. The Service reaches the local process, which has the container's env and volumes.
scenario_a() {
    local name="a. swap: Service → local process, env and volumes"
    LOCAL_PORT=$(free_port)
    local report="$WORK/a.report.json"
    start_swap a --env-file "$WORK/a.env" --run python3 "$E2E_DIR/local_app.py" "$LOCAL_PORT" "$report" "$SIDECAR_PORT"
    if ! wait_swap_up; then
        fail "$name" "$(not_up_reason)" a
        kill -TERM "$SWAP_PID" 2>/dev/null; wait_swap_exit 90
        return
    fi
    local problems
    problems=$(jq -r --arg ns "$NS" '
        def check(ok; what): if ok then empty else what end;
        .env as $e | .files as $f |
        check($e.GREETING == "hello"; "GREETING (configMapKeyRef) = \($e.GREETING)"),
        check($e.PASSWORD == "s3cret"; "PASSWORD (secretKeyRef) = \($e.PASSWORD)"),
        check(($e.POD_NAME // "") | startswith("web-swapdev-"); "POD_NAME (fieldRef metadata.name) = \($e.POD_NAME), not the proxy pod"),
        check($e.POD_NAMESPACE == $ns; "POD_NAMESPACE (fieldRef) = \($e.POD_NAMESPACE)"),
        check($e.COMBINED == "prod-x"; "COMBINED ($(MODE) expansion) = \($e.COMBINED)"),
        check($e.CFG_LOG_LEVEL == "debug"; "CFG_LOG_LEVEL (envFrom prefix) = \($e.CFG_LOG_LEVEL)"),
        check($e.WEB_SERVICE_HOST == "127.0.0.1"; "WEB_SERVICE_HOST (service link, local forward) = \($e.WEB_SERVICE_HOST)"),
        check(($e.SWAPDEV_ROOT // "") != ""; "SWAPDEV_ROOT is not set"),
        check($f["etc/app/app.conf"] == "listen = 8080\n"; "$SWAPDEV_ROOT/etc/app/app.conf (configMap volume) = \($f["etc/app/app.conf"])"),
        check($f["etc/creds/password"] == "s3cret"; "$SWAPDEV_ROOT/etc/creds/password (secret volume) = \($f["etc/creds/password"])"),
        check(.sidecar == "listen = 8080\n"; "the sidecar on 127.0.0.1:'"$SIDECAR_PORT"' answered \(.sidecar)")
        ' "$report" 2>&1)
    local root
    root=$(jq -r '.env.SWAPDEV_ROOT // ""' "$report" 2>/dev/null)
    if ! grep -qx 'PASSWORD=s3cret' "$WORK/a.env" 2>/dev/null; then problems+=$'\n'"--env-file has no PASSWORD=s3cret line"; fi

    # Normal exit: the local process ends with 7, and so must swapdev, after restoring.
    curl -s --noproxy '*' --max-time 3 "http://127.0.0.1:$LOCAL_PORT/quit" >/dev/null
    wait_swap_exit 90
    [[ "$SWAP_CODE" == 7 ]] || problems+=$'\n'"swapdev exited with $SWAP_CODE, not the local command's 7"
    [[ -n "$root" && ! -e "$root" ]] || problems+=$'\n'"SWAPDEV_ROOT ($root) still exists after exit"
    problems=$(sed '/^$/d' <<<"$problems")
    if [[ -z "$problems" ]]; then
        pass "$name" "answered \"local\" through $SERVICE_URL; 6 env sources, 2 volumes, --env-file, sidecar on 127.0.0.1:$SIDECAR_PORT; exit code 7"
    else
        fail "$name" "$(tr '\n' ';' <<<"$problems")" a
    fi
    check_restored "d. restored after a normal exit"
}

# b. Zero failed requests through the Service under steady load, across swap and restore —
# twice: with the local process started separately (as from an IDE, swapdev without --run),
# and with `--run`, where the SIGTERM swapdev gets is passed to the local command.
scenario_b() {
    LOCAL_PORT=$(free_port)
    python3 "$E2E_DIR/local_app.py" "$LOCAL_PORT" "$WORK/b1.report.json" &
    LOCAL_PID=$!
    local up=yes
    load_across_swap "b. zero failed requests during swap and restore (swap without --run, SIGTERM)" b1 || up=""
    local code=$SWAP_CODE
    kill "$LOCAL_PID" 2>/dev/null; wait "$LOCAL_PID" 2>/dev/null; LOCAL_PID=""
    if [[ -z "$up" ]]; then
        check_restored "d. restored after a failed swap"
    elif [[ "$code" == 0 ]]; then
        check_restored "d. restored after SIGTERM (swap without --run)"
    else
        fail "d. restored after SIGTERM (swap without --run)" "swapdev exited with $code, expected 0" b1
    fi

    LOCAL_PORT=$(free_port)
    # A swap that never came up has failed already; its exit code says nothing about signals.
    load_across_swap "b. zero failed requests during swap and restore (--run, SIGTERM)" b2 \
        --run python3 "$E2E_DIR/local_app.py" "$LOCAL_PORT" "$WORK/b2.report.json" || { check_restored "d. restored after a failed swap"; return; }
    if [[ "$SWAP_CODE" == 143 ]]; then
        pass "d. SIGTERM to swapdev reaches the --run command" "swapdev exited 143 (128+SIGTERM) after restoring"
    else
        fail "d. SIGTERM to swapdev reaches the --run command" "swapdev exited with $SWAP_CODE, expected 143" b2
    fi
    check_restored "d. restored after SIGTERM (--run)"
}

# load_across_swap NAME LOG [swapdev args...]: the client's request loop runs across
# original (3 s) → swap → local (3 s) → SIGTERM to swapdev, restore → original (3 s); requires
# no failed request and the answers original → local → original. SWAP_CODE: swapdev's exit.
# Returns 1 when the swap never came up.
load_across_swap() {
    local name=$1 log=$2; shift 2
    start_load "$log"
    sleep 3
    start_swap "$log" "$@"
    if ! wait_swap_up; then
        stop_load
        fail "$name" "$(not_up_reason)" "$log"
        kill -TERM "$SWAP_PID" 2>/dev/null; wait_swap_exit 90
        return 1
    fi
    sleep 3
    local sent_at
    sent_at=$(date +%H:%M:%S.%3N)
    kill -TERM "$SWAP_PID"
    wait_swap_exit 90
    sleep 3
    stop_load
    local summary
    summary=$(grep '^{' "$LOAD_OUT" | tail -1)
    if [[ -z "$summary" ]]; then
        fail "$name" "the load loop printed no summary: $(tail -3 "$LOAD_OUT" | tr '\n' ' ')" "$log"
        return
    fi
    local total phases verdict
    total=$(jq -r .total <<<"$summary")
    phases=$(jq -r '.phases | join(" → ")' <<<"$summary")
    verdict=$(jq -r '
        if .failed != 0 then "\(.failed) of \(.total) requests failed"
        elif .total < 100 then "only \(.total) requests were sent"
        elif ((.phases | length) < 3) or (.phases[0] | startswith("original") | not)
             or (.phases[-1] | startswith("original") | not) or ((.backends.local // 0) == 0)
        then "the answers did not go original → local → original"
        else "" end' <<<"$summary")
    if [[ -z "$verdict" ]]; then
        pass "$name" "$total requests at ${LOAD_RATE}/s, 0 failed; $phases"
    else
        local failures
        failures=$(grep '^FAIL' "$LOAD_OUT" | sort -k3)
        fail "$name" "$verdict, sent from $(head -1 <<<"$failures" | cut -d' ' -f3) to $(tail -1 <<<"$failures" | cut -d' ' -f3) (SIGTERM to swapdev at $sent_at); $phases" "$log"
        { head -3 <<<"$failures"; echo "…"; tail -2 <<<"$failures"; } | sed 's/^/      client: /'
    fi
}

# c. The tunnel comes back after its SSH session is killed in the proxy container.
scenario_c() {
    local name="c. tunnel reconnects after the sshd session dies"
    LOCAL_PORT=$(free_port)
    # info: the reason of each failed reconnect attempt goes to the log.
    start_swap c --log-level info --run python3 "$E2E_DIR/local_app.py" "$LOCAL_PORT" "$WORK/c.report.json"
    if ! wait_swap_up; then
        fail "$name" "$(not_up_reason)" c
        kill -TERM "$SWAP_PID" 2>/dev/null; wait_swap_exit 90
        return
    fi
    local pod killed start recovered=""
    pod=$(proxy_pods "$NS")
    start_load c
    sleep 1
    start=$(date +%s.%N)
    if ! killed=$(kx -n "$NS" exec "$pod" -c app -- sh -c "$KILL_SSHD_SESSIONS" 2>&1); then
        stop_load
        fail "$name" "could not kill the sshd session in $pod: $killed" c
    else
        if wait_until 30 grep -q "tunnel reconnected" "$WORK/c.log" && wait_until 20 answers local; then
            recovered=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
        fi
        sleep 1
        stop_load
        local summary during
        summary=$(grep '^{' "$LOAD_OUT" | tail -1)
        during=$(jq -r '"\(.failed) of \(.total) requests failed meanwhile"' <<<"$summary" 2>/dev/null)
        if [[ -z "$recovered" ]]; then
            fail "$name" "$killed; no \"tunnel reconnected\" or no local answer within 50 s" c
        elif ! grep -q "tunnel went down" "$WORK/c.log"; then
            fail "$name" "$killed, but swapdev never said the tunnel went down" c
        else
            pass "$name" "$killed; \"$(grep -o 'tunnel reconnected.*' "$WORK/c.log" | head -1)\", Service → local again ${recovered}s after the kill (${during:-no load summary})"
        fi
    fi
    kill -INT "$SWAP_PID" 2>/dev/null
    wait_swap_exit 90
    check_restored "d. restored after SIGINT (following a reconnect)"
}
