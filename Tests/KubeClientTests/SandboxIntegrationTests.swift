import Foundation
import KubeClient
import KubeModel
import SwapdevTesting
import Testing

/// The client against the real `swapdev-sandbox` binary: HTTPS with the sandbox's own CA and a
/// bearer token, an exec credential plugin, conflicts, watch resume, exec exit codes, and 20
/// concurrent checksummed port-forward connections into a real pod. Needs root (the sandbox).
@Suite("KubeClient against the sandbox cluster", .serialized, .timeLimit(.minutes(3)))
struct SandboxIntegrationTests {
    /// A pod running a TCP echo server on 9000 and sleeping otherwise.
    static let echoPod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": "echo", "labels": ["app": "echo"]],
        "spec": ["containers": [[
            "name": "echo", "image": "python:3.12",
            "command": ["python3", "-c", """
                import socketserver
                class Echo(socketserver.StreamRequestHandler):
                    def handle(self):
                        while True:
                            data = self.request.recv(65536)
                            if not data: break
                            self.request.sendall(data)
                class Server(socketserver.ThreadingTCPServer):
                    allow_reuse_address = True
                    daemon_threads = True
                Server(('127.0.0.1', 9000), Echo).serve_forever()
                """],
            // The server listens on the pod's localhost only (as port-forward allows), so the
            // probe runs inside the container rather than against the pod IP.
            "readinessProbe": ["exec": ["command": ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 9000))"]], "periodSeconds": 1],
        ]]],
    ]

    @Test func restWatchExecAndPortForwardOverTLSWithABearerToken() async throws {
        let sandbox = try await SandboxLauncher.start(token: "integration-token")
        defer { Task { await sandbox.stop() } }
        let client = try KubeClient(kubeconfig: sandbox.kubeconfigPath, context: nil, namespace: nil)
        defer { Task { await client.shutdown() } }
        #expect(client.namespace == "default")

        // 409 on a stale update, with the API's own message.
        let created = try await client.create(.configMaps, object: ["metadata": ["name": "settings"], "data": ["a": "1"]])
        var first = created
        first["data"] = ["a": "2"]
        let updated = try await client.update(.configMaps, object: first)
        var stale = created
        stale["data"] = ["a": "3"]
        await #expect {
            try await client.update(.configMaps, object: stale)
        } throws: { error in
            guard case KubeError.conflict(let status) = error else { return false }
            return status.message.contains("the object has been modified")
        }

        // Watch from the update's resourceVersion sees only later changes.
        let events = client.watch(.configMaps, name: "settings", resourceVersion: updated.resourceVersion)
        _ = try await client.patch(.configMaps, name: "settings", type: .merge, patch: ["data": ["a": "4"]])
        var iterator = events.makeAsyncIterator()
        let event = try await iterator.next()
        #expect(event?.type == .modified)
        #expect(event?.object[path: ["data", "a"]] == "4")

        // Exec in a real pod: output and exit codes.
        _ = try await client.create(.pods, object: Self.echoPod)
        _ = try await client.waitFor(.pods, name: "echo", timeout: .seconds(60), condition: WaitConditions.podReady)
        let ok = try await client.execCollect(pod: "echo", command: ["sh", "-c", "echo out; echo err >&2"])
        #expect(ok.exitCode == 0 && ok.stdoutText == "out\n" && ok.stderrText == "err\n")
        let three = try await client.execCollect(pod: "echo", command: ["sh", "-c", "exit 3"])
        #expect(three.exitCode == 3)
        let stdin = try await client.execCollect(pod: "echo", command: ["cat"], stdin: Data("piped".utf8))
        #expect(stdin.stdoutText == "piped")

        // 20 concurrent port-forward connections, each a distinct checksummed payload.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let fd = try await client.openPortForwardSocket(pod: "echo", port: 9000)
                    defer { close(fd) }
                    var payload = [UInt8](repeating: 0, count: 64 * 1024 + index)
                    for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: i &* 31 &+ index) }
                    return try sandboxEchoRoundTrip(fd: fd, payload: payload)
                }
            }
            var matched = 0
            for try await same in group where same { matched += 1 }
            #expect(matched == 20)
        }

        // A port nobody listens on is a typed error, not a hang.
        await #expect(throws: (any Error).self) {
            let fd = try await client.openPortForwardSocket(pod: "echo", port: 9999)
            defer { close(fd) }
            _ = try sandboxEchoRoundTrip(fd: fd, payload: Array("x".utf8))
            throw EchoFailure(reason: "the connection to a closed port unexpectedly echoed")
        }
    }

    @Test func execCredentialPluginAndAWrongToken() async throws {
        let sandbox = try await SandboxLauncher.start(token: "plugin-token")
        defer { Task { await sandbox.stop() } }
        let dir = try TempDirectory("sandbox-plugin")
        // An EKS-style exec plugin that prints an ExecCredential with the sandbox's token.
        let plugin = dir.path + "/get-token"
        try """
            #!/bin/sh
            echo "$KUBERNETES_EXEC_INFO" > "\(dir.path)/exec-info"
            printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"plugin-token"}}'
            """.write(toFile: plugin, atomically: true, encoding: .utf8)
        chmod(plugin, 0o755)
        let original = try String(contentsOfFile: sandbox.kubeconfigPath, encoding: .utf8)
        let withPlugin = original.replacingOccurrences(
            of: "token: plugin-token",
            with: "exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./get-token\n      interactiveMode: Never")
        #expect(withPlugin != original, "the sandbox kubeconfig names its token: \(original)")
        try withPlugin.write(toFile: dir.path + "/kubeconfig", atomically: true, encoding: .utf8)

        let client = try KubeClient(kubeconfig: dir.path + "/kubeconfig", context: nil, namespace: nil)
        defer { Task { await client.shutdown() } }
        let namespaces = try await client.list(.namespaces)
        #expect(namespaces.items.contains { $0.name == "kube-system" })
        let info = try String(contentsOfFile: dir.path + "/exec-info", encoding: .utf8)
        #expect(info.contains("\"kind\":\"ExecCredential\""))

        let wrong = original.replacingOccurrences(of: "token: plugin-token", with: "token: not-the-token")
        try wrong.write(toFile: dir.path + "/wrong", atomically: true, encoding: .utf8)
        let rejected = try KubeClient(kubeconfig: dir.path + "/wrong", context: nil, namespace: nil)
        defer { Task { await rejected.shutdown() } }
        await #expect {
            _ = try await rejected.list(.namespaces)
        } throws: { error in
            guard case KubeError.unauthorized = error else { return false }
            return true
        }

        // doctor's checks: every permission swap and dev need is granted here.
        let diagnosis = try await client.diagnose()
        #expect(diagnosis.missing.isEmpty, "missing: \(diagnosis.missing)")
        #expect(diagnosis.serverVersion != nil)
    }
}

private struct EchoFailure: Error {
    var reason: String
}

/// Writes `payload` and reads the same number of bytes back.
private func sandboxEchoRoundTrip(fd: Int32, payload: [UInt8]) throws -> Bool {
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var sent = 0
    while sent < payload.count {
        let n = payload[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw EchoFailure(reason: "write to the port-forward socket failed") }
        sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while received.count < payload.count {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw EchoFailure(reason: "port-forward closed after \(received.count) of \(payload.count) bytes") }
        received += buffer[0..<n]
    }
    return received == payload
}
