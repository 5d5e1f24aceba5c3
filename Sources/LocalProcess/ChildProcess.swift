import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running local command, leader of its own process group.
///
/// The group holds everything the command starts (`go run` compiles and then runs a child), so
/// signals and the final kill reach all of it. A dedicated thread waits for the leader; the
/// status is kept so any number of callers can ``wait()``.
public final class ChildProcess: Sendable {
    /// The process id, which is also the process group id.
    public let pid: pid_t
    /// Whether the terminal's foreground was handed to this process.
    public let ownsTerminal: Bool

    private struct State {
        var status: ExitStatus?
        var waiters: [CheckedContinuation<ExitStatus, Never>] = []
    }
    private let state = Locked(State())

    private init(pid: pid_t, ownsTerminal: Bool) {
        self.pid = pid
        self.ownsTerminal = ownsTerminal
    }

    /// Starts `command` in a new process group.
    ///
    /// - Parameter foreground: hand it the terminal when swapdev holds the terminal's foreground.
    public static func spawn(_ command: LocalCommand, foreground: Bool = true) throws(LocalProcessError) -> ChildProcess {
        guard let name = command.arguments.first else { throw .emptyCommand }
        let path = try resolve(name, path: command.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"])
        let giveTerminal = foreground && Terminal.ownsForeground()

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // New process group (pgid = pid); signals swapdev ignores or handles go back to their
        // defaults and none are blocked, so Ctrl-C and kill work on the command as usual.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTTOU, SIGTTIN, SIGTSTP, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        var flags = Int32(POSIX_SPAWN_SETPGROUP) | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let directory = command.workingDirectory {
            guard let addChdir = Self.addChdir else {
                throw .spawnFailed(command: name, errno: ENOSYS, message: "this C library cannot set a working directory for posix_spawn")
            }
            _ = addChdir(&actions, directory)
        }
        // The command gets standard input, output and error, nothing else of swapdev's: not
        // every descriptor here is close-on-exec (SwiftNIO's listening sockets, Foundation's
        // pipes and process-monitor sockets). An inherited listener would keep a forwarded
        // port open after swapdev closed it, and an inherited monitor socket keeps another
        // child of this process from ever being reaped.
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        for descriptor: Int32 in 0...2 { posix_spawn_file_actions_addinherit_np(&actions, descriptor) }
        #else
        // Without it (glibc before 2.34) the command inherits what is not close-on-exec.
        _ = SpawnFileActions.addCloseFrom(&actions, lowest: 3)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = command.arguments.map { strdup($0) } + [nil]
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw .spawnFailed(command: name, errno: result, message: String(cString: strerror(result)))
        }
        if giveTerminal {
            Terminal.give(to: pid)
            // The command may have touched the terminal before it was its foreground and been
            // stopped by SIGTTIN/SIGTTOU; let it continue now that the terminal is its own.
            kill(-pid, SIGCONT)
        }
        let child = ChildProcess(pid: pid, ownsTerminal: giveTerminal)
        child.startWaiter()
        return child
    }

    /// Sends `signal` to the whole process group.
    public func signalGroup(_ signal: Int32) {
        guard exitStatus == nil else { return }
        kill(-pid, signal)
    }

    /// The exit status, once the process has ended.
    public var exitStatus: ExitStatus? { state.withLock { $0.status } }

    /// Waits until the process ends.
    public func wait() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let done: ExitStatus? = state.withLock { state in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// SIGTERM to the group, then SIGKILL if it has not ended within `grace`.
    @discardableResult
    public func terminate(grace: Duration = .seconds(5)) async -> ExitStatus {
        signalGroup(SIGTERM)
        let killer = Task {
            try await Task.sleep(for: grace)
            self.signalGroup(SIGKILL)
        }
        let status = await wait()
        killer.cancel()
        // Stragglers in the group (children that ignored SIGTERM) go too.
        kill(-pid, SIGKILL)
        return status
    }

    private func startWaiter() {
        let thread = Thread { [self] in
            var status: Int32 = 0
            while true {
                let result = waitpid(pid, &status, WUNTRACED)
                if result == -1 {
                    if errno == EINTR { continue }
                    // ECHILD: someone else reaped it; report it as killed, the best we know.
                    status = SIGKILL
                    break
                }
                // Stopped (Ctrl-Z in its terminal): swapdev does no job control, so keep it running
                // rather than leave the swap hanging on a stopped process.
                if status & 0xff == 0x7f {
                    kill(-pid, SIGCONT)
                    continue
                }
                break
            }
            if ownsTerminal { Terminal.takeBack() }
            finish(ExitStatus(waitStatus: status))
        }
        thread.name = "swapdev-wait-\(pid)"
        thread.start()
    }

    private func finish(_ status: ExitStatus) {
        let waiters = state.withLock { state in
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+, macOS 10.15+), looked up at run
    /// time because the Glibc module map does not export it.
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// `name` itself when it contains a slash, else the first executable match on `path`.
    static func resolve(_ name: String, path: String?) throws(LocalProcessError) -> String {
        if name.contains("/") { return name }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw .spawnFailed(command: name, errno: ENOENT, message: "command not found")
    }
}
