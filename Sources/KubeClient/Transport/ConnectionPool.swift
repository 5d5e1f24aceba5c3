import NIOCore
import NIOHTTP1

/// A keep-alive HTTP/1.1 connection to the API server carrying one request at a time.
final class HTTPConnection: Sendable {
    let channel: any Channel
    /// Whether it came from the pool (a stale pooled connection may fail before any response).
    let reused: Bool

    init(channel: any Channel, reused: Bool) {
        self.channel = channel
        self.reused = reused
    }

    func reusedCopy() -> HTTPConnection { HTTPConnection(channel: channel, reused: true) }

    /// Sends one request; the response arrives as events on the returned stream.
    ///
    /// Dropping the stream before `.end` closes the connection, since the rest of the response
    /// would otherwise be read by the next request.
    func send(head: HTTPRequestHead, body: ByteBuffer?) -> AsyncThrowingStream<ResponseEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ResponseEvent.self)
        let channel = self.channel
        continuation.onTermination = { termination in
            if case .cancelled = termination { channel.close(promise: nil) }
        }
        channel.writeAndFlush(HTTPRequestJob(head: head, body: body, sink: continuation)).whenFailure { error in
            // A pooled connection the server closed while idle: nothing was sent, so it may be retried.
            if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel || channelError == .alreadyClosed {
                continuation.finish(throwing: ConnectionClosedError(sawResponse: false))
            } else {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

/// Idle keep-alive connections, so consecutive requests skip TCP and TLS setup (swap latency matters).
actor ConnectionPool {
    private let factory: ConnectionFactory
    private var idle: [HTTPConnection] = []
    private let maxIdle: Int
    private var closed = false

    init(factory: ConnectionFactory, maxIdle: Int = 8) {
        self.factory = factory
        self.maxIdle = maxIdle
    }

    /// An idle live connection, or a new one.
    func acquire() async throws -> HTTPConnection {
        while let connection = idle.popLast() {
            if connection.channel.isActive { return connection.reusedCopy() }
        }
        if closed { throw KubeError.transport(server: factory.config.server.description, reason: "client was shut down") }
        let channel = try await factory.connect()
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(HTTPResponseRouter())
        }.get()
        return HTTPConnection(channel: channel, reused: false)
    }

    /// Returns a connection whose last response ended and allowed keep-alive.
    func release(_ connection: HTTPConnection) {
        guard !closed, connection.channel.isActive, idle.count < maxIdle else {
            connection.channel.close(promise: nil)
            return
        }
        idle.append(connection)
    }

    /// Closes every idle connection (after credentials change, or at shutdown).
    func drain(final: Bool = false) async {
        if final { closed = true }
        let connections = idle
        idle.removeAll()
        for connection in connections { try? await connection.channel.close() }
    }
}
