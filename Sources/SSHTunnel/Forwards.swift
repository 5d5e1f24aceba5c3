/// A local host:port that forwarded connections are spliced to.
public struct ForwardTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A port sshd listens on in the pod; its connections come out at `target` on this machine.
public struct RemoteForward: Sendable, Hashable {
    let id: Int
    /// The address sshd bound ("0.0.0.0": all IPv4; "" or "*": all IPv4 and IPv6 — with
    /// `GatewayPorts clientspecified`).
    public let bindHost: String
    /// The bound port (the allocated one when 0 was asked for).
    public let port: Int
    /// Where accepted connections are spliced to.
    public let target: ForwardTarget
}

/// A listener on 127.0.0.1 whose connections are tunnelled to a host:port seen from the pod.
public struct LocalForward: Sendable, Hashable {
    let id: Int
    /// The local port (the allocated one when 0 was asked for).
    public let port: Int
    public let remoteHost: String
    public let remotePort: Int
}
