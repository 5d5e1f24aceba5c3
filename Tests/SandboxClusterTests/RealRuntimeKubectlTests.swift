import Foundation
import KubeModel
import SandboxRuntime
import SwapdevTesting
import Testing

/// The real `swapdev-sandbox` binary with its real process runtime, driven by the real kubectl:
/// every verb the issue names, then SIGTERM must leave no process, namespace, mount, interface
/// or route of the sandbox behind. Needs root.
@Suite("kubectl against the real sandbox binary", .serialized, .timeLimit(.minutes(3)))
struct RealRuntimeKubectlTests {
    static func kubectl(_ sandbox: SandboxLauncher, _ arguments: [String], stdin: String? = nil) async throws -> KubectlTests.Output {
        let kubeconfig = sandbox.kubeconfigPath, home = sandbox.directory.path
        return try await offPool { try KubectlTests.run(kubeconfig: kubeconfig, home: home, arguments, stdin: stdin) }
    }

    static let manifest = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web-config}
        data: {GREETING: hello-from-configmap}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: app
                image: python:3.12
                command: ["python3", "-u", "-c", "import os,http.server;print('greeting', os.environ['GREETING'], flush=True);http.server.HTTPServer(('',8080),http.server.SimpleHTTPRequestHandler).serve_forever()"]
                envFrom: [{configMapRef: {name: web-config}}]
                ports: [{containerPort: 8080}]
                readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{port: 80, targetPort: 8080}]
        """

    @Test func everyKubectlVerbWorksAndSIGTERMLeavesTheHostClean() async throws {
        let before = HostSnapshot.capture()
        let sandbox = try await SandboxLauncher.start()

        let create = try await Self.kubectl(sandbox, ["create", "-f", "-"], stdin: Self.manifest)
        #expect(create.status == 0, "\(create.stderr)")
        let rollout = try await Self.kubectl(sandbox, ["rollout", "status", "deployment/web", "--timeout=60s"])
        #expect(rollout.status == 0, "\(rollout.stderr)\n\(sandbox.log)")

        let pods = try await Self.kubectl(sandbox, ["get", "pods", "-l", "app=web", "-o", "json"])
        let list = try JSONValue(parsing: pods.stdout)
        let items = list["items"]?.array ?? []
        #expect(items.count == 2)
        let podName = try #require(items.first?.name)
        let podIP = try #require(items.first?[path: ["status", "podIP"]]?.string)

        let describe = try await Self.kubectl(sandbox, ["describe", "pod", podName])
        #expect(describe.status == 0 && describe.stdout.contains("Ready"), "\(describe.stderr)")

        // exec runs inside the container: it sees the pod's own address and the container's env.
        let exec = try await Self.kubectl(sandbox, ["exec", podName, "--", "sh", "-c", "echo $GREETING; hostname -I 2>/dev/null || ip -4 -o addr"])
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.stdout.contains("hello-from-configmap"))
        #expect(exec.stdout.contains(podIP), "\(exec.stdout)")
        let failing = try await Self.kubectl(sandbox, ["exec", podName, "--", "sh", "-c", "exit 3"])
        #expect(failing.status == 3)

        let logs = try await Self.kubectl(sandbox, ["logs", podName])
        #expect(logs.stdout.contains("greeting hello-from-configmap"), "\(logs.stdout)\(logs.stderr)")

        // The Service's ClusterIP answers from the host.
        let clusterIP = try await Self.kubectl(sandbox, ["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]).stdout
        let curl = try await offPool { () -> Int32 in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-sf", "-m", "5", "-o", "/dev/null", "http://\(clusterIP)/"]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(curl == 0, "GET http://\(clusterIP)/ through the ClusterIP")

        let scale = try await Self.kubectl(sandbox, ["scale", "deployment/web", "--replicas=1"])
        #expect(scale.status == 0, "\(scale.stderr)")
        let rollout1 = try await Self.kubectl(sandbox, ["rollout", "status", "deployment/web", "--timeout=60s"])
        #expect(rollout1.status == 0, "\(rollout1.stderr)")

        let delete = try await Self.kubectl(sandbox, ["delete", "-f", "-", "--wait=true", "--timeout=60s"], stdin: Self.manifest)
        #expect(delete.status == 0, "\(delete.stderr)")

        // Leave a pod running on purpose: SIGTERM must clean it up too.
        let again = try await Self.kubectl(sandbox, ["create", "-f", "-"], stdin: Self.manifest)
        #expect(again.status == 0, "\(again.stderr)")
        _ = try await Self.kubectl(sandbox, ["rollout", "status", "deployment/web", "--timeout=60s"])

        // Other sandboxes may run meanwhile (parallel suites, other engineers), each in its own
        // network slot: only this one's slot counts. The `kubernetes` Service IP names it.
        let apiService = try await Self.kubectl(sandbox, ["get", "service", "kubernetes", "-n", "default", "-o", "jsonpath={.spec.clusterIP}"])
        let slot = try #require(apiService.stdout.split(separator: ".").dropFirst().first.flatMap { Int($0) }.map { $0 - 96 },
                                "cannot tell the sandbox's network slot from \(apiService.stdout)")
        let network = SandboxNetwork.slot(slot)

        let status = await sandbox.stop()
        #expect(status == 0, "the sandbox exits 0 after SIGTERM: \(sandbox.log)")
        let leftovers = HostSnapshot.capture().leftovers(since: before).matching([network.namePrefix, network.bridgeName, network.vethPrefix])
        #expect(leftovers.networkNamespaces.isEmpty && leftovers.mounts.isEmpty && leftovers.interfaces.isEmpty,
                "left behind after SIGTERM: \(leftovers)")
        let strays = try await offPool { () -> String in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
            process.arguments = ["-af", "GREETING|hello-from-configmap|SimpleHTTPRequestHandler"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        #expect(strays.isEmpty, "pod processes left after SIGTERM: \(strays)")
    }
}
