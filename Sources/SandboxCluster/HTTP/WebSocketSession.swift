import Foundation
import NIOCore
import NIOWebSocket

/// An upgraded WebSocket connection as async code sees it: incoming binary messages and a way
/// to send and close. The session owns nothing but the channel, which `close()` closes.
struct WebSocketSession: Sendable {
    /// Each complete binary (or text) message from the client; finishes when the client closes.
    let messages: AsyncStream<[UInt8]>
    fileprivate let channel: any Channel

    /// Sends one binary message.
    func send(_ bytes: [UInt8]) async throws {
        let frame = WebSocketFrame(fin: true, opcode: .binary, data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(frame)
    }

    /// Sends a close frame (normal closure) and closes the connection.
    func close() async {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        try? await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        try? await channel.close()
    }
}

/// Turns frames into ``WebSocketSession`` messages and runs the service's session on a task.
final class WebSocketSessionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let request: APIRequest
    private let subprotocol: String
    private let service: any HTTPService
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let messages: AsyncStream<[UInt8]>
    private var task: Task<Void, Never>?

    init(request: APIRequest, subprotocol: String, service: any HTTPService) {
        self.request = request
        self.subprotocol = subprotocol
        self.service = service
        (messages, continuation) = AsyncStream<[UInt8]>.makeStream()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let session = WebSocketSession(messages: messages, channel: context.channel)
        let service = service
        let request = request
        let subprotocol = subprotocol
        task = Task {
            await service.runWebSocket(request, subprotocol: subprotocol, session: session)
            await session.close()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text:
            continuation.yield(Array(frame.unmaskedData.readableBytesView))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            continuation.finish()
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
