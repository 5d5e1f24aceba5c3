# Polling helpers shared by the scripted suites (sourced, bash).

# now: seconds since the epoch.
now() { date +%s; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s; 0 when it succeeded in time.
wait_until() {
    local limit=$(( $(now) + $1 )); shift
    while (( $(now) < limit )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@" >/dev/null 2>&1
}
