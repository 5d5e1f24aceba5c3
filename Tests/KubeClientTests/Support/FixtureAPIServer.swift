import Foundation
import KubeModel
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import SystemSupport

@testable import KubeClient

/// A small real HTTPS server that speaks just enough of the Kubernetes API to exercise the client's
/// code paths (TLS, bearer tokens, Status errors, watch with 410, exec and port-forward WebSockets).
/// It is a test fixture, not a stand-in for the sandbox cluster.
final class FixtureAPIServer: Sendable {
    struct Recorded: Sendable {
        var connections = 0
        var requests: [HTTPRequestHead] = []
        /// `connection#: METHOD path` per request, to see connection reuse.
        var log: [String] = []
        var watchResourceVersions: [String] = []
        var configMaps: [String: JSONValue] = [:]
        var nextVersion = 100
        var clientCertificateSeen = false
        /// Methods `/drop-first` has already dropped once.
        var dropped: Set<String> = []
        /// New connections to close at once, before TLS.
        var connectionsToDrop = 0
    }

    let port: Int
    let channel: any Channel
    let state: Locked<Recorded>
    /// Bearer token the server accepts; `nil` accepts any request.
    let token: String?

    static func start(certificates: TestCertificates, token: String?, requireClientCert: Bool = false) async throws -> FixtureAPIServer {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.serverCertPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.serverKeyPath, format: .pem)))
        if requireClientCert {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(certificates.caPath)
        }
        let context = try NIOSSLContext(configuration: tls)
        let state = Locked(Recorded())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let (connectionID, drop) = state.withLock { state -> (Int, Bool) in
                    state.connections += 1
                    let drop = state.connectionsToDrop > 0
                    if drop { state.connectionsToDrop -= 1 }
                    return (state.connections, drop)
                }
                // Cut before the TLS handshake: a server that is overloaded or restarting.
                if drop { return channel.close() }
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 24,
                    shouldUpgrade: { channel, head in
                        let path = head.uri.split(separator: "?").first.map(String.init) ?? ""
                        let authorized = token == nil || head.headers["Authorization"].first == "Bearer \(token ?? "")"
                        guard authorized, path.hasPrefix("/api/v1/namespaces/ns/pods/p/") else {
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                        var headers = HTTPHeaders()
                        if let chosen = FixtureAPIServer.chooseProtocol(head) { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
                        return channel.eventLoop.makeSucceededFuture(headers)
                    },
                    upgradePipelineHandler: { channel, head in
                        // The HTTP route handler must not see WebSocket frames.
                        channel.pipeline.removeHandler(name: "fixture-http").flatMapThrowing {
                            try channel.pipeline.syncOperations.addHandler(FixtureWebSocketHandler(uri: head.uri, protocolName: FixtureAPIServer.chooseProtocol(head)))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                        // Only now are the HTTP handlers gone, so WebSocket frames may be written.
                        context.fireUserInboundEventTriggered(FixtureUpgradeDone())
                    }))
                    try channel.pipeline.syncOperations.addHandler(FixtureHTTPHandler(state: state, token: token, connectionID: connectionID), name: "fixture-http")
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FixtureAPIServer(port: channel.localAddress?.port ?? 0, channel: channel, state: state, token: token)
    }

    private init(port: Int, channel: any Channel, state: Locked<Recorded>, token: String?) {
        self.port = port
        self.channel = channel
        self.state = state
        self.token = token
    }

    /// exec prefers v5; port-forward speaks v4 only, as the kubelet does.
    static func chooseProtocol(_ head: HTTPRequestHead) -> String? {
        let offered = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let supported = head.uri.contains("/exec") ? ["v5.channel.k8s.io", "v4.channel.k8s.io"] : ["v4.channel.k8s.io"]
        return offered.first { supported.contains($0) }
    }

    var url: String { "https://127.0.0.1:\(port)" }

    func stop() async {
        try? await channel.close()
    }
}

