import Foundation
import KubeClient
import KubeModel
import SwapdevTesting

/// A sandbox cluster for dev-loop tests, with helpers to deploy an app whose `/app` is an emptyDir.
struct DevSandbox {
    let sandbox: SandboxLauncher
    let client: KubeClient
    let namespace = "default"

    static let python = "/usr/bin/python3"

    static func start() async throws -> DevSandbox {
        let sandbox = try await SandboxLauncher.start()
        let client = try KubeClient(kubeconfig: sandbox.kubeconfigPath, context: nil, namespace: "default")
        return DevSandbox(sandbox: sandbox, client: client)
    }

    func stop() async {
        await client.shutdown()
        await sandbox.stop()
    }

    /// A Deployment with one container running `command` in `/app` (an emptyDir), ready.
    /// `environment` becomes the container's env (a `PATH` there is where the sandbox looks
    /// up the commands of the container and of every exec into it, as a runtime would).
    func deploy(_ name: String, command: [String], replicas: Int = 1, environment: [String: String] = [:]) async throws {
        let env: [JSONValue] = environment.keys.sorted().map { ["name": .string($0), "value": .string(environment[$0] ?? "")] }
        _ = try await client.create(.deployments, namespace: namespace, object: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "labels": ["app": .string(name)]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": [
                        "volumes": [["name": "app", "emptyDir": .emptyObject]],
                        "containers": [[
                            "name": "main", "image": "example/app:1",
                            "command": .array(command.map(JSONValue.string)),
                            "workingDir": "/app",
                            "env": .array(env),
                            "volumeMounts": [["name": "app", "mountPath": "/app"]],
                        ]],
                    ],
                ],
            ],
        ])
        try await client.waitFor(.deployments, namespace: namespace, name: name, timeout: .seconds(60),
                                 condition: WaitConditions.deploymentReady(replicas: replicas))
    }
}

/// Events a session reported, shared with the test.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var syncs = 0

    func record(_ event: DevEventLike) {
        lock.withLock {
            lines.append(event.text)
            if event.isSync { syncs += 1 }
        }
    }

    var all: [String] { lock.withLock { lines } }
    var syncCount: Int { lock.withLock { syncs } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

/// What the log keeps of a DevEvent.
struct DevEventLike {
    var text: String
    var isSync: Bool
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}

/// `curl` without proxies and with a short timeout; `nil` on failure.
///
/// Runs on a thread of its own: waiting for curl on the (two-thread) cooperative pool could
/// starve the very port-forward tasks the request goes through.
func httpGet(_ url: String) async -> String? {
    await onThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-f", "--noproxy", "*", "--max-time", "3", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

/// Runs blocking work on a new thread and awaits its result.
func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}

/// A free local TCP port (bound and released).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A local project directory.
struct Project {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("devloop-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(at: url.appendingPathComponent(relative))
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(relative).path)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }

    /// Every file and link below the root with its content (or link target): what must be
    /// byte-for-byte the same after any failure, since swapdev never writes locally.
    func snapshot() throws -> [String: Data] {
        var result: [String: Data] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: url.path) else { return result }
        while let relative = walker.nextObject() as? String {
            let path = url.appendingPathComponent(relative).path
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                result[relative] = Data(("link:" + target).utf8)
                continue
            }
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
            } else {
                result[relative] = Data("dir".utf8)
            }
        }
        return result
    }
}

/// A directory on the host holding links to only `tools`: as a container's `PATH`, it makes
/// every other command (and, without `sh` in `tools`, the shell itself) unresolvable inside
/// that container — the sandbox resolves container commands and execs against the
/// container's `PATH`, as a container runtime does.
struct RestrictedToolbox {
    let url: URL

    init(tools: [String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("devloop-tools-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for tool in tools {
            let candidates = ["/bin/\(tool)", "/usr/bin/\(tool)", "/sbin/\(tool)", "/usr/sbin/\(tool)"]
            guard let target = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: tool])
            }
            try FileManager.default.createSymbolicLink(atPath: url.appendingPathComponent(tool).path, withDestinationPath: target)
        }
    }

    var path: String { url.path }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }
}
