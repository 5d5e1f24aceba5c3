import CLibSSH2
import Foundation

/// The outcome of a command run in the proxy over an exec channel.
public struct ExecResult: Sendable {
    /// The command's exit status (-1 when sshd reported none, e.g. killed by a signal).
    public let exitCode: Int32
    public let stdout: Data
    public let stderr: Data
}

/// Runs one command over a "session" channel with an `exec` request and collects its output.
final class ExecTask: LoopTask {
    private enum State { case opening, starting, writing, reading, closing, done }

    private let command: String
    private var stdin: [UInt8]
    private var state = State.opening
    private var channel: OpaquePointer?
    private var stdout = Data()
    private var stderr = Data()
    private var stdoutEOF = false
    private var stderrEOF = false
    private var continuation: CheckedContinuation<ExecResult, any Error>?
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(command: String, stdin: Data?, continuation: CheckedContinuation<ExecResult, any Error>) {
        self.command = command
        self.stdin = stdin.map { [UInt8]($0) } ?? []
        self.continuation = continuation
    }

    var isDone: Bool { state == .done }
    func pollInterest(_ add: (Int32, Int16) -> Void) {}
    func noteReady(fd: Int32, revents: Int16) {}

    func abort(_ error: SSHTunnelError) {
        channel = nil
        state = .done
        continuation?.resume(throwing: error)
        continuation = nil
    }

    func step(_ loop: SessionLoop) -> StepOutcome {
        guard let session = loop.session else { return .finished }
        switch state {
        case .opening:
            guard loop.mayOpen(self) else { return .idle }
            let type = "session"
            if let opened = libssh2_channel_open_ex(session, type, UInt32(type.utf8.count),
                                                    2 * 1024 * 1024, 32768, nil, 0) {
                loop.openPending(self, false)
                channel = opened
                state = .starting
                return .progress
            }
            return handleNull(loop, what: "session channel")
        case .starting:
            guard let channel else { return .finished }
            let request = "exec"
            let rc = libssh2_channel_process_startup(channel, request, UInt32(request.utf8.count), command, UInt32(command.utf8.count))
            return handle(loop, rc: Int(rc)) { self.state = .writing }
        case .writing:
            guard let channel else { return .finished }
            // Stdin waits while the session's outbound backlog is over its bound.
            if loop.outboundBacklogged { return .idle }
            if stdin.isEmpty {
                let rc = libssh2_channel_send_eof(channel)
                return handle(loop, rc: Int(rc)) { self.state = .reading }
            }
            let rc = stdin.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { libssh2_channel_write_ex(channel, 0, $0.baseAddress, $0.count) }
            }
            // 0: the peer's window is full; wait for its window adjust.
            if rc == 0 { return .idle }
            return handle(loop, rc: rc) { self.stdin.removeFirst(rc) }
        case .reading:
            return read(loop)
        case .closing:
            guard let channel else { return .finished }
            let rc = libssh2_channel_close(channel)
            return handle(loop, rc: Int(rc)) {
                // The exit status is known once the channel is closed.
                let status = libssh2_channel_get_exit_status(channel)
                _ = libssh2_channel_free(channel)
                self.channel = nil
                self.state = .done
                self.continuation?.resume(returning: ExecResult(exitCode: status, stdout: self.stdout, stderr: self.stderr))
                self.continuation = nil
            }
        case .done:
            return .finished
        }
    }

    private func read(_ loop: SessionLoop) -> StepOutcome {
        guard let channel else { return .finished }
        var progressed = false
        for stream in [Int32(0), swapdev_stderr_stream_id()] {
            if stream == 0 ? stdoutEOF : stderrEOF { continue }
            let rc = buffer.withUnsafeMutableBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { libssh2_channel_read_ex(channel, stream, $0.baseAddress, $0.count) }
            }
            switch loop.classify(rc) {
            case let .ok(count):
                progressed = true
                if count == 0 {
                    if stream == 0 { stdoutEOF = true } else { stderrEOF = true }
                } else if stream == 0 {
                    stdout.append(contentsOf: buffer[0..<count])
                } else {
                    stderr.append(contentsOf: buffer[0..<count])
                }
            case .again:
                break
            case let .fatal(code):
                loop.transportFailed(code)
                return .idle
            case .failed:
                stdoutEOF = true
                stderrEOF = true
                progressed = true
            }
        }
        if stdoutEOF && stderrEOF {
            state = .closing
            return .progress
        }
        return progressed ? .progress : .idle
    }

    private func handleNull(_ loop: SessionLoop, what: String) -> StepOutcome {
        let code = loop.lastErrorCode()
        switch loop.classify(Int(code)) {
        case .again:
            loop.openPending(self, true)
            return .idle
        case .fatal:
            loop.transportFailed(code)
            return .idle
        case .ok, .failed:
            loop.openPending(self, false)
            fail(SSHTunnelError.channelOpenFailed(what: what, reason: loop.lastErrorMessage()))
            return .finished
        }
    }

    private func handle(_ loop: SessionLoop, rc: Int, onSuccess: () -> Void) -> StepOutcome {
        switch loop.classify(rc) {
        case .ok:
            onSuccess()
            return .progress
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        case .failed:
            let reason = loop.lastErrorMessage()
            if let channel { _ = libssh2_channel_free(channel) }
            channel = nil
            fail(SSHTunnelError.channelOpenFailed(what: "exec '\(command)'", reason: reason))
            return .finished
        }
    }

    private func fail(_ error: SSHTunnelError) {
        state = .done
        continuation?.resume(throwing: error)
        continuation = nil
    }
}
