/// The stream numbers of the `channel.k8s.io` WebSocket protocols used by exec and port-forward.
///
/// Every binary WebSocket message starts with one channel byte; the rest is payload.
/// Shared by the client and the sandbox so both sides agree byte for byte.
public enum ExecChannel: UInt8, Sendable {
    case stdin = 0
    case stdout = 1
    case stderr = 2
    /// Server → client: one `Status` JSON (without kind/apiVersion) with the exit result.
    case status = 3
    /// Client → server: terminal size JSON `{"Width":80,"Height":24}`.
    case resize = 4
    /// v5 only: `[255, channel]` half-closes that channel (e.g. stdin EOF).
    case close = 255
}

/// WebSocket subprotocol names of the channel protocols.
public enum ChannelProtocol: String, Sendable, CaseIterable {
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"
}

/// Port-forward channel numbering: for the i-th requested port, `2i` carries data, `2i+1` errors.
/// The first message on each channel is the port number as a little-endian `UInt16`.
public enum PortForwardChannel {
    public static func data(portIndex: Int) -> UInt8 { UInt8(truncatingIfNeeded: 2 * portIndex) }
    public static func error(portIndex: Int) -> UInt8 { UInt8(truncatingIfNeeded: 2 * portIndex + 1) }

    /// The 2-byte little-endian port prefix the server sends first on both channels.
    public static func portPrefix(_ port: UInt16) -> [UInt8] { [UInt8(port & 0xff), UInt8(port >> 8)] }
}
