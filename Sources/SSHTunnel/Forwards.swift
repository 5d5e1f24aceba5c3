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

/// What a direct-tcpip open writes to its local socket once the pod's side is known: a proxy's
/// reply (SOCKS5, HTTP CONNECT) that must tell the truth about the connection and must come
/// before any byte from the far end.
public struct DirectOpenReplies: Sendable, Hashable {
    /// Written when the channel opened (sshd connected), before the splice starts.
    public var opened: [UInt8]
    /// Written when it did not, before the socket is closed.
    public var failed: [UInt8]

    public init(opened: [UInt8], failed: [UInt8]) {
        self.opened = opened
        self.failed = failed
    }
}

/// A listener on 127.0.0.1 whose connections are tunnelled to a host:port seen from the pod.
public struct LocalForward: Sendable, Hashable {
    let id: Int
    /// The local port (the allocated one when 0 was asked for).
    public let port: Int
    public let remoteHost: String
    public let remotePort: Int
}
