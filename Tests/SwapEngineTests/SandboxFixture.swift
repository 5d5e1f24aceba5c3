import Foundation
import KubeClient
import KubeModel
import SwapdevTesting
import Testing
@testable import SwapEngine

/// A sandbox with a two-container app (app + sidecar), its ConfigMap, Secret and Service.
struct SandboxFixture {
    let sandbox: SandboxLauncher
    let client: KubeClient
    let namespace = "default"

    static let python = "/usr/bin/python3"

    /// The original app: answers every GET with "original".
    static let originalServer = """
        import http.server
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"original"
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
        """

    /// Runs `body` against a fresh sandbox with the app deployed, records any error with the end
    /// of the sandbox's log, and always stops the sandbox. Needs root (network namespaces).
    static func run(replicas: Int = 1, _ body: (SandboxFixture) async throws -> Void) async throws {
        try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
        let fixture = try await SandboxFixture.start()
        do {
            try await fixture.deployApp(replicas: replicas)
            try await body(fixture)
        } catch {
            Issue.record("\(error)\n--- sandbox log (tail) ---\n\(fixture.sandbox.log.suffix(3000))")
        }
        await fixture.stop()
    }

    /// A local port nothing listens on right now, so a host process on 8080 cannot interfere.
    static func freeLocalPort() throws -> Int {
        let (probe, port) = try Sockets.listen(port: 0)
        close(probe)
        return port
    }

    /// A fresh directory for a test's local files; the caller removes it.
    static func scratchDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func start() async throws -> SandboxFixture {
        let repository = SSHDLauncher.repositoryRoot
        let sandbox = try await SandboxLauncher.start(proxyImageDirectory: repository.appendingPathComponent("proxy-image").path)
        let client = try KubeClient(kubeconfig: sandbox.kubeconfigPath, context: nil, namespace: "default")
        return SandboxFixture(sandbox: sandbox, client: client)
    }

    func stop() async {
        await client.shutdown()
        await sandbox.stop()
    }

    func deployApp(replicas: Int = 1) async throws {
        _ = try await client.create(.configMaps, namespace: namespace, object: [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "web-config"],
            "data": ["GREETING": "hello", "LOG_LEVEL": "debug", "app.conf": "listen = 8080\n"],
        ])
        _ = try await client.create(.secrets, namespace: namespace, object: [
            "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "web-creds"],
            "data": ["password": .string(Data("s3cret".utf8).base64EncodedString())],
        ])
        _ = try await client.create(.services, namespace: namespace, object: [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
            "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
        ])
        _ = try await client.create(.deployments, namespace: namespace, object: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": [
                        "volumes": [["name": "config", "configMap": ["name": "web-config"]]],
                        "containers": [
                            [
                                "name": "app", "image": "example/web:1", "command": [.string(Self.python), "-c", .string(Self.originalServer)],
                                "ports": [["name": "http", "containerPort": 8080]],
                                "env": [
                                    ["name": "MODE", "value": "prod"],
                                    ["name": "COMBINED", "value": "$(MODE)-x"],
                                    ["name": "GREETING", "valueFrom": ["configMapKeyRef": ["name": "web-config", "key": "GREETING"]]],
                                    ["name": "PASSWORD", "valueFrom": ["secretKeyRef": ["name": "web-creds", "key": "password"]]],
                                    ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                                ],
                                "envFrom": [["prefix": "CFG_", "configMapRef": ["name": "web-config"]]],
                                "volumeMounts": [["name": "config", "mountPath": "/etc/app"]],
                                "readinessProbe": ["tcpSocket": ["port": 8080], "periodSeconds": 1],
                            ],
                            [
                                "name": "sidecar", "image": "example/sidecar:1",
                                "command": [.string(Self.python), "-m", "http.server", "9000", "--bind", "127.0.0.1", "--directory", "/etc/app"],
                                "ports": [["containerPort": 9000]],
                                "volumeMounts": [["name": "config", "mountPath": "/etc/app"]],
                            ],
                        ],
                    ],
                ],
            ],
        ])
        try await client.waitFor(.deployments, namespace: namespace, name: "web", timeout: .seconds(60),
                                 condition: WaitConditions.deploymentReady(replicas: replicas))
    }

    /// The Service's ClusterIP.
    func serviceIP() async throws -> String {
        try await client.get(.services, namespace: namespace, name: "web")[path: ["spec", "clusterIP"]]?.string ?? ""
    }
}

/// `curl` without any proxy, with a short timeout; `nil` when the request failed.
func httpGet(_ url: String) -> String? {
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

/// Polls `url` until it answers `expected`, for at most `seconds`; returns the last answer.
func httpGetEventually(_ url: String, expected: String, seconds: Double = 20) async -> String? {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    var answer: String?
    while ContinuousClock.now < deadline {
        answer = httpGet(url)
        if answer == expected { return answer }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return answer
}
