import Foundation
import SwapdevTesting
import Testing
@testable import SSHTunnel
#if canImport(Glibc)
import Glibc
#endif

/// Counts of this process's open fds and threads, for leak checks.
func resourceCounts() -> (fds: Int, threads: Int) {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
    return (fds, threads)
}

/// Fails the test instead of hanging when `body` takes longer than `seconds`.
func withDeadline<T: Sendable>(_ seconds: Int, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            Issue.record("\(what) did not finish within \(seconds) s")
            throw CancellationError()
        }
        return value
    }
}

/// A real sshd running the proxy image's entrypoint and config, plus this swap's key.
struct Proxy {
    let sshd: SSHDLauncher
    let key: SSHKeyPair

    static func start(environment: [String: String] = [:]) async throws -> Proxy {
        let key = try SSHKeyPair.generate(id: "test")
        let sshd = try await SSHDLauncher.start(authorizedKey: key.publicKeyLine, environment: environment)
        return Proxy(sshd: sshd, key: key)
    }

    func connect(keepalive: Duration = .seconds(10), key: SSHKeyPair? = nil, fingerprint: String? = nil) async throws -> SSHSession {
        try await SSHSession.connect(host: "127.0.0.1", port: sshd.port, username: sshd.username, key: key ?? self.key,
                                     hostKey: .sha256Fingerprint(fingerprint ?? sshd.hostKeyFingerprint), keepalive: keepalive)
    }
    /// Starts a proxy, sends `connections` checksummed echoes of `payloadSize` bytes each way
    /// through a remote forward of one session to a local echo server, then closes everything.
    static func echoThroughRemoteForward(connections: Int, payloadSize: Int) async throws -> LoadClient.Outcome {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        let session = try await proxy.connect()
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: echo.port))
        let outcome = await LoadClient.runDetached(port: forward.port, connections: connections, payloadSize: payloadSize, timeout: 60)
        await session.close()
        await proxy.sshd.stop()
        return outcome
    }
}

