import NIOCore
import NIOTLS

/// Opens a tunnel through an HTTP proxy with `CONNECT host:port`, then removes itself.
///
/// It runs before TLS is added; the client speaks first in TLS, so no server bytes can follow the
/// proxy's answer before the tunnel is handed over.
final class ProxyConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let target: String
    private let authorization: String?
    private let done: EventLoopPromise<Void>
    private var received: [UInt8] = []

    init(targetHost: String, targetPort: Int, authorization: String?, done: EventLoopPromise<Void>) {
        self.target = targetHost.contains(":") ? "[\(targetHost)]:\(targetPort)" : "\(targetHost):\(targetPort)"
        self.authorization = authorization
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let end = received.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if received.count > 16_384 { fail(context: context, "proxy answer too long") }
            return
        }
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[1] == "200" else {
            fail(context: context, "proxy refused CONNECT \(target): \(statusLine)")
            return
        }
        done.succeed(())
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(KubeError.transport(server: target, reason: "proxy closed the connection during CONNECT"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, "proxy error: \(error)")
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        done.fail(KubeError.transport(server: target, reason: reason))
        context.close(promise: nil)
    }
}

/// Reports the end of the TLS handshake (or its failure), then removes itself.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            done.succeed(())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ConnectionClosedError(sawResponse: false))
        context.fireChannelInactive()
    }
}
