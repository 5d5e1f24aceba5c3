import Foundation
import Logging
import NIOCore
import NIOPosix
import SystemSupport

/// The sandbox's kube-proxy, in the style of its old userspace mode: one listener per
/// ClusterIP:port (the ClusterIPs are local addresses on the bridge), each accepted
/// connection spliced to a ready endpoint chosen round-robin.
///
/// Endpoints are looked up per connection, so a change applies to new connections while
/// existing ones continue. With no ready endpoint (or none accepting) the client's connection
/// is closed at once, as a refused connection would be.
final class ServiceProxy: Sendable {
    struct Key: Hashable, Sendable {
        var ip: String
        var port: Int
    }

    private struct Table {
        var endpoints: [Key: [ServiceRoute.Endpoint]] = [:]
        var next: [Key: Int] = [:]
    }

    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let table = Locked(Table())
    private let listeners = Locked<[Key: any Channel]>([:])

    init(logger: Logger) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.logger = logger
    }

    /// Replaces the routing table and opens/closes listeners to match `routes`.
    func update(_ routes: [ServiceRoute]) async {
        var wanted: [Key: [ServiceRoute.Endpoint]] = [:]
        for route in routes where !route.clusterIP.isEmpty && route.clusterIP != "None" {
            for port in route.ports { wanted[Key(ip: route.clusterIP, port: port.port)] = port.endpoints }
        }
        table.withLock { $0.endpoints = wanted }
        let current = listeners.current
        for (key, channel) in current where wanted[key] == nil {
            listeners.withLock { _ = $0.removeValue(forKey: key) }
            try? await channel.close()
        }
        for key in wanted.keys where current[key] == nil {
            do {
                let channel = try await bind(key)
                listeners.withLock { $0[key] = channel }
            } catch {
                logger.warning("service proxy could not listen on \(key.ip):\(key.port): \(error)")
            }
        }
    }

    /// Closes every listener and stops the event loop.
    func shutdown() async {
        let all = listeners.withLock { listeners -> [any Channel] in
            defer { listeners.removeAll() }
            return Array(listeners.values)
        }
        for channel in all { try? await channel.close() }
        try? await group.shutdownGracefully()
    }

    /// The next endpoints to try for `key`, starting at the round-robin position.
    func endpointsInOrder(for key: Key) -> [ServiceRoute.Endpoint] {
        table.withLock { table in
            guard let endpoints = table.endpoints[key], !endpoints.isEmpty else { return [] }
            let start = (table.next[key] ?? 0) % endpoints.count
            table.next[key] = start + 1
            return Array(endpoints[start...] + endpoints[..<start])
        }
    }

    private func bind(_ key: Key) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // kube-proxy's iptables rules have no listener to overflow. NIO's default backlog
            // (256) overflowed under a burst of 1,000 connects: the kernel answered with SYN
            // cookies, dropped the ACKs while the queue was full and then reset connections
            // the client already counted as open (scripts/load.sh).
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: 64)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] inbound in
                connect(inbound, to: endpointsInOrder(for: key))
            }
            .bind(host: key.ip, port: key.port)
            .get()
    }

    /// Connects to the first endpoint that accepts and glues it to `inbound`; failing all,
    /// fails the initializer, which makes NIO close the client's connection.
    private func connect(_ inbound: any Channel, to endpoints: [ServiceRoute.Endpoint]) -> EventLoopFuture<Void> {
        guard let endpoint = endpoints.first else {
            return inbound.eventLoop.makeFailedFuture(ChannelError.connectTimeout(.zero))
        }
        return ClientBootstrap(group: inbound.eventLoop)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            // As long as a client's own SYN retries would wait with kube-proxy's iptables rules
            // (the pod sees the client's SYN directly): a listener whose accept queue is full
            // (sshd's is 128) drops SYNs and the retry comes 1 s, then 3 s later. A short
            // timeout here reset connections a real cluster would have carried.
            .connectTimeout(.seconds(15))
            .connect(host: endpoint.ip, port: endpoint.port)
            .flatMap { outbound in
                let (first, second) = GlueHandler.matchedPair()
                do {
                    try inbound.pipeline.syncOperations.addHandler(first)
                    try outbound.pipeline.syncOperations.addHandler(second)
                } catch {
                    outbound.close(promise: nil)
                    return inbound.eventLoop.makeFailedFuture(error)
                }
                return inbound.eventLoop.makeSucceededVoidFuture()
            }
            .flatMapError { [self] _ in
                connect(inbound, to: Array(endpoints.dropFirst()))
            }
    }
}
