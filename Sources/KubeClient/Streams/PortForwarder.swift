import Foundation
import KubeModel
import Logging
import NIOCore
import NIOPosix

/// `kubectl port-forward` as a library: listens on `127.0.0.1:localPort` and forwards each accepted
/// connection over its own WebSocket to `pod:remotePort`.
///
/// Owns its listening socket; ``stop()`` closes it (connections already forwarded run to their end).
public final class PortForwarder: Sendable {
    /// The port actually bound (useful when 0 was asked for).
    public let localPort: Int
    private let listener: any Channel

    private init(localPort: Int, listener: any Channel) {
        self.localPort = localPort
        self.listener = listener
    }

    /// Starts listening. `onError` hears about connections that could not be forwarded (pod gone, port closed).
    public static func start(
        client: KubeClient, namespace: String? = nil, pod: String, remotePort: Int, localPort: Int = 0,
        onError: @escaping @Sendable (KubeError) -> Void = { _ in }
    ) async throws -> PortForwarder {
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: client.group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                // Accepted connections stay silent until their WebSocket is open.
                .childChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelInitializer { child in
                    Task {
                        do {
                            let bridge = try await client.startBridge(namespace: namespace, pod: pod, port: remotePort, on: child.eventLoop)
                            try await child.eventLoop.submit {
                                try child.pipeline.syncOperations.addHandler(LocalSideHandler(bridge: bridge))
                            }.get()
                            bridge.attach(local: child)
                            let ended = bridge.ended.futureResult
                            ended.whenSuccess { error in if let error { onError(error) } }
                            try await child.setOption(ChannelOptions.autoRead, value: true).get()
                            child.read()
                        } catch {
                            child.close(promise: nil)
                            onError(error as? KubeError ?? KubeError.portForward(pod: pod, port: remotePort, message: "\(error)"))
                        }
                    }
                    return child.eventLoop.makeSucceededVoidFuture()
                }
                .bind(host: "127.0.0.1", port: localPort).get()
        } catch {
            throw KubeError.transport(server: "127.0.0.1:\(localPort)", reason: "cannot listen for port-forward: \(error)")
        }
        let bound = listener.localAddress?.port ?? localPort
        return PortForwarder(localPort: bound, listener: listener)
    }

    /// Stops accepting connections.
    public func stop() async {
        try? await listener.close()
    }
}

extension KubeClient {
    /// Starts a ``PortForwarder`` from `127.0.0.1:localPort` (0 = any free port) to `pod:remotePort`.
    public func portForward(namespace: String? = nil, pod: String, remotePort: Int, localPort: Int = 0, onError: @escaping @Sendable (KubeError) -> Void = { _ in }) async throws -> PortForwarder {
        try await PortForwarder.start(client: self, namespace: namespace, pod: pod, remotePort: remotePort, localPort: localPort, onError: onError)
    }
}
