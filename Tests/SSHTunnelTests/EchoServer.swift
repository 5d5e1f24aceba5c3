import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A single-threaded poll() echo server on 127.0.0.1: echoes every byte and half-closes when
/// the client half-closes. Enough for hundreds of concurrent connections without a thread each.
final class EchoServer: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let done = DispatchSemaphore(value: 0)

    /// - Parameter port: 0 picks a free port; a given one lets a test bring a target back up
    ///   on the port a forward already points at.
    init(port requested: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        address.sin_port = in_port_t(UInt16(requested)).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1024) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        stopPipe = (fds[0], fds[1])
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        done.wait()
        close(stopPipe.write)
    }

    private final class Connection {
        let fd: Int32
        var pending: [UInt8] = []
        var readEOF = false
        init(fd: Int32) { self.fd = fd }
    }

    private func serve() {
        var connections: [Int32: Connection] = [:]
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        loop: while true {
            var fds = [pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0), pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            for connection in connections.values {
                var events: Int16 = 0
                if !connection.readEOF && connection.pending.count < (1 << 20) { events |= Int16(POLLIN) }
                if !connection.pending.isEmpty { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: connection.fd, events: events, revents: 0))
            }
            _ = poll(&fds, nfds_t(fds.count), 1000)
            if fds[0].revents != 0 { break loop }
            if fds[1].revents != 0 {
                while true {
                    let client = accept(listenFD, nil, nil)
                    if client < 0 { break }
                    _ = fcntl(client, F_SETFL, O_NONBLOCK)
                    connections[client] = Connection(fd: client)
                }
            }
            for entry in fds.dropFirst(2) where entry.revents != 0 {
                guard let connection = connections[entry.fd] else { continue }
                var closeIt = false
                if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !connection.readEOF {
                    let count = recv(connection.fd, &buffer, buffer.count, 0)
                    if count > 0 { connection.pending += buffer[0..<count] }
                    else if count == 0 { connection.readEOF = true }
                    else if errno != EAGAIN { closeIt = true }
                }
                if !connection.pending.isEmpty {
                    let sent = connection.pending.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent > 0 { connection.pending.removeFirst(sent) }
                    else if sent < 0 && errno != EAGAIN { closeIt = true }
                }
                if connection.readEOF && connection.pending.isEmpty { closeIt = true }
                if closeIt {
                    close(connection.fd)
                    connections[connection.fd] = nil
                }
            }
        }
        for connection in connections.values { close(connection.fd) }
        close(listenFD)
        close(stopPipe.read)
        done.signal()
    }
}
