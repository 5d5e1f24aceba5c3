import NIOCore
import NIOPosix

/// A connected socket from the runtime, adopted by NIO: incoming bytes as a stream, async writes.
/// The bridge owns the file descriptor from `adopt` on and closes it in `close()` or on EOF.
struct SocketBridge: Sendable {
    let incoming: AsyncStream<[UInt8]>
    private let channel: any Channel

    static func adopt(_ fd: Int32) async throws -> SocketBridge {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ForwardingHandler(continuation: continuation))
                }
            }
            .withConnectedSocket(fd).get()
        return SocketBridge(incoming: stream, channel: channel)
    }

    private init(incoming: AsyncStream<[UInt8]>, channel: any Channel) {
        self.incoming = incoming
        self.channel = channel
    }

    func write(_ bytes: [UInt8]) async {
        try? await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
    }

    func close() async {
        try? await channel.close()
    }
}

private final class ForwardingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncStream<[UInt8]>.Continuation

    init(continuation: AsyncStream<[UInt8]>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(Array(unwrapInboundIn(data).readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}
