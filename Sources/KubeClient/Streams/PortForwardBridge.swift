import Foundation
import KubeModel
import NIOCore

/// Pumps bytes between a local NIO channel (one end of a socketpair, or an accepted TCP connection)
/// and one port-forward WebSocket (`v4.channel.k8s.io`, a single port: data channel 0, error channel 1).
///
/// Invariants: the 2-byte little-endian port prefix the server sends first on each channel is dropped;
/// text on the error channel ends the forward with ``KubeError/portForward(pod:port:message:)``;
/// when either side closes, the other is closed after pending writes drain.
final class PortForwardBridge: Sendable {
    private struct State {
        var dataPrefixPending = 2
        var errorPrefixPending = 2
        var errorText: [UInt8] = []
        var local: (any Channel)?
        var lastLocalWrite: EventLoopFuture<Void>?
        var finished = false
    }

    let pod: String
    let port: Int
    private let state = LockedBox(State())
    /// Completes when the forward ends: `nil` for a clean close, else the error.
    let ended: EventLoopPromise<KubeError?>
    /// Set once the WebSocket is open.
    let webSocket = LockedBox<WebSocketConnection?>(nil)

    init(pod: String, port: Int, eventLoop: any EventLoop) {
        self.pod = pod
        self.port = port
        self.ended = eventLoop.makePromise(of: KubeError?.self)
    }

    /// Attaches the local channel once it exists.
    func attach(local: any Channel) {
        let alreadyFinished = state.withValue { state -> Bool in
            state.local = local
            return state.finished
        }
        if alreadyFinished { local.close(promise: nil) }
    }

    /// WebSocket → local.
    func receive(_ message: ByteBuffer) {
        var message = message
        guard let channel = message.readInteger(as: UInt8.self) else { return }
        if channel == PortForwardChannel.data(portIndex: 0) {
            let (skip, local) = state.withValue { state -> (Int, (any Channel)?) in
                let skip = min(state.dataPrefixPending, message.readableBytes)
                state.dataPrefixPending -= skip
                return (skip, state.local)
            }
            message.moveReaderIndex(forwardBy: skip)
            guard message.readableBytes > 0, let local else { return }
            let write = local.writeAndFlush(message)
            state.withValue { $0.lastLocalWrite = write }
        } else if channel == PortForwardChannel.error(portIndex: 0) {
            let hasError = state.withValue { state -> Bool in
                let skip = min(state.errorPrefixPending, message.readableBytes)
                state.errorPrefixPending -= skip
                message.moveReaderIndex(forwardBy: skip)
                state.errorText += message.readBytes(length: message.readableBytes) ?? []
                return !state.errorText.isEmpty
            }
            if hasError { finish() }
        }
    }

    /// Local → WebSocket.
    func send(_ bytes: ByteBuffer) {
        _ = webSocket.value?.send(channel: PortForwardChannel.data(portIndex: 0), payload: bytes)
    }

    /// Ends both sides once; safe to call from either.
    func finish(_ transportError: (any Error)? = nil) {
        let snapshot = state.withValue { state -> State? in
            guard !state.finished else { return nil }
            state.finished = true
            return state
        }
        guard let snapshot else { return }
        webSocket.value?.close()
        if let local = snapshot.local {
            // Let bytes already read from the pod reach the local peer before closing.
            if let last = snapshot.lastLocalWrite {
                last.whenComplete { _ in local.close(promise: nil) }
            } else {
                local.close(promise: nil)
            }
        }
        if !snapshot.errorText.isEmpty {
            ended.succeed(KubeError.portForward(pod: pod, port: port, message: String(decoding: snapshot.errorText, as: UTF8.self)))
        } else if let transportError {
            ended.succeed(KubeError.portForward(pod: pod, port: port, message: "stream failed: \(transportError)"))
        } else {
            ended.succeed(nil)
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

    func channelInactive(context: ChannelHandlerContext) {
        bridge.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
