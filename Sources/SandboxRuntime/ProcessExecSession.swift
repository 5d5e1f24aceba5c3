import Foundation
import KubeModel
import SystemSupport

#if canImport(Glibc)
import Glibc
#endif

/// An `exec` process inside a container: pipes (or a pseudo-terminal with `tty`) for its
/// standard streams, each drained by its own thread, and its exit code.
final class ProcessExecSession: ExecSession {
    let output: AsyncStream<(ExecChannel, [UInt8])>
    private let pid: pid_t
    private let stdinFD: Locked<Int32?>
    private let ptyMaster: Int32?
    private let ptySlavePath: String?
    private let exit: Task<Int32, Never>

    /// Starts `argv` in the container described by `context`.
    init(context: ContainerContext, argv: [String], tty: Bool, stdin: Bool) throws {
        let (stream, continuation) = AsyncStream<(ExecChannel, [UInt8])>.makeStream()
        output = stream
        let command = context.nsenterArgv(argv)
        let spawnedPID: pid_t
        if tty {
            guard let pty = LinuxCalls.openPTY() else {
                throw SandboxRuntimeError.spawnFailed(executable: "/dev/ptmx", errno: errno)
            }
            // A new session opening the slave makes it the controlling terminal: job control,
            // ^C and `isatty` behave as in `kubectl exec -t`.
            let spawned: pid_t
            do {
                spawned = try HostProcess.spawn(
                    executable: context.nsenterPath, argv: command, environment: context.environment + ["TERM=xterm"],
                    fds: [.open(path: pty.slavePath, flags: O_RDWR, mode: 0, target: 0),
                          .dup(source: 0, target: 1), .dup(source: 0, target: 2)],
                    newSession: true)
            } catch {
                close(pty.master)
                throw error
            }
            spawnedPID = spawned
            pid = spawned
            ptyMaster = pty.master
            ptySlavePath = pty.slavePath
            stdinFD = Locked(stdin ? dup(pty.master) : nil)
            Self.drain([(pty.master, .stdout)], into: continuation)
        } else {
            let pipes = (0..<3).compactMap { _ in LinuxCalls.cloexecPipe() }
            guard pipes.count == 3 else {
                for pipe in pipes { close(pipe.read); close(pipe.write) }
                throw SandboxRuntimeError.spawnFailed(executable: "pipe", errno: errno)
            }
            let stdinPipe = [pipes[0].read, pipes[0].write]
            let stdoutPipe = [pipes[1].read, pipes[1].write]
            let stderrPipe = [pipes[2].read, pipes[2].write]
            let spawned: pid_t
            do {
                spawned = try HostProcess.spawn(
                    executable: context.nsenterPath, argv: command, environment: context.environment,
                    fds: [stdin ? .dup(source: stdinPipe[0], target: 0) : .open(path: "/dev/null", flags: O_RDONLY, mode: 0, target: 0),
                          .dup(source: stdoutPipe[1], target: 1), .dup(source: stderrPipe[1], target: 2)])
            } catch {
                for fd in stdinPipe + stdoutPipe + stderrPipe { close(fd) }
                throw error
            }
            close(stdinPipe[0])
            close(stdoutPipe[1])
            close(stderrPipe[1])
            if !stdin { close(stdinPipe[1]) }
            spawnedPID = spawned
            pid = spawned
            ptyMaster = nil
            ptySlavePath = nil
            stdinFD = Locked(stdin ? stdinPipe[1] : nil)
            Self.drain([(stdoutPipe[0], .stdout), (stderrPipe[0], .stderr)], into: continuation)
        }
        exit = Task { await HostProcess.waitForExit(spawnedPID) }
    }

    /// One reader thread per stream; the output ends when every stream has hit EOF.
    private static func drain(_ sources: [(Int32, ExecChannel)], into continuation: AsyncStream<(ExecChannel, [UInt8])>.Continuation) {
        let open = Locked(sources.count)
        for (fd, channel) in sources {
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: 32768)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count > 0 {
                        continuation.yield((channel, Array(buffer[0..<count])))
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break  // EOF, or EIO once a terminal's last user is gone
                    }
                }
                close(fd)
                if open.withLock({ remaining -> Int in
                    remaining -= 1
                    return remaining
                }) == 0 {
                    continuation.finish()
                }
            }
            thread.name = "exec-output"
            thread.start()
        }
    }

    func writeStdin(_ bytes: [UInt8]) async throws {
        guard let fd = stdinFD.current else { return }
        let failure: Int32? = await onDedicatedThread("exec-stdin") {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw SandboxRuntimeError.spawnFailed(executable: "exec stdin", errno: failure) }
    }

    func closeStdin() async {
        guard let fd = stdinFD.withLock({ fd -> Int32? in
            defer { fd = nil }
            return fd
        }) else { return }
        if ptyMaster != nil {
            // A terminal has no half-close: send end-of-file (^D) the way a user would.
            var eot: UInt8 = 4
            _ = write(fd, &eot, 1)
        }
        close(fd)
    }

    func waitForExit() async -> Int32 { await exit.value }

    func terminate() async {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    func resize(width: Int, height: Int) async {
        guard let ptySlavePath else { return }
        // `ioctl(TIOCSWINSZ)` is variadic and not callable from Swift; stty does the same.
        _ = try? await HostProcess.run(["stty", "-F", ptySlavePath, "rows", "\(height)", "cols", "\(width)"], allowFailure: true)
    }
}
