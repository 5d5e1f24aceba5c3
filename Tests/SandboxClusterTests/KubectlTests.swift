import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

struct KubectlMissing: Error, CustomStringConvertible {
    var description: String { "kubectl is needed at /usr/bin/kubectl for these tests (install kubectl v1.32)" }
}

/// Runs the real kubectl against an in-process sandbox (fake runtime).
@Suite("kubectl against the sandbox", .serialized, .timeLimit(.minutes(2)))
struct KubectlTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private func kubectl(_ sandbox: TestCluster, _ arguments: [String], stdin: String? = nil) async throws -> Output {
        let kubeconfig = sandbox.cluster.kubeconfigPath, home = sandbox.directory.path
        return try await offPool { try Self.run(kubeconfig: kubeconfig, home: home, arguments, stdin: stdin) }
    }

    /// Runs `/usr/bin/kubectl` with a kubeconfig and its own HOME (its discovery cache), feeding `stdin`.
    static func run(kubeconfig: String, home: String, _ arguments: [String], stdin: String?) throws -> Output {
        let path = "/usr/bin/kubectl"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw KubectlMissing()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--kubeconfig", kubeconfig, "--request-timeout=20s"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home  // keep kubectl's discovery cache per test
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self), stderr: String(decoding: stderrData, as: UTF8.self))
    }

    private let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: hello
        spec:
          replicas: 2
          selector:
            matchLabels: {app: hello}
          template:
            metadata:
              labels: {app: hello}
            spec:
              containers:
              - name: main
                image: busybox:1.36
                command: ["sleep", "3600"]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: hello
        spec:
          selector: {app: hello}
          ports:
          - port: 80
            targetPort: 8080
        """

    @Test func getCreateScaleRolloutExecLogsDelete() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }

        let version = try await kubectl(sandbox, ["version", "-o", "json"])
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.contains("swapdev-sandbox"))

        let create = try await kubectl(sandbox, ["create", "-f", "-"], stdin: manifest)
        #expect(create.status == 0, "\(create.stderr)")
        #expect(create.stdout.contains("deployment.apps/hello created"))
        #expect(create.stdout.contains("service/hello created"))

        let rollout = try await kubectl(sandbox, ["rollout", "status", "deployment/hello", "--timeout=30s"])
        #expect(rollout.status == 0, "\(rollout.stderr)")
        #expect(rollout.stdout.contains("successfully rolled out"))

        let pods = try await kubectl(sandbox, ["get", "pods", "-l", "app=hello"])
        #expect(pods.status == 0, "\(pods.stderr)")
        #expect(pods.stdout.contains("Running"))
        #expect(pods.stdout.components(separatedBy: "hello-").count == 3, "\(pods.stdout)")

        let scale = try await kubectl(sandbox, ["scale", "deploy/hello", "--replicas=3"])
        #expect(scale.status == 0, "\(scale.stderr)")
        let rollout3 = try await kubectl(sandbox, ["rollout", "status", "deploy/hello", "--timeout=30s"])
        #expect(rollout3.status == 0, "\(rollout3.stderr)")
        let json = try await kubectl(sandbox, ["get", "deploy", "hello", "-o", "json"])
        let deployment = try JSONValue(parsing: json.stdout)
        #expect(deployment[path: ["status", "readyReplicas"]]?.int == 3)

        let describe = try await kubectl(sandbox, ["describe", "deployment", "hello"])
        #expect(describe.status == 0, "\(describe.stderr)")
        let svc = try await kubectl(sandbox, ["get", "svc", "hello", "-o", "jsonpath={.spec.clusterIP}"])
        #expect(svc.stdout.hasPrefix("10.96."), "\(svc.stdout) \(svc.stderr)")

        let podName = try await kubectl(sandbox, ["get", "pods", "-l", "app=hello", "-o", "jsonpath={.items[0].metadata.name}"]).stdout
        let exec = try await kubectl(sandbox, ["exec", podName, "--", "echo", "hi"])
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.stdout == "echo hi\n")
        let logs = try await kubectl(sandbox, ["logs", podName, "--tail=1"])
        #expect(logs.stdout == "line 5\n", "\(logs.stderr)")

        let delete = try await kubectl(sandbox, ["delete", "-f", "-", "--wait=true", "--timeout=30s"], stdin: manifest)
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(await sandbox.eventually("pods deleted") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods").body["items"]?.array?.isEmpty == true
        })
    }
}
