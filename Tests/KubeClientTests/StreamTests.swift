import Foundation
import KubeModel
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import KubeClient

@Suite("watch, exec, port-forward and logs against the fixture server", .serialized)
struct StreamTests {
    @Test("watch re-lists on an ERROR 410 event, skips bookmarks but resumes from them, and reconnects from the last version")
    func watchResume() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let events = try await withTestDeadline {
            var seen: [WatchEvent] = []
            for try await event in fixture.client.watch(.pods, resourceVersion: "old") {
                seen.append(event)
                if event.type == .deleted { break }
            }
            return seen
        }
        #expect(events.map(\.type) == [.added, .added, .modified, .deleted])
        #expect(events.map { $0.object.name ?? "" } == ["listed", "a", "a", "a"])
        // old → 410 event → list (rv 10) → watch 10 → stream ends after rv 21 → resume at 21.
        #expect(fixture.server.state.current.watchResourceVersions == ["old", "10", "21"])
    }

    @Test("an HTTP 410 on watch also re-lists")
    func watchHTTP410() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let events: [WatchEvent] = try await withTestDeadline {
            var seen: [WatchEvent] = []
            for try await event in fixture.client.watch(.pods, resourceVersion: "gone") {
                seen.append(event)
                if seen.count == 2 { break }
            }
            return seen
        }
        #expect(events.map { $0.object.name ?? "" } == ["listed", "a"])
        #expect(fixture.server.state.current.watchResourceVersions.prefix(2) == ["gone", "10"])
    }

    @Test("waitFor reports the last reason on timeout and returns once satisfied")
    func waitFor() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        // The fixture list has pod "listed"; the watch from rv 10 makes "a" Running.
        do {
            try await fixture.client.waitFor(.pods, name: "listed", timeout: .milliseconds(800)) { pod in
                .waiting("phase \(pod?[path: ["status", "phase"]]?.string ?? "none")")
            }
            Issue.record("must time out")
        } catch let error as KubeError {
            guard case .waitTimedOut(let object, _, let reason) = error else { Issue.record("expected waitTimedOut, got \(error)"); return }
            #expect(object == "pods/listed")
            #expect(reason == "phase none")
        }
    }

    @Test("exec streams stdin to stdout over v5, half-closes stdin and reads exit code 3")
    func execV5() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let result = try await withTestDeadline {
            try await fixture.client.execCollect(pod: "p", command: ["cat"], stdin: Data("hello exec\n".utf8))
        }
        #expect(result.stdoutText == "hello exec\n")
        #expect(result.stderrText == "stdin closed\n")
        #expect(result.exitCode == 3)
        let ok = try await withTestDeadline { try await fixture.client.execCollect(pod: "p", command: ["true"]) }
        #expect(ok.exitCode == 0)
        let session = try await fixture.client.exec(pod: "p", command: ["true"])
        #expect(session.negotiatedProtocol == "v5.channel.k8s.io")
        _ = try await session.exitCode()
    }

    @Test("exec on a missing pod fails with NotFound from the refused upgrade")
    func execMissingPod() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        do {
            _ = try await fixture.client.exec(pod: "ghost", command: ["true"])
            Issue.record("exec on a missing pod must fail")
        } catch let error as KubeError {
            guard case .notFound = error else { Issue.record("expected notFound, got \(error)"); return }
        }
    }

    @Test("20 concurrent port-forward sockets carry checksummed data through an echo")
    func portForwardSockets() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        try await withTestDeadline(30) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let fd = try await fixture.client.openPortForwardSocket(pod: "p", port: 8080)
                        defer { close(fd) }
                        var payload = [UInt8](repeating: 0, count: 64 * 1024 + index)
                        for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: i &* 31 &+ index) }
                        return try await Task.detached { try echoRoundTrip(fd: fd, payload: payload) }.value
                    }
                }
                var successes = 0
                for try await ok in group where ok { successes += 1 }
                #expect(successes == 20)
            }
        }
    }

    @Test("port-forward error-channel text becomes a typed error and closes the socket")
    func portForwardRefused() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let connection = try await fixture.client.openPortForwardConnection(pod: "p", port: 9999)
        defer { close(connection.fileDescriptor) }
        let error = try await withTestDeadline { await connection.ended() }
        guard case .portForward(let pod, let port, let message)? = error else {
            Issue.record("expected a portForward error, got \(String(describing: error))")
            return
        }
        #expect(pod == "p" && port == 9999)
        #expect(message.contains("connection refused"))
        var byte: UInt8 = 0
        #expect(read(connection.fileDescriptor, &byte, 1) == 0, "the socket must be closed (EOF)")
        do {
            _ = try await fixture.client.openPortForwardSocket(pod: "ghost", port: 8080)
            Issue.record("a missing pod must fail")
        } catch let error as KubeError {
            guard case .portForward = error else { Issue.record("expected portForward, got \(error)"); return }
            #expect(error.description.contains("ghost"))
        }
    }

    @Test("PortForwarder listens locally and gives each TCP connection its own stream")
    func portForwarder() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let forwarder = try await fixture.client.portForward(pod: "p", remotePort: 8080)
        defer { Task { await forwarder.stop() } }
        try await withTestDeadline {
            for round in 0..<3 {
                let fd = try connectLoopback(port: forwarder.localPort)
                defer { close(fd) }
                let payload = Array("round \(round)".utf8)
                #expect(try await Task.detached { try echoRoundTrip(fd: fd, payload: payload) }.value)
            }
        }
    }

    @Test("logs stream chunks as they arrive")
    func logs() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let text = try await withTestDeadline { try await fixture.client.logText(pod: "p") }
        #expect(text == "line 0\nline 1\nline 2\n")
    }
}

/// Writes `payload` and reads the same number of bytes back, comparing checksums (blocking; run detached).
func echoRoundTrip(fd: Int32, payload: [UInt8]) throws -> Bool {
    struct IOFailure: Error { var what: String }
    var timeout = timeval(tv_sec: 15, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var written = 0
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    // Interleave writes and reads so neither side's buffers fill up.
    while received.count < payload.count {
        if written < payload.count {
            let n = payload[written...].prefix(8192).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw IOFailure(what: "write failed: errno \(errno)") }
            written += n
        }
        let n = read(fd, &buffer, buffer.count)
        if n == 0 { throw IOFailure(what: "EOF after \(received.count) of \(payload.count) bytes") }
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { throw IOFailure(what: "read timed out after \(received.count) bytes") }
            throw IOFailure(what: "read failed: errno \(errno)")
        }
        received += buffer[0..<n]
    }
    func checksum(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 } }
    if checksum(received) != checksum(payload) { trace("echo mismatch: sent \(payload.prefix(40)) got \(received.prefix(40))") }
    return checksum(received) == checksum(payload)
}

/// A blocking TCP connection to 127.0.0.1:`port`.
func connectLoopback(port: Int) throws -> Int32 {
    struct ConnectFailure: Error { var errno: Int32 }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
        close(fd)
        throw ConnectFailure(errno: errno)
    }
    return fd
}
