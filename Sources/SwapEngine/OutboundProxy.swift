import Foundation
import Logging
import SSHTunnel
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A SOCKS5 + HTTP proxy on 127.0.0.1 for the local process (`ALL_PROXY`, `HTTP_PROXY`,
/// `HTTPS_PROXY`): every connection is tunnelled into the pod, where sshd connects to the
/// requested host — names resolve inside the cluster (`redis.dev.svc`, Service names).
///
/// One listener thread accepts; each connection's handshake runs on its own short-lived
/// thread; then `connector` takes the socket (the SSH session splices it). The client's reply
/// (SOCKS5 success or 0x05, `200 Connection established` or `502`) is written by the session
/// once sshd has connected in the pod or failed to: a Service that is down or a name the
/// cluster does not know is refused, not a connection that opens and closes at once.
public final class OutboundProxy: Sendable {
    /// Takes ownership of the connected client socket and tunnels it to host:port, writing
    /// `replies.opened` (before any byte from the far end) or `replies.failed` to it.
    public typealias Connector = @Sendable (_ socket: Int32, _ host: String, _ port: Int, _ replies: DirectOpenReplies) async throws -> Void

    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let listener: Int32
    private let stopped = Locked(false)

    private init(listener: Int32, port: Int) {
        self.listener = listener
        self.port = port
    }

    /// Listens on 127.0.0.1:`port` (0 = any free port) and serves until ``stop()``.
    public static func start(port: Int = 0, logger: Logger, connector: @escaping Connector) throws -> OutboundProxy {
        let (listener, bound) = try Sockets.listen(port: port)
        let proxy = OutboundProxy(listener: listener, port: bound)
        let thread = Thread { proxy.acceptLoop(logger: logger, connector: connector) }
        thread.name = "swapdev-outbound-proxy"
        thread.start()
        return proxy
    }

    /// Stops accepting; tunnels already open keep running until they end.
    public func stop() {
        guard stopped.setOnce() else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The variables that point the local process at this proxy.
    public var environment: [(String, String)] {
        let socks = "socks5h://127.0.0.1:\(port)"
        let http = "http://127.0.0.1:\(port)"
        return [
            ("ALL_PROXY", socks), ("all_proxy", socks),
            ("HTTP_PROXY", http), ("http_proxy", http),
            ("HTTPS_PROXY", http), ("https_proxy", http),
            ("NO_PROXY", "localhost,127.0.0.1,::1"), ("no_proxy", "localhost,127.0.0.1,::1"),
        ]
    }

    private func acceptLoop(logger: Logger, connector: @escaping Connector) {
        while !stopped.current {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let thread = Thread {
                Self.serve(client, logger: logger, connector: connector)
            }
            thread.start()
        }
    }

    /// Runs the handshake on `client`, then hands it to `connector`.
    static func serve(_ client: Int32, logger: Logger, connector: @escaping Connector) {
        Sockets.setReceiveTimeout(client, seconds: 10)
        guard let request = handshake(client) else {
            close(client)
            return
        }
        Sockets.setReceiveTimeout(client, seconds: 0)
        let (host, port) = request.destination
        logger.debug("outbound proxy: tunnelling to \(host):\(port)")
        Task {
            do {
                try await connector(client, host, port, request.replies)
            } catch {
                logger.info("outbound proxy: cannot reach \(host):\(port) from the pod: \(error)")
            }
        }
    }

    /// Reads exactly the handshake's bytes (answering SOCKS5's method selection and refusing
    /// what we do not serve); `nil` when it is not one we serve. The answer to the request
    /// itself is the connector's, once the outcome is known.
    static func handshake(_ fd: Int32) -> ProxyRequest? {
        guard let first = Sockets.peek(fd, atLeast: 1)?.first else { return nil }
        if first == 5 {
            guard let head = Sockets.readExact(fd, 2), let methods = Sockets.readExact(fd, Int(head[1])) else { return nil }
            guard ProxyHandshake.socks5AcceptsNoAuth(head + methods) else {
                _ = SocketWrites.sendAll(fd, [5, 0xff])
                return nil
            }
            guard SocketWrites.sendAll(fd, [5, 0]) else { return nil }
            var request: [UInt8] = []
            while true {
                switch ProxyHandshake.parseSocks5Request(request) {
                case .needMore:
                    guard let byte = Sockets.readExact(fd, 1) else { return nil }
                    request += byte
                case .refuse(let code):
                    _ = SocketWrites.sendAll(fd, ProxyHandshake.socks5Reply(code))
                    return nil
                case .request(let host, let port, _):
                    // The reply waits for the pod's connect (`ProxyRequest.replies`).
                    return .socks5(host: host, port: port)
                }
            }
        }
        // HTTP: look at the request line without consuming it.
        var peeked: [UInt8] = []
        for _ in 0..<200 {
            guard let bytes = Sockets.peek(fd, atLeast: 1) else { return nil }
            peeked = bytes
            if ProxyHandshake.parseHTTP(peeked) != .needMore || ProxyHandshake.find(Array("\r\n".utf8), in: peeked) != nil { break }
            usleep(10_000)
        }
        switch ProxyHandshake.parseHTTP(peeked) {
        case .request(.plainHTTP(let host, let port)):
            return .plainHTTP(host: host, port: port)
        case .needMore, .request:
            // CONNECT: consume the head byte by byte up to the blank line, then answer.
            var head: [UInt8] = []
            while head.count < 16384 {
                guard let byte = Sockets.readExact(fd, 1) else { return nil }
                head += byte
                if head.count >= 4, head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) { break }
            }
            guard case .request(.connect(let host, let port, _)) = ProxyHandshake.parseHTTP(head) else {
                _ = SocketWrites.sendAll(fd, ProxyHandshake.badRequest)
                return nil
            }
            return .connect(host: host, port: port, headerLength: head.count)
        case .invalid:
            _ = SocketWrites.sendAll(fd, ProxyHandshake.badRequest)
            return nil
        }
    }
}
