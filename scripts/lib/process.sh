# Local-process helpers shared by the scripted suites (sourced, bash). Safe under
# `set -euo pipefail`: a process that is already gone is not an error.

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now — for a local process,
# so a suite never collides with another run (or test) on this host holding a fixed port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# descendants PID: the process ids below PID, depth first (the local command swapdev started,
# its children).
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
        echo "$child"
        descendants "$child"
    done
}

# kill_tree PID: SIGKILL to PID (what a crash does to swapdev), reaps it, then SIGKILL to every
# process that was below it, by pid — collected first, since once PID is gone its orphans can
# no longer be found from it, and a surviving local command would hold its port.
kill_tree() {
    local pid=$1 orphans orphan
    orphans=$(descendants "$pid")
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for orphan in $orphans; do kill -KILL "$orphan" 2>/dev/null || true; done
}

# wait_for_exit PID SECONDS: waits up to SECONDS for the background job PID to end by itself,
# then SIGKILL. Sets WAITED_STATUS: its exit status (137 when it had to be killed).
wait_for_exit() {
    local pid=$1 limit=$(( $(date +%s) + $2 ))
    while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < limit )); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    WAITED_STATUS=0
    wait "$pid" 2>/dev/null || WAITED_STATUS=$?
}
