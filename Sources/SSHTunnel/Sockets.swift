#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Thin wrappers over the socket calls the I/O loop needs. All return errno-style failures as
/// `SocketError` so callers can put the text into a typed `SSHTunnelError`.
struct SocketError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// A socket address ready for `connect`, as resolved by getaddrinfo.
struct ResolvedAddress {
    var family: Int32
    var storage: sockaddr_storage
    var length: socklen_t
}

enum Sockets {
    static func closeFD(_ fd: Int32) { close(fd) }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD, 0)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// TCP_NODELAY on TCP sockets; a no-op (ignored error) on AF_UNIX.
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func isTCP(_ fd: Int32) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return false }
        return storage.ss_family == sa_family_t(AF_INET) || storage.ss_family == sa_family_t(AF_INET6)
    }

    /// Resolves host:port for a TCP connection (numeric addresses need no DNS).
    static func resolve(host: String, port: Int) throws -> [(family: Int32, address: sockaddr_storage, length: socklen_t)] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SocketError(operation: "resolve \(host): \(String(cString: gai_strerror(rc)))", code: 0)
        }
        defer { freeaddrinfo(first) }
        var out: [(Int32, sockaddr_storage, socklen_t)] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var storage = sockaddr_storage()
            if let addr = info.pointee.ai_addr {
                withUnsafeMutableBytes(of: &storage) { dst in
                    dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen)))
                }
                out.append((info.pointee.ai_family, storage, info.pointee.ai_addrlen))
            }
            cursor = info.pointee.ai_next
        }
        return out
    }

    /// The first address getaddrinfo gives for host:port.
    static func resolveFirst(host: String, port: Int) throws -> ResolvedAddress {
        guard let first = try resolve(host: host, port: port).first else {
            throw SocketError(operation: "resolve \(host)", code: EADDRNOTAVAIL)
        }
        return ResolvedAddress(family: first.family, storage: first.address, length: first.length)
    }

    /// Starts a non-blocking connect. Returns the fd; completion is signalled by POLLOUT and
    /// checked with `pendingError`. A blocking connect would stall every tunnel of the session.
    static func startConnect(host: String, port: Int) throws -> Int32 {
        try startConnect(to: resolveFirst(host: host, port: port), name: "\(host):\(port)")
    }

    /// `startConnect(host:port:)` for an address resolved earlier (a remote forward resolves
    /// its target once, not once per forwarded connection).
    static func startConnect(to target: ResolvedAddress, name: @autoclosure () -> String) throws -> Int32 {
        let fd = socket(target.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        setNoDelay(fd)
        var address = target.storage
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, target.length) }
        }
        if rc != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw SocketError(operation: "connect \(name())", code: code)
        }
        return fd
    }

    /// Blocking connect with a deadline, for the SSH server itself (done on the session's own thread).
    static func connectBlocking(host: String, port: Int, timeoutMilliseconds: Int32) throws -> Int32 {
        let fd = try startConnect(host: host, port: port)
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&pfd, 1, timeoutMilliseconds)
        if ready <= 0 {
            close(fd)
            throw SocketError(operation: "connect \(host):\(port)", code: ready == 0 ? ETIMEDOUT : errno)
        }
        let code = pendingError(fd)
        if code != 0 {
            close(fd)
            throw SocketError(operation: "connect \(host):\(port)", code: code)
        }
        return fd
    }

    static func pendingError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { return errno }
        return code
    }

    /// A non-blocking listener on 127.0.0.1:port (0 picks a free port). Returns fd and bound port.
    static func listenLoopback(port: Int) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "bind/listen", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }
}
