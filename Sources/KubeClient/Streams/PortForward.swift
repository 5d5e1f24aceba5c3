import Foundation
import KubeModel
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One forwarded TCP connection to a pod port, exposed as a Unix socket file descriptor.
public struct PortForwardSocket: Sendable {
    /// The caller's end of a `socketpair(AF_UNIX, SOCK_STREAM)`; the caller owns it and must close it.
    /// Closing it ends the forward; the forward ending closes the other end (reads see EOF).
    public let fileDescriptor: Int32
    let bridge: PortForwardBridge

    /// Waits until the forward ends: `nil` for a clean close, else why (e.g. connection refused in the pod).
    public func ended() async -> KubeError? {
        (try? await bridge.ended.futureResult.get()) ?? nil
    }
}

extension KubeClient {
    /// Opens one port-forward stream and returns a connected socket for it, as libssh2 needs a file descriptor.
    ///
    /// One WebSocket carries exactly one TCP connection (the protocol has no multiplexing), so call this
    /// once per connection. Errors from the pod side (port closed, pod gone) close the socket;
    /// ``openPortForwardConnection(namespace:pod:port:)`` also tells why.
    public func openPortForwardSocket(namespace: String? = nil, pod: String, port: Int) async throws -> Int32 {
        try await openPortForwardConnection(namespace: namespace, pod: pod, port: port).fileDescriptor
    }

    /// Like ``openPortForwardSocket(namespace:pod:port:)`` but also returns a handle that reports why the forward ended.
    public func openPortForwardConnection(namespace: String? = nil, pod: String, port: Int) async throws -> PortForwardSocket {
        var fds: [Int32] = [-1, -1]
        #if canImport(Glibc)
        let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let socketType = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, socketType, 0, &fds) == 0 else {
            throw KubeError.transport(server: "local", reason: "socketpair failed: errno \(errno)")
        }
        let (mine, theirs) = (fds[0], fds[1])
        let bridge: PortForwardBridge
        do {
            bridge = try await startBridge(namespace: namespace, pod: pod, port: port, on: group.next())
        } catch {
            close(mine)
            close(theirs)
            throw error
        }
        do {
            let local = try await ClientBootstrap(group: bridge.eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(LocalSideHandler(bridge: bridge))
                    }
                }
                .withConnectedSocket(mine).get()
            bridge.attach(local: local)
        } catch {
            bridge.finish(error)
            close(mine)
            close(theirs)
            throw KubeError.transport(server: "local", reason: "cannot register socketpair: \(error)")
        }
        return PortForwardSocket(fileDescriptor: theirs, bridge: bridge)
    }

    /// Opens the port-forward WebSocket wired to a new bridge (the local side is attached by the
    /// caller and must run on `eventLoop`, as the WebSocket does).
    func startBridge(namespace: String?, pod: String, port: Int, on eventLoop: any EventLoop) async throws -> PortForwardBridge {
        guard (1...65535).contains(port) else {
            throw KubeError.portForward(pod: pod, port: port, message: "port must be between 1 and 65535")
        }
        let path = APIResource.pods.path(namespace: resolveNamespace(.pods, namespace), name: pod, subresource: "portforward")
        let bridge = PortForwardBridge(pod: pod, port: port, eventLoop: eventLoop)
        do {
            let connection = try await openWebSocket(
                path: path, query: [("ports", String(port))], protocols: [ChannelProtocol.v4.rawValue], on: eventLoop,
                onMessage: { bridge.receive($0) },
                onWritable: { bridge.webSocketWritabilityChanged($0) },
                onClose: { bridge.finish($0) })
            bridge.webSocket.withLock { $0 = connection }
            // The socket may have closed before `webSocket` was set; make sure it does not dangle.
            if !connection.channel.isActive { bridge.finish() }
        } catch let error as KubeError {
            bridge.finish(error)
            if case .notFound = error {
                throw KubeError.portForward(pod: pod, port: port, message: "pod not found (\(error.status?.message ?? ""))")
            }
            throw error
        }
        return bridge
    }
}
