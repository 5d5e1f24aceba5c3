import Foundation
import KubeModel
import SandboxRuntime

#if canImport(Glibc)
import Glibc
#endif

/// An in-memory pod runtime: pods "run" at once and are Ready, exec echoes, connect returns one
/// end of a socketpair whose other end echoes. Records what it was asked to do, in order.
actor FakeRuntime: PodRuntime {
    nonisolated let statusUpdates: AsyncStream<PodRuntimeStatus>
    private let continuation: AsyncStream<PodRuntimeStatus>.Continuation
    private(set) var journal: [String] = []
    private(set) var routes: [ServiceRoute] = []
    private(set) var specs: [String: PodLaunchSpec] = [:]
    private var nextIP = 10
    /// Pods whose containers report not ready (set before creating the pod, by pod name).
    private var unreadyNames: Set<String> = []

    init() {
        (statusUpdates, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    func markUnready(podName: String) { unreadyNames.insert(podName) }

    /// Reports a new readiness for a pod's containers.
    func setReady(uid: String, ready: Bool) {
        guard let spec = specs[uid] else { return }
        continuation.yield(status(spec, ready: ready))
    }

    func startPod(_ spec: PodLaunchSpec) async throws -> String {
        journal.append("start \(spec.name)")
        specs[spec.uid] = spec
        nextIP += 1
        let ready = !unreadyNames.contains { spec.name.hasPrefix($0) }
        continuation.yield(status(spec, ready: ready))
        return "10.244.0.\(nextIP)"
    }

    private func status(_ spec: PodLaunchSpec, ready: Bool) -> PodRuntimeStatus {
        let index = Array(specs.keys.sorted()).firstIndex(of: spec.uid) ?? 0
        return PodRuntimeStatus(uid: spec.uid, podIP: "10.244.1.\(index + 2)", containers: spec.containers.map {
            .init(name: $0.name, state: .running(startedAt: Date()), ready: ready, started: true, restartCount: 0, lastTermination: nil)
        })
    }

    func stopPod(uid: String, gracePeriod: Duration) async {
        journal.append("stop \(specs[uid]?.name ?? uid)")
    }

    func exec(podUID: String, container: String, argv: [String], tty: Bool, stdin: Bool) async throws -> any ExecSession {
        guard specs[podUID] != nil else { throw PodRuntimeError.podNotFound(uid: podUID) }
        return FakeExecSession(argv: argv)
    }

    func connect(podUID: String, port: Int) async throws -> Int32 {
        guard let spec = specs[podUID] else { throw PodRuntimeError.podNotFound(uid: podUID) }
        if port == 9999 { throw PodRuntimeError.connectionRefused(pod: spec.name, port: port) }
        var fds: [Int32] = [0, 0]
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw PodRuntimeError.connectionRefused(pod: spec.name, port: port) }
        let peer = fds[1]
        // The pod side: echo everything back with a prefix, until EOF.
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(peer, &buffer, buffer.count)
                if count <= 0 { break }
                let reply = Array("echo:".utf8) + buffer[0..<count]
                _ = reply.withUnsafeBytes { write(peer, $0.baseAddress, $0.count) }
            }
            close(peer)
        }
        return fds[0]
    }

    func logs(podUID: String, container: String, follow: Bool, previous: Bool, tailLines: Int?) async throws -> AsyncStream<[UInt8]> {
        guard specs[podUID] != nil else { throw PodRuntimeError.podNotFound(uid: podUID) }
        var lines = (1...5).map { "line \($0)\n" }
        if previous { lines = ["previous instance\n"] }
        if let tailLines { lines = Array(lines.suffix(tailLines)) }
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        for line in lines { continuation.yield(Array(line.utf8)) }
        if follow {
            Task {
                try? await Task.sleep(for: .milliseconds(200))
                continuation.yield(Array("followed\n".utf8))
                continuation.finish()
            }
        } else {
            continuation.finish()
        }
        return stream
    }

    func updateServices(_ routes: [ServiceRoute]) async {
        self.routes = routes
        journal.append("services " + routes.map { route in
            "\(route.name)=" + route.ports.flatMap(\.endpoints).map(\.ip).joined(separator: "+")
        }.joined(separator: ","))
    }

    func shutdown() async {
        journal.append("shutdown")
        continuation.finish()
    }
}

/// `cat` echoes stdin; `fail` writes to stderr and exits 3; anything else prints its argv.
final class FakeExecSession: ExecSession, @unchecked Sendable {
    let output: AsyncStream<(ExecChannel, [UInt8])>
    private let continuation: AsyncStream<(ExecChannel, [UInt8])>.Continuation
    private let argv: [String]
    private let exit: AsyncStream<Int32>.Continuation
    private let exitStream: AsyncStream<Int32>

    init(argv: [String]) {
        self.argv = argv
        (output, continuation) = AsyncStream.makeStream()
        (exitStream, exit) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        switch argv.first {
        case "cat":
            break
        case "fail":
            continuation.yield((.stderr, Array("boom\n".utf8)))
            finish(3)
        default:
            continuation.yield((.stdout, Array((argv.joined(separator: " ") + "\n").utf8)))
            finish(0)
        }
    }

    private func finish(_ code: Int32) {
        continuation.finish()
        exit.yield(code)
        exit.finish()
    }

    func writeStdin(_ bytes: [UInt8]) async throws {
        if argv.first == "cat" { continuation.yield((.stdout, bytes)) }
    }

    func closeStdin() async {
        if argv.first == "cat" { finish(0) }
    }

    func waitForExit() async -> Int32 {
        for await code in exitStream { return code }
        return 0
    }

    func terminate() async { finish(137) }

    func resize(width: Int, height: Int) async {}
}