/// Plain HTTP routes.
final class FixtureHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: Locked<FixtureAPIServer.Recorded>
    let token: String?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    let connectionID: Int

    init(state: Locked<FixtureAPIServer.Recorded>, token: String?, connectionID: Int) {
        self.connectionID = connectionID
        self.state = state
        self.token = token
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            state.withLock {
                $0.requests.append(head)
                $0.log.append("\(connectionID): \(head.method) \(head.uri)")
            }
            handle(context: context, head: head, body: body)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ code: Int, _ json: JSONValue, keepAlive: Bool = true) {
        let bytes = json.serialized()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(bytes.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        let channel = context.channel
        if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
    }

    private func status(_ code: Int, _ reason: String, _ message: String, causes: [KubeStatus.Cause] = []) -> JSONValue {
        KubeStatus(code: code, reason: reason, message: message, causes: causes).json
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        if let token, head.headers["Authorization"].first != "Bearer \(token)" {
            respond(context, 401, status(401, "Unauthorized", "Unauthorized"))
            return
        }
        let parts = head.uri.split(separator: "?", maxSplits: 1)
        let path = String(parts.first ?? "")
        let query = parts.count > 1 ? String(parts[1]) : ""
        let cmPrefix = "/api/v1/namespaces/ns/configmaps"
        switch (head.method, path) {
        case (.GET, "/version"):
            respond(context, 200, ["major": "1", "minor": "30", "gitVersion": "v1.30.0-fixture"])
        case (.GET, "/connection-count"):
            respond(context, 200, ["connections": .int(Int64(state.current.connections))])
        case (.GET, "/close-after"):
            respond(context, 200, ["ok": true], keepAlive: false)
        case (_, "/drop-first"):
            // Closes the connection without a response the first time (per method), then answers.
            let first = state.withLock { state -> Bool in
                state.dropped.insert(head.method.rawValue).inserted
            }
            if first {
                context.close(promise: nil)
            } else {
                respond(context, 200, ["ok": true])
            }
        case (.POST, cmPrefix):
            guard var object = try? JSONValue(parsing: Data(body)), let name = object.name else {
                respond(context, 400, status(400, "BadRequest", "body is not an object with a name"))
                return
            }
            if object["data"]?["bad"] != nil {
                respond(context, 422, status(422, "Invalid", "ConfigMap \"\(name)\" is invalid: data[bad]: Invalid value", causes: [.init(reason: "FieldValueInvalid", message: "Invalid value: \"bad\"", field: "data[bad]")]))
                return
            }
            let exists = state.withLock { $0.configMaps[name] != nil }
            if exists {
                respond(context, 409, status(409, "AlreadyExists", "configmaps \"\(name)\" already exists"))
                return
            }
            let version = state.withLock { state -> Int in
                state.nextVersion += 1
                return state.nextVersion
            }
            object.resourceVersion = String(version)
            object["metadata"]?["uid"] = .string(UUID().uuidString)
            object["metadata"]?["unknownField"] = "kept"
            state.withLock { $0.configMaps[name] = object }
            respond(context, 201, object)
        case (.GET, _) where path.hasPrefix(cmPrefix + "/"):
            let name = String(path.dropFirst(cmPrefix.count + 1))
            if let object = state.withLock({ $0.configMaps[name] }) {
                respond(context, 200, object)
            } else {
                respond(context, 404, status(404, "NotFound", "configmaps \"\(name)\" not found"))
            }
        case (.PUT, _) where path.hasPrefix(cmPrefix + "/"):
            let name = String(path.dropFirst(cmPrefix.count + 1))
            guard var object = try? JSONValue(parsing: Data(body)), let stored = state.withLock({ $0.configMaps[name] }) else {
                respond(context, 404, status(404, "NotFound", "configmaps \"\(name)\" not found"))
                return
            }
            guard object.resourceVersion == nil || object.resourceVersion == stored.resourceVersion else {
                respond(context, 409, status(409, "Conflict", "Operation cannot be fulfilled on configmaps \"\(name)\": the object has been modified; please apply your changes to the latest version and try again"))
                return
            }
            let version = state.withLock { state -> Int in
                state.nextVersion += 1
                return state.nextVersion
            }
            object.resourceVersion = String(version)
            state.withLock { $0.configMaps[name] = object }
            respond(context, 200, object)
        case (.DELETE, _) where path.hasPrefix(cmPrefix + "/"):
            let name = String(path.dropFirst(cmPrefix.count + 1))
            let removed = state.withLock { $0.configMaps.removeValue(forKey: name) }
            if removed == nil {
                respond(context, 404, status(404, "NotFound", "configmaps \"\(name)\" not found"))
            } else {
                respond(context, 200, ["kind": "Status", "apiVersion": "v1", "status": "Success", "details": ["options": .string(String(decoding: body, as: UTF8.self))]])
            }
        case (.GET, "/api/v1/namespaces/ns/pods"):
            if query.contains("watch=true") {
                startWatch(context: context, query: query)
            } else {
                respond(context, 200, ["kind": "PodList", "apiVersion": "v1", "metadata": ["resourceVersion": "10"], "items": [["metadata": ["name": "listed", "resourceVersion": "9"]]]])
            }
        case (.GET, "/api/v1/namespaces/ns/pods/p/log"):
            startLogs(context: context)
        default:
            respond(context, 404, status(404, "NotFound", "the server could not find the requested resource (\(head.method) \(path))"))
        }
    }

    /// Watch script: rv=old → ERROR 410; rv=10 → ADDED, BOOKMARK(20), MODIFIED(21), end; rv=21 → DELETED(22), keep open.
    private func startWatch(context: ChannelHandlerContext, query: String) {
        let rv = query.split(separator: "&").first { $0.hasPrefix("resourceVersion=") }.map { String($0.dropFirst("resourceVersion=".count)) } ?? ""
        state.withLock { $0.watchResourceVersions.append(rv) }
        if rv == "gone" {
            respond(context, 410, status(410, "Expired", "too old resource version: gone"))
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        func event(_ type: String, _ object: JSONValue) -> String { (["type": .string(type), "object": object] as JSONValue).serializedString() + "\n" }
        var lines: [String] = []
        var endStream = false
        switch rv {
        case "old":
            lines = [event("ERROR", status(410, "Expired", "too old resource version: old (10)"))]
            endStream = true
        case "10":
            lines = [event("ADDED", ["metadata": ["name": "a", "resourceVersion": "11"]]),
                     "\n",
                     event("BOOKMARK", ["kind": "Pod", "metadata": ["resourceVersion": "20"]]),
                     event("MODIFIED", ["metadata": ["name": "a", "resourceVersion": "21"], "status": ["phase": "Running"]])]
            endStream = true
        case "21":
            lines = [event("DELETED", ["metadata": ["name": "a", "resourceVersion": "22"]])]
        default:
            lines = []
        }
        // Split one event across two chunks to exercise line reassembly.
        let text = lines.joined()
        let middle = text.index(text.startIndex, offsetBy: text.count / 2)
        for piece in [String(text[..<middle]), String(text[middle...])] where !piece.isEmpty {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: piece)))), promise: nil)
        }
        if endStream { context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil) }
    }

    private func startLogs(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Type": "text/plain", "Transfer-Encoding": "chunked"]))), promise: nil)
        let loop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        for index in 0..<3 {
            loop.scheduleTask(in: .milliseconds(Int64(50 * index))) {
                let context = boundContext.value
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "line \(index)\n")))), promise: nil)
                if index == 2 { context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil) }
            }
        }
    }
}

