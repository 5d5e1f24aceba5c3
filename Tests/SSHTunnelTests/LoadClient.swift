import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs many connections at once from one thread: each sends its own random payload, half-closes,
/// and reads everything back; the SHA-256 of what came back must equal what was sent.
enum LoadClient {
    struct Outcome: Sendable {
        var succeeded = 0
        var failures: [String] = []
    }

    /// Blocking; call from a detached thread or `runDetached`.
    static func run(port: Int, connections: Int, payloadSize: Int, timeout: TimeInterval) -> Outcome {
        final class Conn {
            var fd: Int32 = -1
            var payload: [UInt8] = []
            var sent = 0
            var shut = false
            var received = SHA256()
            var receivedCount = 0
            var done = false
        }
        var outcome = Outcome()
        var conns: [Conn] = []
        for index in 0..<connections {
            let conn = Conn()
            // Random 8 bytes at a time: byte-wise generation is far too slow in debug builds.
            var generator = SystemRandomNumberGenerator()
            conn.payload = [UInt8](repeating: 0, count: payloadSize)
            conn.payload.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: raw.count - 7, by: 8) {
                    raw.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
                }
            }
            conn.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(conn.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc != 0 && errno != EINPROGRESS { outcome.failures.append("connect \(index): errno \(errno)") }
            conns.append(conn)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while conns.contains(where: { !$0.done }) && Date() < deadline {
            var fds = conns.filter { !$0.done }.map { conn -> pollfd in
                var events = Int16(POLLIN)
                if !conn.shut { events |= Int16(POLLOUT) }
                return pollfd(fd: conn.fd, events: events, revents: 0)
            }
            _ = poll(&fds, nfds_t(fds.count), 200)
            let byFD = Dictionary(uniqueKeysWithValues: conns.map { ($0.fd, $0) })
            for entry in fds where entry.revents != 0 {
                guard let conn = byFD[entry.fd] else { continue }
                if !conn.shut && entry.revents & Int16(POLLOUT) != 0 {
                    let count = conn.payload[conn.sent...].withUnsafeBytes { send(conn.fd, $0.baseAddress, min($0.count, 256 << 10), Int32(MSG_NOSIGNAL)) }
                    if count > 0 { conn.sent += count }
                    if conn.sent == conn.payload.count {
                        shutdown(conn.fd, Int32(SHUT_WR))
                        conn.shut = true
                    }
                }
                if entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                    let count = recv(conn.fd, &buffer, buffer.count, 0)
                    if count > 0 {
                        conn.received.update(data: buffer[0..<count])
                        conn.receivedCount += count
                    } else if count == 0 || (errno != EAGAIN && errno != EINPROGRESS) {
                        conn.done = true
                        let expected = Data(SHA256.hash(data: conn.payload))
                        let actual = Data(conn.received.finalize())
                        if conn.receivedCount == conn.payload.count && expected == actual {
                            outcome.succeeded += 1
                        } else {
                            outcome.failures.append("fd \(conn.fd): got \(conn.receivedCount) of \(conn.payload.count) bytes, checksum \(expected == actual ? "ok" : "wrong")")
                        }
                    }
                }
            }
        }
        for conn in conns {
            if !conn.done { outcome.failures.append("fd \(conn.fd): timed out after \(conn.receivedCount) bytes") }
            close(conn.fd)
        }
        return outcome
    }

    /// Runs `run` on its own thread so the cooperative pool is not blocked.
    static func runDetached(port: Int, connections: Int, payloadSize: Int, timeout: TimeInterval) async -> Outcome {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: run(port: port, connections: connections, payloadSize: payloadSize, timeout: timeout))
            }
            thread.start()
        }
    }
}
