import NIOCore
import NIOHTTP1

/// One piece of an HTTP response as delivered to the request's reader.
enum ResponseEvent: Sendable {
    case head(HTTPResponseHead)
    case body(ByteBuffer)
    case end
}

/// An HTTP request plus the stream its response is delivered to; written into the channel as one message.
struct HTTPRequestJob: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var sink: AsyncThrowingStream<ResponseEvent, any Error>.Continuation
}

/// The channel closed before the response was complete.
struct ConnectionClosedError: Error, CustomStringConvertible {
    /// Whether any response bytes had arrived (a request that saw none may be retried on a new connection).
    var sawResponse: Bool
    var description: String { "connection closed by the server" + (sawResponse ? " mid-response" : "") }
}

/// Routes the parts of each HTTP response to the stream of the request that caused it.
///
/// One request is in flight per connection at a time (no pipelining), so a single `sink` suffices;
/// the pool only hands out connections whose previous response ended.
final class HTTPResponseRouter: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPRequestJob
    typealias OutboundOut = HTTPClientRequestPart

    private var sink: AsyncThrowingStream<ResponseEvent, any Error>.Continuation?
    private var sawResponse = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let job = unwrapOutboundIn(data)
        sink = job.sink
        sawResponse = false
        context.write(wrapOutboundOut(.head(job.head)), promise: nil)
        if let body = job.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sawResponse = true
        switch unwrapInboundIn(data) {
        case .head(let head): sink?.yield(.head(head))
        case .body(let buffer): sink?.yield(.body(buffer))
        case .end:
            sink?.yield(.end)
            sink?.finish()
            sink = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink?.finish(throwing: ConnectionClosedError(sawResponse: sawResponse))
        sink = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sink?.finish(throwing: error)
        sink = nil
        context.close(promise: nil)
    }
}
