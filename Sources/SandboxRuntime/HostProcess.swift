import Foundation
import SystemSupport

#if canImport(Glibc)
import Glibc
#endif

/// How a file descriptor of a spawned process is set up.
enum SpawnFD: Sendable {
    /// `dup2(source, target)` in the child.
    case dup(source: Int32, target: Int32)
    /// `open(path, flags, mode)` as `target` in the child.
    case open(path: String, flags: Int32, mode: mode_t, target: Int32)
}

/// Starts host processes with `posix_spawn` (no fork in a multi-threaded Swift process) and
/// waits for them on dedicated threads, so the cooperative pool never blocks in `waitpid`.
///
/// Every child is waited for by exactly one thread, which reaps it: no zombies pile up and
/// children of other parts of the process (Foundation `Process`) are never reaped by accident.
enum HostProcess {
    /// The search path used when a container's environment has no `PATH`, like a container runtime's default.
    static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Resolves `name` the way `execvp` would, against `searchPath`.
    static func resolve(_ name: String, searchPath: String?) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for directory in (searchPath ?? defaultSearchPath).split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Spawns `executable` with exactly `environment` (nothing inherited) and returns its pid.
    ///
    /// - Parameters:
    ///   - newProcessGroup: put the child in its own process group so a whole container can be signalled.
    ///   - newSession: make the child a session leader (a TTY opened afterwards becomes its controlling terminal).
    ///   - fds: descriptors 0, 1 and 2 of the child; every other descriptor is closed in the child.
    static func spawn(
        executable: String, argv: [String], environment: [String],
        fds: [SpawnFD], newProcessGroup: Bool = true, newSession: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in fds {
            switch fd {
            case .dup(let source, let target):
                posix_spawn_file_actions_adddup2(&actions, source, target)
            case .open(let path, let flags, let mode, let target):
                posix_spawn_file_actions_addopen(&actions, target, path, flags, mode)
            }
        }
        // Last, after the dup2s above: the child keeps only 0, 1 and 2. Without it a container
        // would inherit, say, the service proxy's listener and keep its port open after the
        // proxy closed it.
        _ = SpawnFileActions.addCloseFrom(&actions, lowest: 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession {
            flags |= LinuxCalls.spawnSetSID
        } else if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        // The child starts with no blocked signals and default handlers, whatever this process set up.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, cArgv, cEnv)
        guard result == 0 else { throw SandboxRuntimeError.spawnFailed(executable: executable, errno: result) }
        return pid
    }

    /// Waits (on a dedicated thread) until `pid` exits and returns its exit code; a signal
    /// death is reported as 128 + signal, like a shell and the kubelet do.
    static func waitForExit(_ pid: pid_t) async -> Int32 {
        await onDedicatedThread("reap-\(pid)") { blockingWait(pid) }
    }

    /// `waitpid` retrying on EINTR; only call from a thread that may block.
    static func blockingWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Runs a host tool to completion with a fixed environment, returning its combined output.
    /// Throws ``SandboxRuntimeError/commandFailed(command:status:output:)`` on a non-zero exit.
    @discardableResult
    static func run(_ argv: [String], allowFailure: Bool = false) async throws -> String {
        guard let first = argv.first, let executable = resolve(first, searchPath: nil) else {
            throw SandboxRuntimeError.toolMissing(argv.first ?? "")
        }
        guard let (readEnd, writeEnd) = LinuxCalls.cloexecPipe() else {
            throw SandboxRuntimeError.spawnFailed(executable: executable, errno: errno)
        }
        let pid: pid_t
        do {
            pid = try spawn(
                executable: executable, argv: argv, environment: ["PATH=\(defaultSearchPath)", "LC_ALL=C"],
                fds: [.open(path: "/dev/null", flags: O_RDONLY, mode: 0, target: 0),
                      .dup(source: writeEnd, target: 1), .dup(source: writeEnd, target: 2)])
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        // Read to EOF, then reap: the tools used here print little, and reading first avoids a
        // full pipe blocking the child.
        let (status, output) = await onDedicatedThread("run-\(first)") { () -> (Int32, String) in
            let output = readAll(readEnd)
            close(readEnd)
            return (blockingWait(pid), String(decoding: output, as: UTF8.self))
        }
        if status != 0 && !allowFailure {
            throw SandboxRuntimeError.commandFailed(command: argv.joined(separator: " "), status: status, output: output)
        }
        return output
    }

    /// Reads a descriptor until EOF (blocking).
    static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                result.append(contentsOf: buffer[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return result
            }
        }
    }
}
