/// The POSIX-sh supervisor that wraps a dev container's command so the process can be
/// restarted without restarting the pod.
///
/// The container runs `sh -c SCRIPT swapdev-supervisor CMD ARG...`. The supervisor:
/// - waits for `$SWAPDEV_STATE/go` before the first start, so the app never starts on an
///   empty tree before the initial sync;
/// - starts the command in its own session (`setsid`, when present) so a restart can signal
///   the whole process group, not just the direct child;
/// - on `SIGHUP` stops the group (`TERM`, then `KILL` after 5 s) and starts it again;
/// - when the command exits on its own it stays up and restarts on the next sync, so a crash
///   does not restart the pod (and lose the synced files);
/// - on `TERM`/`INT` (pod deletion) stops the group and exits.
public enum SupervisorScript {
    /// The environment variable naming the supervisor's state directory in the container.
    public static let stateVariable = "SWAPDEV_STATE"

    /// `$0` of the script, visible in `ps`.
    public static let processName = "swapdev-supervisor"

    /// The script text.
    public static let text = """
        state="${SWAPDEV_STATE:-/tmp/swapdev-supervisor}"
        child=""
        status=0
        restart=0
        start_child() {
          if command -v setsid >/dev/null 2>&1; then setsid "$@" & else "$@" & fi
          child=$!
        }
        stop_child() {
          [ -n "$child" ] || return 0
          kill -TERM -"$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
          n=0
          while kill -0 "$child" 2>/dev/null && [ "$n" -lt 100 ]; do sleep 0.05; n=$((n+1)); done
          kill -KILL -"$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null
          wait "$child" 2>/dev/null
          child=""
        }
        trap 'restart=1' HUP
        trap 'stop_child; exit 143' TERM
        trap 'stop_child; exit 130' INT
        # The pid file is written only once the traps are set: a HUP sent as soon as it
        # appears must restart, not kill, the supervisor.
        mkdir -p "$state" || exit 1
        echo $$ > "$state/supervisor.pid"
        while [ ! -e "$state/go" ]; do sleep 0.1; done
        restart=0
        echo "swapdev: starting $*" >&2
        start_child "$@"
        while :; do
          if [ -n "$child" ]; then
            wait "$child"
            status=$?
          fi
          if [ "$restart" = 1 ]; then
            restart=0
            stop_child
            echo "swapdev: restarting $*" >&2
            start_child "$@"
            continue
          fi
          if [ -n "$child" ] && ! kill -0 "$child" 2>/dev/null; then
            echo "swapdev: process exited with status $status; it restarts after the next sync" >&2
            child=""
          fi
          [ -n "$child" ] || sleep 0.1
        done
        """

    /// The container command that runs `argv` under the supervisor.
    public static func wrap(_ argv: [String]) -> [String] {
        ["sh", "-c", text, processName] + argv
    }
}