/// Fired once the server-side upgrade finished.
struct FixtureUpgradeDone {}

/// exec (`command=cat`: echo stdin, exit 3 on stdin close; `command=true`: exit 0) and
/// port-forward (echo; port 9999 reports connection refused) over WebSocket.
final class FixtureWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let uri: String
    let protocolName: String?
    /// Frames that arrived before the greeting; a real server always sends the port prefix first.
    private var early: [WebSocketFrame]? = []
    var portForward: Bool { uri.contains("/portforward") }

    init(uri: String, protocolName: String?) {
        self.uri = uri
        self.protocolName = protocolName
    }

    private func send(_ context: ChannelHandlerContext, _ channel: UInt8, _ payload: [UInt8]) {
        let frame = WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [channel] + payload))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func closeSocket(_ context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8]))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The server's HTTP handlers are removed right after this handler is added; frames written
        // before that would go through the HTTP encoder, so the greeting waits a moment.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(20)) {
            let (handler, context) = bound.value
            handler.greet(context: context)
        }
    }

    private func greet(context: ChannelHandlerContext) {
        defer {
            let queued = early ?? []
            early = nil
            for frame in queued { channelRead(context: context, data: NIOAny(frame)) }
        }
        if portForward {
            let port = UInt16(uri.split(separator: "ports=").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0)
            send(context, 0, PortForwardChannel.portPrefix(port))
            send(context, 1, PortForwardChannel.portPrefix(port))
            if port == 9999 {
                send(context, 1, Array("error forwarding port 9999 to pod p, uid : failed to connect to localhost:9999 inside namespace: connection refused".utf8))
                closeSocket(context)
            }
        } else {
            send(context, 1, [])
            if uri.contains("command=true") {
                send(context, 3, Array("{\"metadata\":{},\"status\":\"Success\"}".utf8))
                closeSocket(context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if early != nil {
            early?.append(frame)
            return
        }
        switch frame.opcode {
        case .binary:
            var payload = frame.unmaskedData
            guard let channel = payload.readInteger(as: UInt8.self) else { return }
            let bytes = payload.readBytes(length: payload.readableBytes) ?? []
            if portForward {
                if channel == 0, !bytes.isEmpty { send(context, 0, bytes) }
            } else if channel == 0 {
                send(context, 1, bytes)
            } else if channel == 255, bytes == [0] {
                send(context, 2, Array("stdin closed\n".utf8))
                send(context, 3, Array(#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#.utf8))
                closeSocket(context)
            }
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }
}

/// Prints fixture events when KUBECLIENT_TRACE is set.
func trace(_ text: String) {
    if ProcessInfo.processInfo.environment["KUBECLIENT_TRACE"] != nil { FileHandle.standardError.write(Data("fixture: \(text)\n".utf8)) }
}