@Suite("SSH session against the proxy's sshd", .serialized, .timeLimit(.minutes(2)))
struct SessionTests {
    @Test func remoteForwardCarries200ConcurrentChecksummedConnections() async throws {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        let session = try await proxy.connect()
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: echo.port))
        #expect(forward.port > 0)
        let outcome = await LoadClient.runDetached(port: forward.port, connections: 200, payloadSize: 96 << 10, timeout: 60)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        #expect(outcome.succeeded == 200)
        let stats = session.stats
        #expect(stats.bytesToRemote >= Int64(200 * (96 << 10)))
        #expect(stats.bytesFromRemote >= Int64(200 * (96 << 10)))
        #expect(stats.totalChannels >= 200)
        try await session.cancelForward(forward)
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func forwardToPortInUseIsAClearError() async throws {
        let proxy = try await Proxy.start()
        let session = try await proxy.connect()
        // sshd's own port is certainly taken.
        await #expect(throws: SSHTunnelError.remoteForwardRefused(bindHost: "127.0.0.1", port: proxy.sshd.port)) {
            _ = try await session.forwardRemote(bindHost: "127.0.0.1", port: proxy.sshd.port, target: (host: "127.0.0.1", port: 1))
        }
        #expect(SSHTunnelError.remoteForwardRefused(bindHost: "0.0.0.0", port: 80).description.contains("already in use"))
        // The session is still usable afterwards.
        let result = try await session.exec("echo still-here")
        #expect(String(decoding: result.stdout, as: UTF8.self) == "still-here\n")
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func killedSSHDMidStreamIsATypedErrorWithoutHang() async throws {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        let session = try await proxy.connect(keepalive: .seconds(2))
        let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: echo.port))
        let load = Task { await LoadClient.runDetached(port: forward.port, connections: 20, payloadSize: 2 << 20, timeout: 20) }
        try await Task.sleep(for: .milliseconds(300))
        proxy.sshd.kill()
        do {
            try await withDeadline(15, "waitUntilClosed after sshd was killed") { try await session.waitUntilClosed() }
            Issue.record("waitUntilClosed returned normally after sshd was killed")
        } catch let error as SSHTunnelError {
            guard case .disconnected = error else {
                Issue.record("expected .disconnected, got \(error)")
                return
            }
        }
        _ = await load.value
        await #expect(throws: SSHTunnelError.self) { _ = try await session.exec("true") }
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func frozenSSHDIsDetectedByKeepalive() async throws {
        let proxy = try await Proxy.start()
        let session = try await proxy.connect(keepalive: .seconds(1))
        proxy.sshd.kill(signal: SIGSTOP)
        defer { proxy.sshd.kill(signal: SIGCONT) }
        do {
            try await withDeadline(15, "keepalive timeout") { try await session.waitUntilClosed() }
            Issue.record("waitUntilClosed returned normally for a frozen sshd")
        } catch let error as SSHTunnelError {
            #expect(error.description.contains("keepalive"), "\(error)")
        }
        proxy.sshd.kill(signal: SIGCONT)
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func wrongKeyIsRejected() async throws {
        let proxy = try await Proxy.start()
        let stranger = try SSHKeyPair.generate(id: "stranger")
        do {
            _ = try await proxy.connect(key: stranger)
            Issue.record("a key that is not in authorized_keys logged in")
        } catch let error as SSHTunnelError {
            guard case .authenticationFailed = error else {
                Issue.record("expected .authenticationFailed, got \(error)")
                return
            }
        }
        await proxy.sshd.stop()
    }

    @Test func wrongHostKeyIsRejected() async throws {
        let proxy = try await Proxy.start()
        let other = "SHA256:" + String(repeating: "A", count: 43)
        await #expect(throws: SSHTunnelError.hostKeyMismatch(expected: other, actual: proxy.sshd.hostKeyFingerprint)) {
            _ = try await proxy.connect(fingerprint: other)
        }
        await proxy.sshd.stop()
    }

    @Test func fdsAndThreadsReturnToBaseline() async throws {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        // Warm up lazily created runtime threads and fds before taking the baseline.
        let warm = try await proxy.connect()
        await warm.close()
        try await Task.sleep(for: .milliseconds(200))
        let before = resourceCounts()
        for _ in 0..<3 {
            let session = try await proxy.connect()
            let forward = try await session.forwardRemote(bindHost: "127.0.0.1", port: 0, target: (host: "127.0.0.1", port: echo.port))
            let local = try await session.forwardLocal(remoteHost: "127.0.0.1", remotePort: echo.port)
            let outcome = await LoadClient.runDetached(port: forward.port, connections: 30, payloadSize: 32 << 10, timeout: 30)
            #expect(outcome.succeeded == 30)
            let direct = await LoadClient.runDetached(port: local.port, connections: 10, payloadSize: 32 << 10, timeout: 30)
            #expect(direct.succeeded == 10)
            _ = try await session.readFile("/etc/hostname")
            await session.close()
        }
        var after = resourceCounts()
        let deadline = ContinuousClock.now + .seconds(5)
        while after != before && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            after = resourceCounts()
        }
        #expect(after.fds == before.fds, "fds: \(before.fds) before, \(after.fds) after")
        #expect(after.threads <= before.threads, "threads: \(before.threads) before, \(after.threads) after")
        await proxy.sshd.stop()
    }

    @Test func directTCPIPReachesLocalEchoServer() async throws {
        let proxy = try await Proxy.start()
        let echo = try EchoServer()
        defer { echo.stop() }
        let session = try await proxy.connect()
        let local = try await session.forwardLocal(listenPort: 0, remoteHost: "127.0.0.1", remotePort: echo.port)
        let outcome = await LoadClient.runDetached(port: local.port, connections: 50, payloadSize: 64 << 10, timeout: 30)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        #expect(outcome.succeeded == 50)

        // openDirect with a socketpair: the engine's SOCKS/CONNECT proxy path.
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        try await session.openDirect(localSocket: pair[1], remoteHost: "127.0.0.1", remotePort: echo.port)
        let message = Array("hello through direct-tcpip".utf8)
        #expect(write(pair[0], message, message.count) == message.count)
        shutdown(pair[0], Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while true {
            let count = read(pair[0], &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        close(pair[0])
        #expect(received == message)

        // A target nothing listens on: the open fails with a typed error.
        var other: [Int32] = [0, 0]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &other)
        let closedPort = try SSHDLauncher.freePort()
        await #expect(throws: SSHTunnelError.self) {
            try await session.openDirect(localSocket: other[1], remoteHost: "127.0.0.1", remotePort: closedPort)
        }
        close(other[0])

        // With replies (the outbound proxy's SOCKS/CONNECT answers): the outcome's reply comes
        // first — before the far end's bytes when it opened, alone before EOF when it did not.
        let replies = DirectOpenReplies(opened: Array("OPENED|".utf8), failed: Array("FAILED".utf8))
        var opened: [Int32] = [0, 0]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &opened)
        try await session.openDirect(localSocket: opened[1], remoteHost: "127.0.0.1", remotePort: echo.port, replies: replies)
        #expect(write(opened[0], message, message.count) == message.count)
        shutdown(opened[0], Int32(SHUT_WR))
        #expect(Self.readToEnd(opened[0]) == Array("OPENED|".utf8) + message)
        close(opened[0])
        var refused: [Int32] = [0, 0]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &refused)
        await #expect(throws: SSHTunnelError.self) {
            try await session.openDirect(localSocket: refused[1], remoteHost: "127.0.0.1", remotePort: closedPort, replies: replies)
        }
        #expect(Self.readToEnd(refused[0]) == Array("FAILED".utf8))
        close(refused[0])
        session.cancelForward(local)
        await session.close()
        await proxy.sshd.stop()
    }

    /// Everything `fd` delivers until EOF (or 10 s of silence).
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return received }
            received += buffer[0..<count]
        }
    }

    @Test func readFileCopyDirectoryAndExec() async throws {
        let proxy = try await Proxy.start()
        let session = try await proxy.connect()
        let source = try temporaryDirectory()
        let target = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: target)
        }
        let big = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try big.write(to: source.appendingPathComponent("big.bin"))
        try FileManager.default.createDirectory(at: source.appendingPathComponent("sub dir"), withIntermediateDirectories: true)
        try Data("token-value".utf8).write(to: source.appendingPathComponent("sub dir/token"))
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("link").path, withDestinationPath: "sub dir/token")

        #expect(try await session.readFile(source.appendingPathComponent("big.bin").path) == big)
        await #expect(throws: SSHTunnelError.self) { _ = try await session.readFile("/nonexistent/file") }

        let written = try await session.copyDirectory(remote: source.path, to: target.appendingPathComponent("copy"))
        #expect(Set(written) == ["big.bin", "sub dir/token", "link"])
        let copy = target.appendingPathComponent("copy")
        #expect(try Data(contentsOf: copy.appendingPathComponent("big.bin")) == big)
        #expect(try String(contentsOf: copy.appendingPathComponent("link"), encoding: .utf8) == "token-value")
        #expect(try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("sub dir").path)[.posixPermissions] as? Int == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("sub dir/token").path)[.posixPermissions] as? Int == 0o600)

        let result = try await session.exec("echo out; echo err >&2; exit 3")
        #expect(result.exitCode == 3)
        #expect(String(decoding: result.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "err\n")
        let echoed = try await session.exec("cat", stdin: Data("piped".utf8))
        #expect(String(decoding: echoed.stdout, as: UTF8.self) == "piped")
        await session.close()
        await proxy.sshd.stop()
    }

    @Test func entrypointRecordsEnvironmentNULSeparated() async throws {
        let proxy = try await Proxy.start(environment: ["SWAPDEV_TEST_MULTILINE": "x", "APP_SETTING": "line1\nline2=still"])
        let data = try Data(contentsOf: proxy.sshd.stateDirectory.appendingPathComponent("env"))
        let entries = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(entries.contains("APP_SETTING=line1\nline2=still"))
        #expect(!entries.contains { $0.hasPrefix("SWAPDEV_") })
        await proxy.sshd.stop()
    }
}
