import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a local socket operation failed.
public struct LocalSocketError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var description: String {
        "cannot \(operation) on 127.0.0.1: \(String(cString: strerror(code))); choose another port or stop what uses it"
    }
}

/// Blocking POSIX socket helpers for the proxy's handshake threads.
enum Sockets {
    /// A listening TCP socket on 127.0.0.1:`port`; returns it and the bound port.
    static func listen(port: Int) throws -> (Int32, Int) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LocalSocketError(operation: "create a socket", code: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw LocalSocketError(operation: "listen on port \(port)", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// A connected TCP socket to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LocalSocketError(operation: "create a socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw LocalSocketError(operation: "connect to port \(port)", code: code)
        }
        return fd
    }

    /// SO_RCVTIMEO; 0 clears it.
    static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Exactly `count` bytes, or `nil` on EOF, error or timeout.
    static func readExact(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress.map { $0 + done }, count - done, 0) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return nil }
            done += result
        }
        return buffer
    }

    /// What is readable now without consuming it (blocks until at least one byte arrives).
    static func peek(_ fd: Int32, atLeast: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let result = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 8192, Int32(MSG_PEEK)) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return nil }
            return Array(buffer[0..<result])
        }
    }
}
