import Foundation

/// An authenticated SSH session to the swapdev proxy, served by one dedicated I/O thread.
///
/// ```swift
/// let key = try SSHKeyPair.generate()
/// let session = try await SSHSession.connect(
///     socket: fd, username: "swapdev", key: key,
///     hostKey: .sha256Fingerprint("SHA256:…"), keepalive: .seconds(10))
/// let forward = try await session.forwardRemote(port: 8080, target: (host: "127.0.0.1", port: 8080))
/// try await session.waitUntilClosed()   // throws SSHTunnelError.disconnected when the proxy goes away
/// ```
///
/// All methods may be called from any task. The session owns its socket, its channels and
/// every spliced fd; `close()` (or the peer going away) releases all of them and the thread.
public final class SSHSession: Sendable {
    private let loop: SessionLoop

    private init(loop: SessionLoop) { self.loop = loop }

    deinit {
        // Dropped without close(): end the session and let its thread clean up by itself.
        loop.submit(.close)
        loop.detach()
    }

    /// Runs SSH over an already connected stream socket — a TCP socket, or the AF_UNIX end of a
    /// Kubernetes port-forward bridge. The session takes ownership of `socket` (also on failure).
    /// - Parameters:
    ///   - keepalive: how often to probe an idle server; the session is declared dead after
    ///     three intervals without any data from it.
    public static func connect(socket: Int32, username: String, key: SSHKeyPair, hostKey: HostKeyPolicy,
                               keepalive: Duration = .seconds(10)) async throws -> SSHSession {
        try await start(.socket(socket), username: username, key: key, hostKey: hostKey, keepalive: keepalive)
    }

    /// Dials host:port over TCP, then behaves as `connect(socket:…)`.
    public static func connect(host: String, port: Int, username: String, key: SSHKeyPair, hostKey: HostKeyPolicy,
                               keepalive: Duration = .seconds(10)) async throws -> SSHSession {
        try await start(.dial(host: host, port: port), username: username, key: key, hostKey: hostKey, keepalive: keepalive)
    }

    private static func start(_ transport: SessionTransport, username: String, key: SSHKeyPair, hostKey: HostKeyPolicy,
                              keepalive: Duration) async throws -> SSHSession {
        let configuration = SessionConfiguration(username: username, key: key, hostKey: hostKey, keepalive: keepalive)
        let loop: SessionLoop
        do {
            loop = try SessionLoop(transport: transport, configuration: configuration)
        } catch {
            if case let .socket(fd) = transport { Sockets.closeFD(fd) }
            throw error
        }
        do {
            try await withCheckedThrowingContinuation { loop.start(ready: $0) }
        } catch {
            await loop.shared.waitUntilReleased()
            loop.join()
            throw error
        }
        return SSHSession(loop: loop)
    }

    /// Asks sshd to listen on bindHost:port in the pod and splices each connection to `target`.
    /// - Parameters:
    ///   - bindHost: "0.0.0.0" for all IPv4 addresses, "" for IPv4 and IPv6 (needs
    ///     `GatewayPorts clientspecified`), "127.0.0.1" for loopback only.
    ///   - port: the port in the pod; 0 lets sshd choose (see `RemoteForward.port`).
    /// - Throws: `SSHTunnelError.remoteForwardRefused` when sshd refuses (port in use).
    public func forwardRemote(bindHost: String = "0.0.0.0", port: Int, target: (host: String, port: Int)) async throws -> RemoteForward {
        let goal = ForwardTarget(host: target.host, port: target.port)
        return try await withCheckedThrowingContinuation {
            loop.submit(.forwardRemote(bindHost: bindHost, port: port, target: goal, $0))
        }
    }

    /// Stops listening in the pod. Connections already accepted keep running until they end.
    public func cancelForward(_ forward: RemoteForward) async throws {
        try await withCheckedThrowingContinuation { loop.submit(.cancelRemote(id: forward.id, $0)) }
    }

    /// Tunnels an already connected local socket to remoteHost:remotePort as seen from the pod
    /// (a direct-tcpip channel). Returns once the channel is open; the session owns `localSocket`
    /// from the call on (closed on failure too). `replies`, when given, are written to the
    /// socket on the I/O thread once the outcome is known: `opened` before any byte of the
    /// channel, `failed` before the socket is closed.
    public func openDirect(localSocket: Int32, remoteHost: String, remotePort: Int, replies: DirectOpenReplies? = nil) async throws {
        try await withCheckedThrowingContinuation {
            loop.submit(.openDirect(fd: localSocket, host: remoteHost, port: remotePort, replies: replies, $0))
        }
    }

    /// Listens on 127.0.0.1:listenPort (0 = any free port) and tunnels each connection to
    /// remoteHost:remotePort as seen from the pod.
    public func forwardLocal(listenPort: Int = 0, remoteHost: String, remotePort: Int) async throws -> LocalForward {
        try await withCheckedThrowingContinuation {
            loop.submit(.forwardLocal(port: listenPort, host: remoteHost, remotePort: remotePort, $0))
        }
    }

    /// Closes a local listener. Connections already accepted keep running until they end.
    public func cancelForward(_ forward: LocalForward) {
        loop.submit(.cancelLocal(id: forward.id))
    }

    /// Runs `command` with the login user's shell in the proxy and collects its output.
    /// - Parameter stdin: bytes written to the command's standard input, then EOF.
    public func exec(_ command: String, stdin: Data? = nil) async throws -> ExecResult {
        try await withCheckedThrowingContinuation { loop.submit(.exec(command: command, stdin: stdin, $0)) }
    }

    /// Counters for logs.
    public var stats: SSHSessionStats { loop.shared.stats }

    /// System-call counters of the socket hooks (recv calls made and skipped, sends carrying
    /// MSG_MORE). Written by the I/O thread without a lock: read them only after `close()`.
    var socketCountersAfterClose: (recvCalls: Int64, recvSkipped: Int64, sendsCoalesced: Int64) { loop.socketCounters }

    /// Closes every channel, the session, the socket, and ends the I/O thread. Returns when all
    /// of it is released. Idempotent.
    public func close() async {
        loop.submit(.close)
        await loop.shared.waitUntilReleased()
        // The thread has released everything and is returning: joining takes microseconds.
        loop.join()
    }

    /// Returns when the session is closed with `close()`; throws `SSHTunnelError.disconnected`
    /// when it dies (peer closed, socket error, keepalive timeout), so the caller can reconnect.
    public func waitUntilClosed() async throws {
        try await loop.shared.waitUntilClosed()
    }
}
