# Shared by the scripts that drive swapdev against a sandbox cluster (sourced, bash).
#
#   source scripts/lib/sandbox.sh
#   swapdev_build_binaries            # sets SWAPDEV_BIN (swapdev, swapdev-sandbox) from $SWAPDEV_SCRATCH
#   sandbox_start "$work/sandbox"     # sets SANDBOX_PID and exports KUBECONFIG
#   ...
#   sandbox_stop                      # SIGTERM, waits for the sandbox to clean up its pods
#
# Each sandbox takes a free network slot of its own, so several can run at once.

SWAPDEV_REPO=${SWAPDEV_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SANDBOX_PID=""

# swapdev_build_binaries: builds swapdev and swapdev-sandbox (debug) in $SWAPDEV_SCRATCH
# (default .build) unless SWAPDEV_BIN already names a directory holding both.
swapdev_build_binaries() {
    local scratch=${SWAPDEV_SCRATCH:-.build}
    if [[ -n "${SWAPDEV_BIN:-}" && -x "$SWAPDEV_BIN/swapdev" && -x "$SWAPDEV_BIN/swapdev-sandbox" ]]; then
        return 0
    fi
    (cd "$SWAPDEV_REPO" &&
        swift build --scratch-path "$scratch" --product swapdev-sandbox --quiet &&
        swift build --scratch-path "$scratch" --product swapdev --quiet) || {
        echo "build of swapdev and swapdev-sandbox failed (scratch path $scratch)" >&2
        return 1
    }
    SWAPDEV_BIN=$(cd "$SWAPDEV_REPO" && swift build --scratch-path "$scratch" --show-bin-path)
    export SWAPDEV_BIN
}

# sandbox_start DIR: starts swapdev-sandbox with its state in DIR (log: DIR.log) and waits
# for its kubeconfig; exports KUBECONFIG.
sandbox_start() {
    local dir=$1
    mkdir -p "$(dirname "$dir")"
    "$SWAPDEV_BIN/swapdev-sandbox" serve --dir "$dir" --proxy-image-dir "$SWAPDEV_REPO/proxy-image" \
        > "$dir.log" 2>&1 &
    SANDBOX_PID=$!
    local _
    for _ in $(seq 1 600); do
        [[ -s "$dir/kubeconfig" ]] && break
        kill -0 "$SANDBOX_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! -s "$dir/kubeconfig" ]]; then
        echo "the sandbox did not start; the end of $dir.log:" >&2
        tail -20 "$dir.log" >&2
        return 1
    fi
    export KUBECONFIG="$dir/kubeconfig"
}

# sandbox_stop: SIGTERM (after SIGCONT, in case a test froze it), then up to 30 s for the
# sandbox to stop its pods and remove its network, then SIGKILL.
sandbox_stop() {
    [[ -n "$SANDBOX_PID" ]] || return 0
    kill -CONT "$SANDBOX_PID" 2>/dev/null || true
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    local _
    for _ in $(seq 150); do
        kill -0 "$SANDBOX_PID" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=""
}
