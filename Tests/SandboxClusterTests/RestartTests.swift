import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

#if canImport(Glibc)
import Glibc
#endif

@Suite("API server restart", .serialized, .timeLimit(.minutes(1)))
struct RestartTests {
    /// A real restart as clients see it: open connections (an idle keep-alive one, a watch) are
    /// cut, new ones refused while it is down, then the same port serves the same objects; the
    /// resourceVersion counter continues, a watch resumed from before the restart gets what it
    /// missed, and pods keep running.
    @Test func cutsEveryConnectionRefusesThenServesTheSameState() async throws {
        let sandbox = try await TestCluster.start(plainHTTP: true)
        defer { Task { await sandbox.stop() } }
        let port = sandbox.cluster.port
        let created = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("kept"))
        let versionBefore = try #require(created.body.resourceVersion.flatMap(Int.init))
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod("survivor"))
        #expect(await sandbox.eventually("the pod runs") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods/survivor").body[path: ["status", "phase"]]?.string == "Running"
        })

        // An idle keep-alive connection and a watch, both answered before the restart.
        let idle = try await RawHTTPConnection.open(port: port)
        let firstAnswer = try await idle.exchange(get("/api/v1/namespaces/default/configmaps/kept"))
        #expect(firstAnswer.hasPrefix("HTTP/1.1 200"), "\(firstAnswer)")
        let watch = try await RawHTTPConnection.open(port: port)
        let watchHead = try await watch.exchange(get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(versionBefore)"))
        #expect(watchHead.hasPrefix("HTTP/1.1 200"), "\(watchHead)")

        let restart = Task { try await sandbox.cluster.restartAPIServer(downtime: .seconds(2)) }
        // Both connections end (EOF or reset) and nobody can connect while it is down.
        #expect(try await idle.readUntilClosed(timeout: 3), "the keep-alive connection was not cut")
        #expect(try await watch.readUntilClosed(timeout: 3), "the watch was not cut")
        #expect(await RawHTTPConnection.refused(port: port), "a connection during the downtime was accepted")
        // etcd and the controllers carry on while the API server is down.
        _ = await sandbox.patch("/api/v1/namespaces/default/configmaps/kept", #"{"data":{"a":"changed"}}"#,
                                contentType: "application/merge-patch+json")
        try await restart.value

        #expect(sandbox.cluster.port == port)
        let again = try await RawHTTPConnection.open(port: port)
        let answer = try await again.exchange(get("/api/v1/namespaces/default/configmaps/kept"))
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(answer.contains(#""a":"changed""#), "the change made during the downtime is served: \(answer)")
        let versionAfter = try #require(await sandbox.call("GET", "/api/v1/namespaces/default/configmaps/kept").body.resourceVersion.flatMap(Int.init))
        #expect(versionAfter > versionBefore, "resourceVersions continue")

        // A watch resumed from before the restart gets the change it missed.
        let resumed = try await RawHTTPConnection.open(port: port)
        let events = try await resumed.exchange(get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(versionBefore)"),
                                                 until: #""type":"MODIFIED""#)
        #expect(events.contains(#""type":"MODIFIED""#) && events.contains(#""name":"kept""#), "\(events)")

        let pod = await sandbox.call("GET", "/api/v1/namespaces/default/pods/survivor").body
        #expect(pod[path: ["status", "phase"]]?.string == "Running")
        #expect(await sandbox.runtime.journal.contains("stop survivor") == false, "the restart stopped a pod")
        for connection in [idle, watch, again, resumed] { connection.close() }
    }

    private func get(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer test-token\r\nConnection: keep-alive\r\n\r\n"
    }
}

/// A blocking TCP connection to the plain-HTTP sandbox, so the test sees what happens on the
/// wire (a cut connection, a refused one) rather than what an HTTP client library retries away.
/// Blocking calls run off the cooperative pool (`offPool`): the sandbox answers on it.
private final class RawHTTPConnection: @unchecked Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func open(port: Int) async throws -> RawHTTPConnection {
        try await offPool {
            let descriptor = try connect(port: port)
            return RawHTTPConnection(descriptor: descriptor)
        }
    }

    /// Whether a connection attempt to `port` is refused.
    static func refused(port: Int) async -> Bool {
        (try? await offPool { () -> Bool in
            do {
                Glibc.close(try connect(port: port))
                return false
            } catch {
                return true
            }
        }) ?? false
    }

    private static func connect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        return descriptor
    }

    /// Sends `request` and returns what arrives until `marker` (default: the end of the
    /// response head) or 3 s of silence.
    func exchange(_ request: String, until marker: String = "\r\n\r\n") async throws -> String {
        try await offPool { [self] in
            let bytes = Array(request.utf8)
            guard send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
                throw Failure(description: "send failed: errno \(errno)")
            }
            var received = Data()
            while !String(decoding: received, as: UTF8.self).contains(marker) {
                guard case .data(let chunk) = readOnce(timeout: 3) else { break }
                received.append(chunk)
            }
            // The rest of a small JSON body follows the head at once.
            if case .data(let chunk) = readOnce(timeout: 0.2) { received.append(chunk) }
            return String(decoding: received, as: UTF8.self)
        }
    }

    /// Reads (and drops) data until the peer closes or resets the connection (`true`) or
    /// `timeout` seconds pass without that (`false`).
    func readUntilClosed(timeout: Double) async throws -> Bool {
        try await offPool { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                switch readOnce(timeout: deadline.timeIntervalSinceNow) {
                case .closed: return true
                case .data: continue
                case .silent: return false
                }
            }
            return false
        }
    }

    private enum ReadResult { case data(Data), closed, silent }

    private func readOnce(timeout: Double) -> ReadResult {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(max(0, timeout) * 1000)) > 0 else { return .silent }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? .data(Data(buffer[0..<count])) : .closed
    }

    func close() { Glibc.close(descriptor) }
}
