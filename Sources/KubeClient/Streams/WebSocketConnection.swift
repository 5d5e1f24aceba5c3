import Foundation
import KubeModel
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// An upgraded WebSocket to the API server speaking a `channel.k8s.io` protocol.
///
/// Owns its channel: ``close()`` (or the server) ends it, after which `onClose` has been called once.
final class WebSocketConnection: Sendable {
    let channel: any Channel
    /// The subprotocol the server chose (`v5.channel.k8s.io`, `v4.channel.k8s.io`), if any.
    let negotiatedProtocol: String?

    init(channel: any Channel, negotiatedProtocol: String?) {
        self.channel = channel
        self.negotiatedProtocol = negotiatedProtocol
    }

    /// Sends one binary message: the channel byte, then `payload`.
    func send(channel number: UInt8, payload: ByteBuffer) -> EventLoopFuture<Void> {
        var buffer = channel.allocator.buffer(capacity: payload.readableBytes + 1)
        buffer.writeInteger(number)
        var payload = payload
        buffer.writeBuffer(&payload)
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer)
        return channel.writeAndFlush(frame)
    }

    /// Sends a close frame and closes the connection.
    func close() {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: channel.allocator.buffer(capacity: 0))
        let channel = self.channel
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension KubeClient {
    /// Opens a WebSocket to `path`, offering `protocols` in order.
    ///
    /// `onMessage` gets each whole binary message (channel byte first) on the event loop;
    /// `onWritable` each change of the socket's writability (its send queue crossing NIO's
    /// watermarks), for backpressure; `onClose` is called once when the socket ends.
    /// A refused upgrade throws the server's Status as ``KubeError``.
    func openWebSocket(
        path: String, query: [(String, String)], protocols: [String], on eventLoop: (any EventLoop)? = nil,
        onMessage: @escaping @Sendable (ByteBuffer) -> Void,
        onWritable: @escaping @Sendable (Bool) -> Void = { _ in },
        onClose: @escaping @Sendable ((any Error)?) -> Void
    ) async throws -> WebSocketConnection {
        let description = "GET \(path) (WebSocket)"
        var head = try await makeHead(method: .GET, path: path, query: query, contentType: nil, bodyLength: nil, accept: "*/*")
        if !protocols.isEmpty { head.headers.add(name: "Sec-WebSocket-Protocol", value: protocols.joined(separator: ", ")) }
        head.headers.add(name: "Content-Length", value: "0")
        let channel = try await factory.connect(on: eventLoop)
        let upgraded = channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 24, automaticErrorHandling: true) { channel, response in
            channel.pipeline.removeHandler(name: "upgrade-refusal").flatMapError { _ in channel.eventLoop.makeSucceededVoidFuture() }.flatMapThrowing {
                try channel.pipeline.syncOperations.addHandler(WebSocketMessageHandler(onMessage: onMessage, onWritable: onWritable, onClose: onClose))
            }.map {
                upgraded.succeed(response)
            }
        }
        do {
            try await channel.eventLoop.submit {
                // Frames the server sends right after the 101 (the port prefix) arrive in the same read:
                // `.forwardBytes` hands them to the WebSocket decoder instead of dropping them.
                try channel.pipeline.syncOperations.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes,
                    withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                try channel.pipeline.syncOperations.addHandler(UpgradeRefusalCatcher(upgraded: upgraded, request: description), name: "upgrade-refusal")
            }.get()
            logger.trace("websocket upgrade request", metadata: ["uri": "\(head.uri)", "protocols": "\(protocols)"])
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let response = try await withDeadline(requestTimeout, operation: description) {
                try await upgraded.futureResult.get()
            }
            logger.trace("websocket upgraded", metadata: ["uri": "\(head.uri)", "protocol": "\(response.headers["Sec-WebSocket-Protocol"].first ?? "")"])
            return WebSocketConnection(channel: channel, negotiatedProtocol: response.headers["Sec-WebSocket-Protocol"].first)
        } catch {
            try? await channel.close()
            throw factory.classify(error)
        }
    }
}
