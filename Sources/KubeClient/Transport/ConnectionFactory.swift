import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Opens connected, TLS-wrapped channels to the API server (through a proxy when configured).
///
/// The caller owns the returned channel and must close it. TLS contexts are built once per client
/// identity because building one parses certificates and is comparatively slow.
final class ConnectionFactory: Sendable {
    let config: ClusterConnectionConfig
    let group: any EventLoopGroup
    let authenticator: RequestAuthenticator
    let connectTimeout: TimeAmount
    private let contexts = TLSContextCache()

    init(config: ClusterConnectionConfig, group: any EventLoopGroup, authenticator: RequestAuthenticator, connectTimeout: TimeAmount) {
        self.config = config
        self.group = group
        self.authenticator = authenticator
        self.connectTimeout = connectTimeout
    }

    /// A TCP (+CONNECT) (+TLS) channel whose handshake has completed; no HTTP handlers yet.
    /// - Parameter eventLoop: the loop the channel must run on (a bridge keeps both of its
    ///   channels on one loop); any loop of the group when `nil`.
    func connect(on eventLoop: (any EventLoop)? = nil) async throws -> any Channel {
        let server = config.server
        let dialHost = config.proxy?.host ?? server.host
        let dialPort = config.proxy?.port ?? server.port
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop ?? group.next())
                .connectTimeout(connectTimeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
                .connect(host: dialHost, port: dialPort).get()
        } catch {
            throw classify(error)
        }
        do {
            if let proxy = config.proxy {
                try await Self.awaitSetup(on: channel) { done in
                    [ProxyConnectHandler(targetHost: server.host, targetPort: server.port, authorization: proxy.authorization, done: done)]
                }
            }
            if server.useTLS {
                let context = try await contexts.context(for: config.tls, identity: try await authenticator.clientIdentity())
                let hostname = sniName()
                try await Self.awaitSetup(on: channel) { done in
                    [try NIOSSLClientHandler(context: context, serverHostname: hostname), TLSHandshakeWaiter(done: done)]
                }
            }
            return channel
        } catch {
            try? await channel.close()
            // A reset while setting up is the server dropping the connection, like an EOF.
            if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
                throw KubeError.transport(server: server.description, reason: closedDuringSetup)
            }
            throw classify(error)
        }
    }

    /// Adds the handlers `make` builds around a promise they complete when their step is done
    /// (proxy CONNECT answered, TLS handshake finished), and waits for it. The promise is failed
    /// if the handlers cannot be added or the channel is no longer active once they are — the
    /// server may have closed the connection already — so it never goes unfulfilled.
    private static func awaitSetup(on channel: any Channel,
                                   _ make: @escaping @Sendable (EventLoopPromise<Void>) throws -> [any ChannelHandler]) async throws {
        try await channel.eventLoop.flatSubmit {
            let done = channel.eventLoop.makePromise(of: Void.self)
            do {
                try channel.pipeline.syncOperations.addHandlers(try make(done))
                // Closed before the handlers came: they will see neither the handshake nor the
                // close (channelInactive has already passed), so nothing else would end the wait.
                if !channel.isActive { done.fail(ConnectionClosedError(sawResponse: false)) }
            } catch {
                done.fail(error)
            }
            return done.futureResult
        }.get()
    }

    /// SNI must be a DNS name; for an IP server NIOSSL verifies the certificate against the peer address instead.
    private func sniName() -> String? {
        if let name = config.tls.serverName, !name.isEmpty { return name }
        let host = config.server.host
        let isIP = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
        return isIP ? nil : host
    }

    /// The reason of a connection the server closed before answering anything.
    var closedDuringSetup: String {
        "connection closed during setup (the server may have rejected the client certificate, or it is not a \(config.server.useTLS ? "TLS" : "plain HTTP") endpoint)"
    }

    /// Whether `error` (as thrown by `connect`) is a connection the server closed during setup.
    func isClosedDuringSetup(_ error: any Error) -> Bool {
        if case let KubeError.transport(_, reason) = error { return reason == closedDuringSetup }
        return false
    }

    /// A handshake that ended because the peer closed the connection (EOF, unclean shutdown).
    static func isPeerClosedHandshake(_ error: NIOSSLError) -> Bool {
        switch error {
        case .uncleanShutdown:
            return true
        case .handshakeFailed(let boring):
            return "\(boring)".contains("EOF during handshake")
        default:
            return false
        }
    }

    /// Maps NIO's errors to the user-facing ``KubeError`` cases.
    func classify(_ error: any Error) -> any Error {
        if error is KubeError || error is KubeConfigError { return error }
        let server = config.server.description
        if let sslError = error as? NIOSSLError {
            // The server hung up mid-handshake (overloaded, restarting, not TLS): not a
            // certificate problem, whatever BoringSSL calls it.
            if Self.isPeerClosedHandshake(sslError) { return KubeError.transport(server: server, reason: closedDuringSetup) }
            return KubeError.tls(server: server, reason: "\(sslError)", source: config.source)
        }
        if let sslError = error as? BoringSSLError {
            return KubeError.tls(server: server, reason: "\(sslError)".replacingOccurrences(of: "\n", with: " "), source: config.source)
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return KubeError.timeout(operation: "connecting to \(server)", seconds: Double(connectTimeout.nanoseconds) / 1e9)
        }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("refused") {
            return KubeError.connectionRefused(server: server, source: config.source)
        }
        if error is ConnectionClosedError || (error as? ChannelError) == .ioOnClosedChannel {
            return KubeError.transport(server: server, reason: closedDuringSetup)
        }
        return KubeError.transport(server: server, reason: oneLine(text))
    }
}

/// Builds each distinct TLS configuration once.
actor TLSContextCache {
    private var cache: [Data: NIOSSLContext] = [:]

    func context(for settings: TLSSettings, identity: (certificate: Data, key: Data)?) throws -> NIOSSLContext {
        let key = (identity?.certificate ?? Data()) + (identity?.key ?? Data())
        if let cached = cache[key] { return cached }
        var tls = TLSConfiguration.makeClientConfiguration()
        if settings.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = settings.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca)))
            } catch {
                throw KubeConfigError.invalidPEM(field: "certificate-authority", entry: "the cluster", reason: "\(error)")
            }
        }
        if let identity {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificate)).map { .certificate($0) }
            } catch {
                throw KubeConfigError.invalidPEM(field: "client-certificate", entry: "the user", reason: "\(error)")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.key), format: .pem))
            } catch {
                throw KubeConfigError.invalidPEM(field: "client-key", entry: "the user", reason: "\(error)")
            }
        }
        let context = try NIOSSLContext(configuration: tls)
        cache[key] = context
        return context
    }
}
