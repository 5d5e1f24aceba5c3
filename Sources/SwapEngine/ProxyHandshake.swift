import SSHTunnel

/// The first bytes of a connection to swapdev's outbound proxy, decoded: SOCKS5 (as
/// `ALL_PROXY=socks5h://…` clients speak it), HTTP `CONNECT`, or a plain-HTTP proxy request
/// in absolute form (`GET http://svc:8080/path HTTP/1.1`, what `HTTP_PROXY` clients send).
enum ProxyRequest: Sendable, Hashable {
    /// SOCKS5 CONNECT to host:port (the host may be a name; sshd resolves it in the pod).
    case socks5(host: String, port: Int)
    /// HTTP CONNECT host:port; `headerLength` bytes (through the blank line) are consumed.
    case connect(host: String, port: Int, headerLength: Int)
    /// A plain HTTP request for an absolute URL; nothing is consumed, the request goes to the
    /// server as it is (servers must accept the absolute form, RFC 9112 §3.2.2).
    case plainHTTP(host: String, port: Int)

    /// Where the client wants to go, as the pod will see it.
    var destination: (host: String, port: Int) {
        switch self {
        case .socks5(let host, let port), .connect(let host, let port, _), .plainHTTP(let host, let port): (host, port)
        }
    }

    /// The answers the client gets once the pod has tried to connect: success only when it did,
    /// so a Service that is down or a name the cluster does not know fails like a refused
    /// connection instead of a connection that opens and closes at once.
    var replies: DirectOpenReplies {
        let (host, port) = destination
        switch self {
        case .socks5:
            // 0x05 "connection refused": sshd reports every failed connect alike.
            return DirectOpenReplies(opened: ProxyHandshake.socks5Reply(0), failed: ProxyHandshake.socks5Reply(0x05))
        case .connect:
            return DirectOpenReplies(opened: ProxyHandshake.connectEstablished, failed: ProxyHandshake.badGateway(host: host, port: port))
        case .plainHTTP:
            return DirectOpenReplies(opened: [], failed: ProxyHandshake.badGateway(host: host, port: port))
        }
    }
}

/// Parsers for the handshakes, kept apart from sockets so they can be tested byte for byte.
enum ProxyHandshake {
    /// SOCKS5 method selection: the client's greeting is `05 N methods…`; we only offer
    /// "no authentication" (0x00) since we listen on 127.0.0.1 only.
    static func socks5GreetingLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        let length = 2 + Int(bytes[1])
        return bytes.count >= length ? length : nil
    }

    static func socks5AcceptsNoAuth(_ greeting: [UInt8]) -> Bool {
        greeting.count >= 2 && greeting.dropFirst(2).contains(0x00)
    }

    enum SocksParse: Equatable {
        case needMore
        case request(host: String, port: Int, length: Int)
        /// A reply code to send before closing: 0x07 command not supported, 0x08 address type.
        case refuse(UInt8)
    }

    /// Parses `05 CMD 00 ATYP ADDR PORT`.
    static func parseSocks5Request(_ bytes: [UInt8]) -> SocksParse {
        guard bytes.count >= 5 else { return .needMore }
        guard bytes[0] == 5 else { return .refuse(0x01) }
        guard bytes[1] == 1 else { return .refuse(0x07) }
        let host: String
        var index: Int
        switch bytes[3] {
        case 1:
            guard bytes.count >= 10 else { return .needMore }
            host = bytes[4..<8].map { String($0) }.joined(separator: ".")
            index = 8
        case 3:
            let length = Int(bytes[4])
            guard bytes.count >= 5 + length + 2 else { return .needMore }
            host = String(decoding: bytes[5..<(5 + length)], as: UTF8.self)
            index = 5 + length
        case 4:
            guard bytes.count >= 22 else { return .needMore }
            host = stride(from: 4, to: 20, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
            index = 20
        default:
            return .refuse(0x08)
        }
        let port = Int(bytes[index]) << 8 | Int(bytes[index + 1])
        return .request(host: host, port: port, length: index + 2)
    }

    /// The SOCKS5 reply: `05 code 00 01 0.0.0.0:0`.
    static func socks5Reply(_ code: UInt8) -> [UInt8] { [5, code, 0, 1, 0, 0, 0, 0, 0, 0] }

    static let connectEstablished = Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)
    static let badRequest = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)

    /// The answer to an HTTP proxy request the pod could not connect for.
    static func badGateway(host: String, port: Int) -> [UInt8] {
        let body = "swapdev: the pod cannot connect to \(host):\(port)\n"
        return Array("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }

    enum HTTPParse: Equatable {
        case needMore
        case request(ProxyRequest)
        case invalid
    }

    /// Parses an HTTP proxy request head (`CONNECT host:port HTTP/1.1` or `GET http://…`).
    static func parseHTTP(_ bytes: [UInt8]) -> HTTPParse {
        guard let lineEnd = find(Array("\r\n".utf8), in: bytes) else { return bytes.count > 8192 ? .invalid : .needMore }
        let line = String(decoding: bytes[..<lineEnd], as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count == 3 else { return .invalid }
        if parts[0] == "CONNECT" {
            guard let headEnd = find(Array("\r\n\r\n".utf8), in: bytes) else { return bytes.count > 8192 ? .invalid : .needMore }
            guard let (host, port) = hostPort(String(parts[1]), defaultPort: nil) else { return .invalid }
            return .request(.connect(host: host, port: port, headerLength: headEnd + 4))
        }
        let target = String(parts[1])
        guard target.lowercased().hasPrefix("http://") else { return .invalid }
        let authority = target.dropFirst(7).prefix { $0 != "/" && $0 != "?" }
        guard let (host, port) = hostPort(String(authority), defaultPort: 80) else { return .invalid }
        return .request(.plainHTTP(host: host, port: port))
    }

    /// `host:port`, `[v6]:port`, or `host` with a default port.
    static func hostPort(_ text: String, defaultPort: Int?) -> (String, Int)? {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { port = Int(rest.dropFirst()) } else if !rest.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":") {
            port = Int(host[host.index(after: colon)...])
            host = host[..<colon]
        }
        // Userinfo (`user@host`) is not forwarded.
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        guard let port, (1...65535).contains(port), !host.isEmpty else { return nil }
        return (String(host), port)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
