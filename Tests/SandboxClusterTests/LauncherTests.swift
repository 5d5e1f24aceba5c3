import Foundation
import KubeModel
import SwapdevTesting
import Testing

/// The real `swapdev-sandbox` executable (real runtime, needs root) through `SandboxLauncher`.
@Suite("swapdev-sandbox executable", .serialized, .timeLimit(.minutes(2)))
struct LauncherTests {
    @Test func servesKubectlAndStopsCleanlyOnSIGTERM() async throws {
        let sandbox = try await SandboxLauncher.start(token: "launcher-token")
        let kubeconfig = try String(contentsOfFile: sandbox.kubeconfigPath, encoding: .utf8)
        #expect(kubeconfig.contains("token: launcher-token"))
        #expect(kubeconfig.contains("certificate-authority-data: "))
        #expect(kubeconfig.contains("namespace: default"))

        let data = try await offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
            process.arguments = ["--kubeconfig", sandbox.kubeconfigPath, "get", "namespaces", "-o", "name"]
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = sandbox.directory.path
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("namespace/default"), "\(text)\n\(sandbox.log)")
        #expect(text.contains("namespace/kube-system"))

        let status = await sandbox.stop()
        #expect(status == 0, "the sandbox exits 0 after SIGTERM: \(sandbox.log)")
    }
}
