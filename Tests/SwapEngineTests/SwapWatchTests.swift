import Foundation
import KubeClient
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

/// `swapdev swap --watch`: a change restarts the local process while the swap stays up; a
/// crashed process waits for the next change; only a stop request ends the swap.
@Suite("swap --watch against the sandbox", .serialized, .timeLimit(.minutes(5)))
struct SwapWatchTests {
    /// Reads `version.txt` once at start (like a compiled program) and serves it; `/quit` exits 3.
    static let versionServer = """
        import http.server, os, sys, threading
        here, port = sys.argv[1], int(sys.argv[2])
        version = open(os.path.join(here, "version.txt")).read().strip()
        with open(os.path.join(here, "starts.log"), "a") as log: log.write(str(os.getpid()) + "\\n")
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = (version + " " + os.environ.get("EXTRA", "-")).encode()
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                if self.path == "/quit": threading.Thread(target=lambda: os._exit(3)).start()
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    @Test func editsRestartTheLocalProcessAndTheSwapOutlivesACrash() async throws {
        try await SandboxFixture.run(run)
    }

    private func run(_ fixture: SandboxFixture) async throws {
        let client = fixture.client
        let ip = try await fixture.serviceIP()
        let before = try await client.get(.deployments, namespace: "default", name: "web")

        let project = try SandboxFixture.scratchDirectory("swapdev-watch")
        try FileManager.default.createDirectory(at: project.appendingPathComponent("logs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: project) }
        try Self.versionServer.write(to: project.appendingPathComponent("server.py"), atomically: true, encoding: .utf8)
        try "v1".write(to: project.appendingPathComponent("version.txt"), atomically: true, encoding: .utf8)
        try "logs/\nstarts.log\n".write(to: project.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)

        let localPort = try SandboxFixture.freeLocalPort()
        var options = SwapOptions(
            target: try SwapTarget(parsing: "web:app"), namespace: "default",
            exposes: [PortMapping(local: localPort, remote: .name("http"))], timeout: .seconds(60),
            command: [SandboxFixture.python, project.appendingPathComponent("server.py").path, project.path, String(localPort)])
        options.environmentOverrides = ["EXTRA": "from-swapdev.yaml"]
        options.reload = LocalReload(paths: [project])
        let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: false))
        let swap = Task { try await session.run() }

        #expect(await httpGetEventually("http://\(ip)/", expected: "v1 from-swapdev.yaml", seconds: 90) == "v1 from-swapdev.yaml",
                "the local process serves, with the env override on top of the container's environment")

        // An edit restarts the process: the new version is served through the same swap.
        try "v2".write(to: project.appendingPathComponent("version.txt"), atomically: true, encoding: .utf8)
        #expect(await httpGetEventually("http://\(ip)/", expected: "v2 from-swapdev.yaml") == "v2 from-swapdev.yaml")

        // Ignored paths do not restart it.
        let startsBefore = try starts(project)
        try "noise".write(to: project.appendingPathComponent("logs/app.log"), atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(1))
        #expect(try starts(project) == startsBefore, "a change below an ignored path restarts nothing")

        // The process crashes: the swap stays up, and the next edit starts it again.
        _ = httpGet("http://\(ip)/quit")
        try await Task.sleep(for: .seconds(1))
        #expect(httpGet("http://\(ip)/") == nil, "nothing listens locally after the crash")
        let swapped = try await client.get(.deployments, namespace: "default", name: "web")
        #expect(swapped[path: ["spec", "replicas"]] == 0, "the swap outlives the crashed process")
        try "v3".write(to: project.appendingPathComponent("version.txt"), atomically: true, encoding: .utf8)
        #expect(await httpGetEventually("http://\(ip)/", expected: "v3 from-swapdev.yaml") == "v3 from-swapdev.yaml")
        #expect(try starts(project) == startsBefore + 1)

        // Only a stop request ends a watched swap; then the cluster is as before.
        await session.requestStop()
        let code = try await swap.value
        #expect(code == 143, "SIGTERM reached the command after the restore, and its end is swapdev's exit code")
        let after = try await client.get(.deployments, namespace: "default", name: "web")
        #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
        #expect(await httpGetEventually("http://\(ip)/", expected: "original", seconds: 30) == "original")
    }

    private func starts(_ project: URL) throws -> Int {
        try String(contentsOf: project.appendingPathComponent("starts.log"), encoding: .utf8).split(separator: "\n").count
    }

    @Test func aMissingWatchPathIsAnInputErrorBeforeAnythingChanges() async throws {
        var options = SwapOptions(target: try SwapTarget(parsing: "web:app"), command: ["true"])
        options.reload = LocalReload(paths: [URL(fileURLWithPath: "/nonexistent/swapdev-watch")])
        // No cluster is needed: the client points at a closed port and must never be called.
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-watch-\(UUID().uuidString.prefix(8)).yaml")
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """.write(to: kubeconfig, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: kubeconfig) }
        let client = try KubeClient(kubeconfig: kubeconfig.path, context: nil, namespace: "default")
        let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: true))
        await #expect(throws: LocalReloadError.missingPath("/nonexistent/swapdev-watch")) { try await session.run() }
        await client.shutdown()
    }

    @Test func describesChangedPathsInOneLine() {
        #expect(LocalReloader.describe(["a.go"]) == "a.go")
        #expect(LocalReloader.describe(["b.go", "a.go", "c.go"]) == "a.go and 2 more")
        let root = FileManager.default.temporaryDirectory
        #expect(LocalReloader.describe([".tmp-gone-\(UUID().uuidString)", root.lastPathComponent], in: root.deletingLastPathComponent())
                    == "\(root.lastPathComponent) and 1 more", "an editor's vanished temp file is not the one named")
    }
}
