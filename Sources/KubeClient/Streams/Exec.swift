import Foundation
import KubeModel
import NIOCore
import SystemSupport

/// Output of a running exec, in arrival order.
public enum ExecOutput: Sendable, Hashable {
    case stdout([UInt8])
    case stderr([UInt8])
}

/// What ``KubeClient/execCollect(namespace:pod:container:command:stdin:timeout:)`` gathered.
public struct ExecResult: Sendable, Hashable {
    public var stdout: Data
    public var stderr: Data
    public var exitCode: Int32
    /// stdout as UTF-8 text.
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// A command running in a container over a `channel.k8s.io` WebSocket.
///
/// Read ``output`` until it ends, then ``exitCode()``. The session owns its socket; ``cancel()`` closes it.
public final class ExecSession: Sendable {
    /// stdout/stderr messages; ends when the server closes the stream.
    public let output: AsyncThrowingStream<ExecOutput, any Error>
    /// `v5.channel.k8s.io` or `v4.channel.k8s.io`, as negotiated.
    public let negotiatedProtocol: String?
    let connection: WebSocketConnection
    let exit: EventLoopFuture<Int32>

    init(output: AsyncThrowingStream<ExecOutput, any Error>, connection: WebSocketConnection, exit: EventLoopFuture<Int32>) {
        self.output = output
        self.connection = connection
        self.exit = exit
        self.negotiatedProtocol = connection.negotiatedProtocol
    }

    /// Sends bytes to the process's stdin.
    public func write(stdin bytes: some Collection<UInt8> & Sendable) async throws {
        try await connection.send(channel: ExecChannel.stdin.rawValue, payload: ByteBuffer(bytes: bytes)).get()
    }

    /// Ends stdin so the process reads EOF. Needs `v5.channel.k8s.io`; under v4 the protocol has no
    /// half-close, so this returns `false` and the caller must close the session instead.
    @discardableResult
    public func closeStdin() async throws -> Bool {
        guard negotiatedProtocol == ChannelProtocol.v5.rawValue else { return false }
        try await connection.send(channel: ExecChannel.close.rawValue, payload: ByteBuffer(bytes: [ExecChannel.stdin.rawValue])).get()
        return true
    }

    /// Tells a TTY session the terminal size.
    public func resize(width: Int, height: Int) async throws {
        let json = "{\"Width\":\(width),\"Height\":\(height)}"
        try await connection.send(channel: ExecChannel.resize.rawValue, payload: ByteBuffer(string: json)).get()
    }

    /// The exit code once the server sent the status (0 for `Success`); throws ``KubeError`` for other failures.
    public func exitCode() async throws -> Int32 {
        try await exit.get()
    }

    /// Closes the socket; the remote process gets no more input.
    public func cancel() {
        connection.close()
    }
}

extension KubeClient {
    /// Starts `command` in a container (`pods/exec`), offering v5 then v4 of the channel protocol.
    public func exec(
        namespace: String? = nil, pod: String, container: String? = nil, command: [String],
        stdin: Bool = false, stdout: Bool = true, stderr: Bool = true, tty: Bool = false
    ) async throws -> ExecSession {
        var query: [(String, String)] = command.map { ("command", $0) }
        if let container { query.append(("container", container)) }
        query += [("stdin", String(stdin)), ("stdout", String(stdout)), ("stderr", String(stderr)), ("tty", String(tty))]
        let path = APIResource.pods.path(namespace: resolveNamespace(.pods, namespace), name: pod, subresource: "exec")
        let (output, continuation) = AsyncThrowingStream.makeStream(of: ExecOutput.self)
        let status = Locked<Result<Int32, KubeError>?>(nil)
        let exitPromise = group.next().makePromise(of: Int32.self)
        let podName = pod
        let logger = self.logger
        let connection: WebSocketConnection
        do {
        connection = try await openWebSocket(
            path: path, query: query, protocols: ChannelProtocol.allCases.map(\.rawValue),
            onMessage: { message in
                var message = message
                guard let channel = message.readInteger(as: UInt8.self) else { return }
                let bytes = message.readBytes(length: message.readableBytes) ?? []
                logger.trace("exec message", metadata: ["channel": "\(channel)", "bytes": "\(bytes.count)"])
                switch channel {
                case ExecChannel.stdout.rawValue: if !bytes.isEmpty { continuation.yield(.stdout(bytes)) }
                case ExecChannel.stderr.rawValue: if !bytes.isEmpty { continuation.yield(.stderr(bytes)) }
                case ExecChannel.status.rawValue: status.withLock { $0 = Self.exitStatus(bytes, pod: podName) }
                default: break
                }
            },
            onClose: { error in
                logger.trace("exec stream closed", metadata: ["error": "\(error.map { "\($0)" } ?? "none")"])
                continuation.finish()
                switch status.current {
                case .success(let code): exitPromise.succeed(code)
                case .failure(let error): exitPromise.fail(error)
                case nil:
                    exitPromise.fail(KubeError.protocolViolation("exec in pod \(podName) ended without an exit status\(error.map { " (\($0))" } ?? "")"))
                }
            })
        } catch {
            // NIO requires every promise to be completed.
            exitPromise.fail(error)
            continuation.finish(throwing: error)
            throw error
        }
        return ExecSession(output: output, connection: connection, exit: exitPromise.futureResult)
    }

    /// Reads the status-channel JSON: `Success` → 0, `NonZeroExitCode` → the `ExitCode` cause.
    static func exitStatus(_ bytes: [UInt8], pod: String) -> Result<Int32, KubeError> {
        guard let json = try? JSONValue(parsing: Data(bytes)) else {
            // Pre-v4 servers write plain text, and only on failure.
            return .failure(KubeError(status: KubeStatus(code: 500, reason: "InternalError", message: "exec in pod \(pod): \(String(decoding: bytes, as: UTF8.self))")))
        }
        if json["status"]?.string == "Success" { return .success(0) }
        var status = KubeStatus(json: json) ?? KubeStatus(code: 500, reason: "InternalError", message: json.serializedString())
        if status.reason == "NonZeroExitCode",
            let code = status.causes.first(where: { $0.reason == "ExitCode" }).flatMap({ Int32($0.message) })
        {
            return .success(code)
        }
        if status.code == 0 { status.code = 500 }
        return .failure(KubeError(status: status))
    }

    /// Runs `command` to completion and collects its output and exit code.
    ///
    /// `stdin`, when given, is sent and then closed (v5); under v4 stdin cannot be closed, so commands
    /// that read to EOF would hang and get a ``KubeError/timeout(operation:seconds:)`` instead.
    public func execCollect(
        namespace: String? = nil, pod: String, container: String? = nil, command: [String],
        stdin: Data? = nil, timeout: Duration = .seconds(60)
    ) async throws -> ExecResult {
        let session = try await exec(namespace: namespace, pod: pod, container: container, command: command, stdin: stdin != nil)
        do {
            return try await withDeadline(timeout, operation: "exec \(command.first ?? "") in pod \(pod)") {
                if let stdin {
                    if !stdin.isEmpty { try await session.write(stdin: stdin) }
                    try await session.closeStdin()
                }
                var out = Data()
                var err = Data()
                for try await part in session.output {
                    switch part {
                    case .stdout(let bytes): out.append(contentsOf: bytes)
                    case .stderr(let bytes): err.append(contentsOf: bytes)
                    }
                }
                return ExecResult(stdout: out, stderr: err, exitCode: try await session.exitCode())
            }
        } catch {
            session.cancel()
            throw error
        }
    }
}
