import Crypto
import Foundation
import Testing
@testable import SSHTunnel
#if canImport(Glibc)
import Glibc
#endif

/// The per-connection path of a remote forward: many short connections one after another (each
/// a new forwarded channel), targets that answer and close first, a target that is down and
/// comes back, and one long transfer past the small first reads. In the serialized suite, so
/// the fd counts see no other test's sockets.
extension SessionTests {
    @Test func sequentialShortRequestsToATargetThatAnswersAndClosesLeaveNoFDs() async throws {
        let proxy = try await Proxy.start()
        let server = try ReplyAndCloseServer()
        defer { server.stop() }
        let session = try await proxy.connect()
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: server.port))
        // Warm up (the first connection allocates lazily created state), then take the baseline.
        _ = await BlockingClient.runDetached { BlockingClient.exchange(port: forward.port, request: Array("warm-up\n".utf8), halfClose: false) }
        try await waitForNoActiveChannels(session)
        let before = resourceCounts()

        let count = 300
        let failures = await BlockingClient.runDetached { () -> [String] in
            var failures: [String] = []
            for index in 0..<count {
                let request = Array("GET /\(index)/\(UInt64.random(in: 0...UInt64.max))\n".utf8)
                switch BlockingClient.exchange(port: forward.port, request: request, halfClose: false) {
                case let .success(reply):
                    if reply != ReplyAndCloseServer.reply(to: request) { failures.append("request \(index): wrong reply (\(reply.count) bytes)") }
                case let .failure(error):
                    failures.append("request \(index): \(error)")
                }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.count) failed, first: \(failures.prefix(3))")
        #expect(session.stats.totalChannels == count + 1)
        try await waitForNoActiveChannels(session)
        var after = resourceCounts()
        let deadline = ContinuousClock.now + .seconds(5)
        while after.fds != before.fds && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            after = resourceCounts()
        }
        #expect(after.fds == before.fds, "fds: \(before.fds) before \(count) connections, \(after.fds) after")

        await session.close()
        // The socket hooks did their work: receives known to find nothing were skipped, and each
        // connection's small packets (CONFIRM; DATA before EOF) were held for one segment.
        let counters = session.socketCountersAfterClose
        #expect(counters.recvSkipped > 0, "\(counters)")
        #expect(counters.sendsCoalesced >= Int64(count), "\(counters)")
        await proxy.sshd.stop()
    }

    @Test func sequentialEchoConnectionsAreChecksummed() async throws {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        let session = try await proxy.connect()
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: echo.port))
        let failures = await BlockingClient.runDetached { () -> [String] in
            var failures: [String] = []
            for index in 0..<200 {
                // Sizes from 1 byte to a few packets, so replies end at every kind of boundary.
                let size = [1, 17, 1000, 4096, 40_000, 100_000][index % 6] + index
                let payload = randomBytes(size)
                switch BlockingClient.exchange(port: forward.port, request: payload, halfClose: true) {
                case let .success(reply):
                    if Data(SHA256.hash(data: reply)) != Data(SHA256.hash(data: payload)) {
                        failures.append("connection \(index): \(reply.count) of \(size) bytes, checksum wrong")
                    }
                case let .failure(error):
                    failures.append("connection \(index): \(error)")
                }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.count) failed, first: \(failures.prefix(3))")
        try await waitForNoActiveChannels(session)
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func transfersPastTheFirstReadsCapAreChecksummed() async throws {
        // 8 MiB each way: far past Splice.firstReadsCap, so the channel's window is re-opened.
        let outcome = try await Proxy.echoThroughRemoteForward(connections: 2, payloadSize: 8 << 20)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.succeeded == 2)
    }

    @Test func aTargetThatIsDownClosesTheConnectionAndLaterOnesReachItOnceUp() async throws {
        let proxy = try await Proxy.start()
        // A port nothing listens on (taken from a stopped server, so it is free right now).
        let probe = try EchoServer()
        let targetPort = probe.port
        probe.stop()
        let session = try await proxy.connect()
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: targetPort))

        let refused = await BlockingClient.runDetached {
            BlockingClient.exchange(port: forward.port, request: Array("anyone?".utf8), halfClose: true)
        }
        // The channel is closed: the client sees EOF (or a reset), never a hang or bytes.
        if case let .success(reply) = refused { #expect(reply.isEmpty) }
        if case let .failure(error) = refused { #expect(!error.description.contains("timed out"), "\(error)") }

        let echo = try EchoServer(port: targetPort)
        defer { echo.stop() }
        let message = Array("back up".utf8)
        let reached = await BlockingClient.runDetached {
            BlockingClient.exchange(port: forward.port, request: message, halfClose: true)
        }
        #expect(try reached.get() == message)
        try await waitForNoActiveChannels(session)
        await session.close()
        await proxy.sshd.stop()
    }

    /// Waits (bounded) until every forwarded channel of `session` has been closed and freed.
    private func waitForNoActiveChannels(_ session: SSHSession) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while session.stats.activeChannels != 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(session.stats.activeChannels == 0, "channels still open: \(session.stats)")
    }
}

/// `count` random bytes, 8 at a time (byte-wise generation is slow in debug builds).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count + 8)
    bytes.withUnsafeMutableBytes { raw in
        for offset in stride(from: 0, to: count, by: 8) {
            raw.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
        }
    }
    return Array(bytes.prefix(count))
}

/// Blocking one-connection exchanges, run off the cooperative pool.
enum BlockingClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to 127.0.0.1:port, sends `request` (then half-closes when asked), and reads
    /// until EOF. Every call is bounded by a 10 s receive timeout.
    static func exchange(port: Int, request: [UInt8], halfClose: Bool) -> Result<[UInt8], Failure> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(description: "socket: errno \(errno)")) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return .failure(Failure(description: "connect: errno \(errno)")) }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return .failure(Failure(description: "send: errno \(errno)")) }
            sent += count
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                reply += buffer[0..<count]
            } else if count == 0 {
                return .success(reply)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return .failure(Failure(description: "timed out after \(reply.count) bytes"))
            } else if errno != EINTR {
                return .failure(Failure(description: "recv: errno \(errno) after \(reply.count) bytes"))
            }
        }
    }

    static func runDetached<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}

/// A target like a small HTTP/1.0 server: reads one line, writes its reply and closes the
/// connection first (the pattern of short requests: the local side's EOF ends the exchange).
final class ReplyAndCloseServer: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let done = DispatchSemaphore(value: 0)

    /// The reply to `request`: derived from it, so a reply delivered to the wrong connection shows.
    static func reply(to request: [UInt8]) -> [UInt8] {
        Array("HTTP/1.0 200 OK\r\n\r\n".utf8) + request.reversed()
    }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        stopPipe = (fds[0], fds[1])
        Thread { [self] in self.serve() }.start()
    }

    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        done.wait()
        close(stopPipe.write)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var fds = [pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0), pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 1000)
            if fds[0].revents != 0 { break }
            guard fds[1].revents != 0 else { continue }
            let connection = accept(listenFD, nil, nil)
            guard connection >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request: [UInt8] = []
            while !request.contains(UInt8(ascii: "\n")) {
                let count = recv(connection, &buffer, buffer.count, 0)
                if count <= 0 { break }
                request += buffer[0..<count]
            }
            let reply = Self.reply(to: request)
            _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
        close(listenFD)
        close(stopPipe.read)
        done.signal()
    }
}
