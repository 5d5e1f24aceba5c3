import Foundation
import NIOHTTP1
import NIOCore
import NIOWebSocket

/// Turns WebSocket frames into whole binary messages for a callback, answers pings, and
/// completes the close handshake. Installed on the channel after a successful upgrade.
///
/// The callbacks run on the channel's event loop and must not block.
final class WebSocketMessageHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let onMessage: @Sendable (ByteBuffer) -> Void
    private let onWritable: @Sendable (Bool) -> Void
    private let onClose: @Sendable ((any Error)?) -> Void
    private var fragments: ByteBuffer?
    private var closed = false

    init(onMessage: @escaping @Sendable (ByteBuffer) -> Void, onWritable: @escaping @Sendable (Bool) -> Void,
         onClose: @escaping @Sendable ((any Error)?) -> Void) {
        self.onMessage = onMessage
        self.onWritable = onWritable
        self.onClose = onClose
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        onWritable(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .text, .continuation:
            var payload = frame.unmaskedData
            if frame.opcode != .continuation { fragments = nil }
            if frame.fin, fragments == nil {
                onMessage(payload)
            } else {
                if fragments == nil { fragments = context.channel.allocator.buffer(capacity: payload.readableBytes) }
                fragments?.writeBuffer(&payload)
                if frame.fin, let message = fragments {
                    fragments = nil
                    onMessage(message)
                }
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the close (client frames are masked), then drop the TCP connection.
            let reply = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: context.channel.allocator.buffer(capacity: 0))
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
            finish(nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    private func finish(_ error: (any Error)?) {
        guard !closed else { return }
        closed = true
        onClose(error)
    }
}

/// Collects a refused upgrade's response (a Status body) so it can become a ``KubeError``.
final class UpgradeRefusalCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let upgraded: EventLoopPromise<HTTPResponseHead>
    private let request: String
    private var code = 0
    private var body: [UInt8] = []

    init(upgraded: EventLoopPromise<HTTPResponseHead>, request: String) {
        self.upgraded = upgraded
        self.request = request
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): code = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            upgraded.fail(KubeError.from(code: code, body: .init(body), request: request))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(ConnectionClosedError(sawResponse: code != 0))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }
}
