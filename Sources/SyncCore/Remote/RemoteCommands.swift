/// The commands swapdev runs in a dev container over exec, and the parsing of their output.
///
/// Every command is `sh -c SCRIPT swapdev ARG...`, so paths travel as arguments (never
/// spliced into the script) and only `sh`, `find`, `stat`, `tar`, `rm`, `xargs`, `kill` are
/// needed — all in busybox as in coreutils.
public enum RemoteCommands {
    /// Exit code of ``manifest(remote:)`` when the container has no `tar`.
    public static let noTarExitCode: Int32 = 90
    /// Exit code of ``manifest(remote:)`` when the remote directory cannot be created or written.
    public static let notWritableExitCode: Int32 = 91

    /// Checks `tar`, creates and probes the remote directory, then lists its files as
    /// `KIND|SIZE|MTIME|./PATH` lines (``parseManifest(_:)`` reads them).
    public static func manifest(remote: String) -> [String] {
        let script = """
            command -v tar >/dev/null 2>&1 || exit \(noTarExitCode)
            mkdir -p "$1" 2>/dev/null || exit \(notWritableExitCode)
            probe="$1/.swapdev-write-probe.$$"
            ( : > "$probe" ) 2>/dev/null || exit \(notWritableExitCode)
            rm -f "$probe"
            cd "$1" || exit \(notWritableExitCode)
            find . -path ./.git -prune -o \\( -type f -o -type l \\) -exec stat -c '%F|%s|%Y|%n' {} +
            """
        return ["sh", "-c", script, "swapdev", remote]
    }

    /// Extracts a tar stream from stdin into `remote`, without taking the archive's owner.
    public static func extract(remote: String) -> [String] {
        ["sh", "-c", "mkdir -p \"$1\" && cd \"$1\" && exec tar -xof -", "swapdev", remote]
    }

    /// Deletes the NUL-separated relative paths read from stdin (see ``deletionInput(_:)``) below `remote`.
    public static func delete(remote: String) -> [String] {
        ["sh", "-c", "cd \"$1\" && xargs -0 rm -rf --", "swapdev", remote]
    }

    /// Stdin for ``delete(remote:)``: `./`-prefixed paths so none can look like an option.
    public static func deletionInput(_ paths: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for path in paths where isSafeRelative(path) {
            bytes += Array(("./" + path).utf8)
            bytes.append(0)
        }
        return bytes
    }

    /// Starts (first call) or restarts the supervised process.
    public static func restart(stateDirectory: String) -> [String] {
        let script = """
            mkdir -p "$1" && : > "$1/go" || exit 1
            [ -f "$1/supervisor.pid" ] || exit 0
            kill -HUP "$(cat "$1/supervisor.pid")"
            """
        return ["sh", "-c", script, "swapdev", stateDirectory]
    }

    /// Whether a relative path stays below its root (no absolute path, no `..` component).
    public static func isSafeRelative(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }

    /// Reads the output of ``manifest(remote:)``; malformed lines are skipped.
    public static func parseManifest(_ output: String) -> Manifest {
        var manifest: Manifest = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let size = Int64(fields[1]), let mtime = Int64(fields[2]) else { continue }
            var path = fields[3]
            if path.hasPrefix("./") { path = path.dropFirst(2) }
            if path.isEmpty { continue }
            let kind: FileEntry.Kind = fields[0] == "symbolic link" ? .symlink(target: "") : .file
            manifest[String(path)] = FileEntry(path: String(path), kind: kind, size: size, modificationTime: mtime)
        }
        return manifest
    }
}
