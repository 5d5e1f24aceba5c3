import Foundation
import KubeModel
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Answers plain HTTP requests and runs upgraded WebSocket sessions; implemented by `APIRouter`.
protocol HTTPService: Sendable {
    func handle(_ request: APIRequest) async -> APIResponse
    /// The subprotocol to accept for a WebSocket upgrade of `request`, `""` for none, or `nil` to refuse.
    func webSocketProtocol(for request: APIRequest) -> String?
    func runWebSocket(_ request: APIRequest, subprotocol: String, session: WebSocketSession) async
}

/// The sandbox's HTTPS listener on 127.0.0.1: TLS, HTTP/1.1 with keep-alive, and WebSocket upgrades.
///
/// It can go down and come back on the same port (``stopServing()`` / ``resumeServing()``), the
/// way a real API server restart looks to its clients: every connection is cut, new ones are
/// refused, then the same port answers again.
final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let host: String
    private let tls: NIOSSLContext?
    private let service: any HTTPService
    private let connections: ConnectionTracker

    /// The bound port (useful with port 0); it stays the same across restarts.
    let port: Int

    /// Binds and starts serving; `tls == nil` serves plain HTTP (tests only).
    init(host: String, port: Int, tls: NIOSSLContext?, service: any HTTPService) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let connections = ConnectionTracker()
        let listener: any Channel
        do {
            listener = try await Self.bind(host: host, port: port, group: group, tls: tls, service: service, connections: connections)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        self.group = group
        self.host = host
        self.tls = tls
        self.service = service
        self.connections = connections
        self.port = listener.localAddress?.port ?? port
        connections.serving(listener)
    }

    private static func bind(host: String, port: Int, group: MultiThreadedEventLoopGroup, tls: NIOSSLContext?,
                             service: any HTTPService, connections: ConnectionTracker) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // A connection accepted in the instant the server went down is cut like the others.
                guard connections.adopt(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, tls: tls, service: service)
                }
            }
        return try await bootstrap.bind(host: host, port: port).get()
    }
    private static func configure(_ channel: any Channel, tls: NIOSSLContext?, service: any HTTPService) throws {
        let sync = channel.pipeline.syncOperations
        if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
        let httpHandler = HTTPRequestHandler(service: service)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 24, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let request = APIRequest(method: "GET", uri: head.uri, headers: head.headers.flattened, body: Data())
                guard let subprotocol = service.webSocketProtocol(for: request) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                var headers = HTTPHeaders()
                if !subprotocol.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, head in
                let request = APIRequest(method: "GET", uri: head.uri, headers: head.headers.flattened, body: Data())
                let subprotocol = service.webSocketProtocol(for: request) ?? ""
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: 1 << 26))
                    try channel.pipeline.syncOperations.addHandler(
                        WebSocketSessionHandler(request: request, subprotocol: subprotocol, service: service))
                }
            })
        try sync.configureHTTPServerPipeline(
            // After an upgrade the HTTP handler must leave, or it would see WebSocket frames.
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.removeHandler(httpHandler, promise: nil)
            }),
            withErrorHandling: true)
        try sync.addHandler(httpHandler)
    }

    /// Closes the listener, then every open connection (watches, exec and port-forward
    /// streams, idle keep-alive connections) without a goodbye: clients see a reset or EOF, and
    /// new connections are refused until ``resumeServing()``.
    func stopServing() async {
        let (listener, open) = connections.stop()
        try? await listener?.close()
        for channel in open { try? await channel.close() }
    }

    /// Listens again on the same port. A no-op while serving.
    func resumeServing() async throws {
        guard !connections.isServing else { return }
        let listener = try await Self.bind(host: host, port: port, group: group, tls: tls, service: service, connections: connections)
        connections.serving(listener)
    }

    /// Stops listening, closes every connection and the event loops.
    func shutdown() async {
        await stopServing()
        try? await group.shutdownGracefully()
    }
}

/// The listener and the open connections of an ``HTTPServer``, so a restart can cut them all.
private final class ConnectionTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var listener: (any Channel)?
    private var open: [ObjectIdentifier: any Channel] = [:]

    var isServing: Bool { lock.withLock { listener != nil } }

    func serving(_ channel: any Channel) {
        lock.withLock { listener = channel }
    }

    /// Records an accepted connection until it closes; `false` when the server is down.
    func adopt(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let adopted = lock.withLock { () -> Bool in
            guard listener != nil else { return false }
            open[id] = channel
            return true
        }
        if adopted {
            channel.closeFuture.whenComplete { [weak self] _ in
                guard let self else { return }
                self.lock.withLock { _ = self.open.removeValue(forKey: id) }
            }
        }
        return adopted
    }

    /// Marks the server down; returns the listener and the connections to close.
    func stop() -> (listener: (any Channel)?, open: [any Channel]) {
        lock.withLock {
            let result = (listener, Array(open.values))
            listener = nil
            return result
        }
    }
}

extension HTTPHeaders {
    /// Lower-cased names; repeated headers joined with ", ".
    var flattened: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in self {
            let key = name.lowercased()
            result[key] = result[key].map { "\($0), \(value)" } ?? value
        }
        return result
    }
}

/// Collects one request, hands it to the service on a task, and writes the answer.
///
/// `HTTPServerPipelineHandler` (added by `configureHTTPServerPipeline`) holds back the next
/// request until this response's `.end`, so requests on one connection are answered in order.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: any HTTPService
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var responseTask: Task<Void, Never>?

    init(service: any HTTPService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            let request = APIRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.flattened,
                body: Data(body.readableBytesView))
            let keepAlive = head.isKeepAlive
            let version = head.version
            let channel = context.channel
            let service = service
            responseTask = Task {
                let response = await service.handle(request)
                await Self.write(response, version: version, keepAlive: keepAlive, on: channel)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A watch or log follow ends when its client goes away.
        responseTask?.cancel()
        context.fireChannelInactive()
    }

    private static func write(_ response: APIResponse, version: HTTPVersion, keepAlive: Bool, on channel: any Channel) async {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-cache, private")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        switch response {
        case .json(let status, let value):
            let data = value.serialized()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(data.count))
            await writeWhole(status: status, headers: headers, data: data, version: version, on: channel)
        case .data(let status, let contentType, let data):
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(data.count))
            await writeWhole(status: status, headers: headers, data: data, version: version, on: channel)
        case .stream(let status, let contentType, let stream):
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.flush()
            for await chunk in stream {
                if Task.isCancelled { break }
                let buffer = channel.allocator.buffer(bytes: chunk)
                do { try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))) } catch { break }
            }
            try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        }
        if !keepAlive { try? await channel.close() }
    }

    private static func writeWhole(status: Int, headers: HTTPHeaders, data: Data, version: HTTPVersion, on channel: any Channel) async {
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: data))), promise: nil)
        try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
    }
}
