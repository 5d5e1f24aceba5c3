import Foundation
import KubeModel
import NIOCore
import SystemSupport

/// Pumps bytes between a local NIO channel (one end of a socketpair, or an accepted TCP connection)
/// and one port-forward WebSocket (`v4.channel.k8s.io`, a single port: data channel 0, error channel 1).
///
/// Invariants: the 2-byte little-endian port prefix the server sends first on each channel is dropped;
/// bytes from the pod that arrive before the local channel is attached are kept and written first;
/// text on the error channel ends the forward with ``KubeError/portForward(pod:port:message:)``;
/// when either side closes, the other is closed after pending writes drain.
///
/// Backpressure both ways: when one side's send queue passes NIO's high watermark, reading from the
/// other side stops (`autoRead` off) until the queue drains below the low watermark. Both channels
/// run on the bridge's one event loop, so a write and the writability it changes are seen in order
/// and the pause/resume decisions cannot race.
final class PortForwardBridge: Sendable {
    private struct State {
        var dataPrefixPending = 2
        var errorPrefixPending = 2
        var errorText: [UInt8] = []
        var local: (any Channel)?
        /// Pod bytes received before `attach(local:)`.
        var early: [ByteBuffer] = []
        var lastLocalWrite: EventLoopFuture<Void>?
        var finished = false
    }

    let pod: String
    let port: Int
    /// The loop both channels run on.
    let eventLoop: any EventLoop
    private let state = Locked(State())
    /// Completes when the forward ends: `nil` for a clean close, else the error.
    let ended: EventLoopPromise<KubeError?>
    /// Set once the WebSocket is open.
    let webSocket = Locked<WebSocketConnection?>(nil)

    init(pod: String, port: Int, eventLoop: any EventLoop) {
        self.pod = pod
        self.port = port
        self.eventLoop = eventLoop
        self.ended = eventLoop.makePromise(of: KubeError?.self)
    }

    /// Attaches the local channel once it exists (it must run on ``eventLoop``).
    func attach(local: any Channel) {
        let (alreadyFinished, early) = state.withLock { state -> (Bool, [ByteBuffer]) in
            state.local = local
            defer { state.early = [] }
            return (state.finished, state.early)
        }
        for buffer in early { write(buffer, to: local) }
        if alreadyFinished { closeAfterPendingWrites(local) }
    }

    /// WebSocket → local.
    func receive(_ message: ByteBuffer) {
        var message = message
        guard let channel = message.readInteger(as: UInt8.self) else { return }
        if channel == PortForwardChannel.data(portIndex: 0) {
            // Under one lock with `attach`, so a message is either kept for it or written here.
            let local = state.withLock { state -> (any Channel)? in
                let skip = min(state.dataPrefixPending, message.readableBytes)
                state.dataPrefixPending -= skip
                message.moveReaderIndex(forwardBy: skip)
                guard message.readableBytes > 0 else { return nil }
                if state.local == nil { state.early.append(message) }
                return state.local
            }
            if let local { write(message, to: local) }
        } else if channel == PortForwardChannel.error(portIndex: 0) {
            let hasError = state.withLock { state -> Bool in
                let skip = min(state.errorPrefixPending, message.readableBytes)
                state.errorPrefixPending -= skip
                message.moveReaderIndex(forwardBy: skip)
                state.errorText += message.readBytes(length: message.readableBytes) ?? []
                return !state.errorText.isEmpty
            }
            if hasError { finish() }
        }
    }

    private func write(_ bytes: ByteBuffer, to local: any Channel) {
        let write = local.writeAndFlush(bytes)
        state.withLock { $0.lastLocalWrite = write }
        if !local.isWritable { setReading(webSocket.current?.channel, false) }
    }

    /// Local → WebSocket.
    func send(_ bytes: ByteBuffer) {
        guard let connection = webSocket.current else { return }
        _ = connection.send(channel: PortForwardChannel.data(portIndex: 0), payload: bytes)
        if !connection.channel.isWritable { setReading(state.current.local, false) }
    }

    /// The local side's send queue drained (or filled): resume (or pause) reading the WebSocket.
    func localWritabilityChanged(_ writable: Bool) {
        setReading(webSocket.current?.channel, writable)
    }

    /// The WebSocket's send queue drained (or filled): resume (or pause) reading the local side.
    func webSocketWritabilityChanged(_ writable: Bool) {
        setReading(state.current.local, writable)
    }

    private func setReading(_ channel: (any Channel)?, _ reading: Bool) {
        guard let channel, channel.isActive else { return }
        channel.setOption(ChannelOptions.autoRead, value: reading).whenFailure { _ in }
    }

    /// Ends both sides once; safe to call from either.
    func finish(_ transportError: (any Error)? = nil) {
        let snapshot = state.withLock { state -> State? in
            guard !state.finished else { return nil }
            state.finished = true
            return state
        }
        guard let snapshot else { return }
        webSocket.current?.close()
        if let local = snapshot.local { closeAfterPendingWrites(local) }
        if !snapshot.errorText.isEmpty {
            ended.succeed(KubeError.portForward(pod: pod, port: port, message: String(decoding: snapshot.errorText, as: UTF8.self)))
        } else if let transportError {
            ended.succeed(KubeError.portForward(pod: pod, port: port, message: "stream failed: \(transportError)"))
        } else {
            ended.succeed(nil)
        }
    }

    /// Lets bytes already read from the pod reach the local peer before closing.
    private func closeAfterPendingWrites(_ local: any Channel) {
        if let last = state.current.lastLocalWrite {
            last.whenComplete { _ in local.close(promise: nil) }
        } else {
            local.close(promise: nil)
        }
    }
}

/// Forwards what the local channel reads into the bridge and closes the bridge when the local side goes away.
final class LocalSideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let bridge: PortForwardBridge

    init(bridge: PortForwardBridge) { self.bridge = bridge }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bridge.send(unwrapInboundIn(data))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        bridge.localWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        bridge.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
