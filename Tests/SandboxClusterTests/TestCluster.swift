import Foundation
import KubeModel
import SandboxRuntime
import Testing
@testable import SandboxCluster

/// A sandbox API server started in-process on the fake runtime, with helpers to call it
/// without HTTP (through the router) and to wait for controllers.
struct TestCluster {
    let cluster: SandboxCluster
    let runtime: FakeRuntime
    let directory: URL

    static func start(token: String? = "test-token", plainHTTP: Bool = false) async throws -> TestCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sbapi-test-\(UUID().uuidString.prefix(8))")
        let runtime = FakeRuntime()
        let cluster = try await SandboxCluster.start(SandboxConfiguration(directory: directory, token: token, plainHTTP: plainHTTP), runtime: runtime)
        return TestCluster(cluster: cluster, runtime: runtime, directory: directory)
    }

    func stop() async {
        await cluster.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends a request through the router; returns the status code and the JSON body.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil, contentType: String = "application/json",
              headers: [String: String] = [:]) async -> (code: Int, body: JSONValue) {
        var allHeaders = ["authorization": "Bearer \(cluster.token)", "content-type": contentType]
        for (key, value) in headers { allHeaders[key.lowercased()] = value }
        let request = APIRequest(method: method, uri: path, headers: allHeaders, body: body.map { $0.serialized() } ?? Data())
        switch await cluster.router.handle(request) {
        case .json(let status, let value): return (status, value)
        case .data(let status, _, let data): return (status, .string(String(decoding: data, as: UTF8.self)))
        case .stream(let status, _, let stream):
            var text = ""
            for await chunk in stream { text += String(decoding: chunk, as: UTF8.self) }
            return (status, .string(text))
        }
    }

    /// Sends a raw-bodied request (patches).
    func patch(_ path: String, _ body: String, contentType: String) async -> (code: Int, body: JSONValue) {
        let request = APIRequest(method: "PATCH", uri: path, headers: ["authorization": "Bearer \(cluster.token)", "content-type": contentType], body: Data(body.utf8))
        guard case .json(let status, let value) = await cluster.router.handle(request) else { return (0, .null) }
        return (status, value)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        return false
    }
}

/// Builders for test objects.
enum Fixtures {
    static func configMap(_ name: String, data: [String: String] = ["a": "1"]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": JSONValue(stringMap: data)]
    }

    static func pod(_ name: String, labels: [String: String] = ["app": "web"], env: JSONValue = []) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": JSONValue(stringMap: labels)],
            "spec": ["containers": [["name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"], "env": env,
                                     "ports": [["name": "http", "containerPort": 8080]]]]],
        ]
    }

    static func deployment(_ name: String, replicas: Int = 2, image: String = "busybox:1.36") -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": ["containers": [["name": "main", "image": .string(image), "command": ["sleep", "3600"]]]],
                ],
            ],
        ]
    }

    static func service(_ name: String, selector: [String: String]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)],
            "spec": ["selector": JSONValue(stringMap: selector), "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
        ]
    }
}

/// Runs blocking work (subprocesses) on a GCD thread, so it never occupies one of the few
/// cooperative threads the in-process sandbox needs to answer that very subprocess.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs a program to completion and returns its exit status and standard output.
func runProgram(_ path: String, _ arguments: [String]) async throws -> (status: Int32, output: Data) {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
}
