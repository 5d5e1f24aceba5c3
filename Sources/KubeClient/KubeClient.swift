import Foundation
import KubeModel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SystemSupport

/// A Kubernetes API client on SwiftNIO: REST, watch, exec, port-forward and logs, with kubectl's
/// kubeconfig rules and auth chain. No kubectl is needed at run time.
///
/// ```swift
/// let client = try KubeClient(kubeconfig: nil, context: nil, namespace: nil)
/// let deployment = try await client.get(.deployments, name: "my-app")
/// try await client.shutdown()
/// ```
///
/// Requests reuse keep-alive connections from a pool. Call ``shutdown()`` when done; it closes pooled
/// connections (the event loop group, unless injected, is NIO's shared singleton).
public final class KubeClient: Sendable {
    /// The resolved connection configuration.
    public let config: ClusterConnectionConfig
    /// The default namespace (`-n`, else the context's, else `default`).
    public var namespace: String { config.namespace }
    /// Deadline for one non-streaming request.
    public let requestTimeout: Duration
    let group: any EventLoopGroup
    let authenticator: RequestAuthenticator
    let factory: ConnectionFactory
    let pool: ConnectionPool
    let logger: Logger

    /// Creates a client for a resolved configuration.
    public init(
        config: ClusterConnectionConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        requestTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "swapdev.kubeclient")
    ) {
        self.config = config
        self.requestTimeout = requestTimeout
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.authenticator = RequestAuthenticator(config: config, environment: environment)
        self.factory = ConnectionFactory(config: config, group: group, authenticator: authenticator, connectTimeout: .seconds(10))
        self.pool = ConnectionPool(factory: factory)
        self.logger = logger
    }

    /// Loads the kubeconfig like kubectl (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`, in-cluster) and creates a client.
    public convenience init(kubeconfig: String?, context: String?, namespace: String?, logger: Logger = Logger(label: "swapdev.kubeclient")) throws {
        let config = try KubeConfigLoader().load(explicitPath: kubeconfig, context: context, namespace: namespace)
        self.init(config: config, logger: logger)
    }

    /// Closes pooled connections. Streams already handed out keep their own connections until they end.
    public func shutdown() async {
        await pool.drain(final: true)
    }

    /// The exec plugin in use, if any (exposed so callers and tests can observe caching).
    public var execPlugin: ExecCredentialPlugin? { authenticator.plugin }

    // MARK: - Requests

    /// A complete response.
    struct RawResponse: Sendable {
        var head: HTTPResponseHead
        var body: Data
        var code: Int { Int(head.status.code) }
    }

    /// Builds the request head: base path, query, auth and impersonation headers.
    func makeHead(method: HTTPMethod, path: String, query: [(String, String)], contentType: String?, bodyLength: Int?, accept: String) async throws -> HTTPRequestHead {
        var uri = config.server.basePath + path
        if !query.isEmpty { uri += "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&") }
        var headers = HTTPHeaders()
        let server = config.server
        let defaultPort = server.port == (server.useTLS ? 443 : 80)
        headers.add(name: "Host", value: (server.host.contains(":") ? "[\(server.host)]" : server.host) + (defaultPort ? "" : ":\(server.port)"))
        headers.add(name: "User-Agent", value: "swapdev/0.1")
        headers.add(name: "Accept", value: accept)
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if let bodyLength { headers.add(name: "Content-Length", value: String(bodyLength)) }
        for (name, value) in try await authenticator.headers() { headers.add(name: name, value: value) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    /// Sends a request and reads the whole response, retrying once on a stale pooled connection,
    /// once when a new connection is closed during setup (nothing was sent: any method may go
    /// again), once when a GET's fresh connection was closed before any response (as client-go
    /// retries GETs on a reset or EOF: a server under load or restarting drops connections, and a
    /// GET may safely be sent again), and once after a 401 when the credentials can be refreshed
    /// (exec plugin, token file).
    func perform(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil, accept: String = "application/json"
    ) async throws -> RawResponse {
        let description = "\(method.rawValue) \(path)"
        return try await withDeadline(requestTimeout, operation: description) { [self] in
            var refreshed = false
            var staleRetried = false
            var droppedGETRetried = false
            var droppedSetupRetried = false
            while true {
                let sendsBody = body != nil || [.POST, .PUT, .PATCH].contains(method)
                let head = try await makeHead(method: method, path: path, query: query, contentType: contentType, bodyLength: sendsBody ? (body?.count ?? 0) : nil, accept: accept)
                let connection: HTTPConnection
                do {
                    connection = try await pool.acquire()
                } catch {
                    let classified = factory.classify(error)
                    // Nothing was sent yet, so any method may go again.
                    if !droppedSetupRetried, factory.isClosedDuringSetup(classified) {
                        droppedSetupRetried = true
                        logger.debug("\(description): connection closed during setup; retrying once")
                        try await Task.sleep(for: Self.droppedConnectionPause)
                        continue
                    }
                    throw classified
                }
                let response: RawResponse
                do {
                    response = try await exchange(connection, head: head, body: body)
                } catch let closed as ConnectionClosedError where connection.reused && !closed.sawResponse && !staleRetried {
                    // The server closed an idle keep-alive connection just as we used it.
                    staleRetried = true
                    continue
                } catch let closed as ConnectionClosedError where method == .GET && !closed.sawResponse && !droppedGETRetried {
                    droppedGETRetried = true
                    logger.debug("\(description): connection closed before a response; retrying once")
                    try await Task.sleep(for: Self.droppedConnectionPause)
                    continue
                } catch let closed as ConnectionClosedError where !closed.sawResponse {
                    // The request may have reached the server: not sent again, and not called a
                    // setup failure either.
                    throw KubeError.transport(server: config.server.description,
                                              reason: "the server closed the connection without answering \(description)")
                } catch {
                    throw factory.classify(error)
                }
                if response.code == 401, !refreshed, authenticator.canRefresh {
                    refreshed = true
                    await authenticator.invalidate()
                    await pool.drain()
                    logger.debug("401 on \(description); refreshing credentials once")
                    continue
                }
                return response
            }
        }
    }

    /// The pause before a request whose fresh connection was dropped is sent again (client-go
    /// waits 1 s; the request deadline still bounds the whole).
    static let droppedConnectionPause: Duration = .milliseconds(250)

    /// One request/response on `connection`; returns the connection to the pool when it may be reused.
    private func exchange(_ connection: HTTPConnection, head: HTTPRequestHead, body: Data?) async throws -> RawResponse {
        let buffer = body.map { ByteBuffer(bytes: $0) }
        var responseHead: HTTPResponseHead?
        var collected = Data()
        for try await event in connection.send(head: head, body: buffer) {
            switch event {
            case .head(let head): responseHead = head
            case .body(var chunk): collected.append(contentsOf: chunk.readBytes(length: chunk.readableBytes) ?? [])
            case .end:
                guard let responseHead else { throw KubeError.protocolViolation("response without a head") }
                if responseHead.isKeepAlive { await pool.release(connection) } else { try? await connection.channel.close() }
                return RawResponse(head: responseHead, body: collected)
            }
        }
        throw ConnectionClosedError(sawResponse: responseHead != nil)
    }

    /// Sends a request whose response body is consumed as it arrives (watch, follow logs).
    ///
    /// The connection is dedicated to the stream and closed when the stream ends or is dropped.
    func performStreaming(_ method: HTTPMethod, _ path: String, query: [(String, String)]) async throws -> AsyncThrowingStream<ByteBuffer, any Error> {
        let description = "\(method.rawValue) \(path)"
        var refreshed = false
        while true {
            let head = try await makeHead(method: method, path: path, query: query, contentType: nil, bodyLength: nil, accept: "application/json")
            // A fresh connection: a long-lived stream must not hold a pooled one, nor hit a stale one.
            let channel = try await factory.connect()
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(HTTPResponseRouter())
            }.get()
            let connection = HTTPConnection(channel: channel, reused: false)
            let events = connection.send(head: head, body: nil)
            var iterator = events.makeAsyncIterator()
            // Deadline for the response head only; the body may legitimately stream for hours.
            let timedOut = Locked(false)
            let timer = Task { [requestTimeout] in
                try await Task.sleep(for: requestTimeout)
                timedOut.withLock { $0 = true }
                channel.close(promise: nil)
            }
            let first: ResponseEvent?
            do {
                first = try await iterator.next()
                timer.cancel()
            } catch {
                timer.cancel()
                try? await channel.close()
                if timedOut.current {
                    throw KubeError.timeout(operation: description, seconds: Double(requestTimeout.components.seconds))
                }
                throw factory.classify(error)
            }
            guard case .head(let responseHead) = first else {
                try? await channel.close()
                throw KubeError.protocolViolation("\(description): response without a head")
            }
            let code = Int(responseHead.status.code)
            if code >= 400 {
                var body = Data()
                while let event = try await iterator.next() {
                    if case .body(var chunk) = event { body.append(contentsOf: chunk.readBytes(length: chunk.readableBytes) ?? []) }
                    if case .end = event { break }
                }
                try? await channel.close()
                if code == 401, !refreshed, authenticator.canRefresh {
                    refreshed = true
                    await authenticator.invalidate()
                    continue
                }
                throw KubeError.from(code: code, body: body, request: description)
            }
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
            let pump = Task { [iterator] in
                var iterator = iterator
                do {
                    while let event = try await iterator.next() {
                        switch event {
                        case .body(let chunk): continuation.yield(chunk)
                        case .end: continuation.finish()
                        case .head: break
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: factory.classify(error))
                }
                try? await channel.close()
            }
            continuation.onTermination = { _ in
                pump.cancel()
                channel.close(promise: nil)
            }
            return stream
        }
    }

    /// Decodes a JSON response, or throws the ``KubeError`` its Status describes.
    func decode(_ response: RawResponse, request: String) throws -> JSONValue {
        guard response.code < 400 else { throw KubeError.from(code: response.code, body: response.body, request: request) }
        do {
            return try JSONValue(parsing: response.body)
        } catch {
            throw KubeError.protocolViolation("\(request) returned HTTP \(response.code) with a body that is not JSON")
        }
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
func percentEncode(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
}
