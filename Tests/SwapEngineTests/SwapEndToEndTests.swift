import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

/// `swapdev swap` against the sandbox: a real API server, real pods, the real proxy entrypoint
/// and sshd, the real tunnel. Needs root (the sandbox makes network namespaces).
@Suite("swap and restore against the sandbox", .serialized, .timeLimit(.minutes(5)))
struct SwapEndToEndTests {
    /// The local process: serves "local <GREETING>" on 8080, records its environment, the
    /// files under SWAPDEV_ROOT and what it gets from the sidecar, and exits 7 on /quit.
    static let localServer = """
        import http.server, json, os, sys, threading, urllib.request
        results, port = sys.argv[1], int(sys.argv[2])
        root = os.environ.get("SWAPDEV_ROOT", "")
        files = {}
        for dirpath, _, names in os.walk(root):
            for n in names:
                p = os.path.join(dirpath, n)
                try: files[os.path.relpath(p, root)] = open(p).read()
                except Exception as e: files[os.path.relpath(p, root)] = "ERR " + str(e)
        try: sidecar = urllib.request.urlopen("http://127.0.0.1:9000/app.conf", timeout=5).read().decode()
        except Exception as e: sidecar = "ERR " + str(e)
        json.dump({"env": dict(os.environ), "files": files, "sidecar": sidecar}, open(os.path.join(results, "report.json"), "w"))
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = ("local " + os.environ.get("GREETING", "?")).encode()
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                if self.path == "/quit":
                    threading.Thread(target=lambda: os._exit(7)).start()
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    @Test func swapServesTheServiceFromTheLocalProcessAndRestoresExactly() async throws {
        try await SandboxFixture.run(run)
    }

    private func run(_ fixture: SandboxFixture) async throws {
        let client = fixture.client
        let ip = try await fixture.serviceIP()
        #expect(await httpGetEventually("http://\(ip)/", expected: "original") == "original")
        let before = try await client.get(.deployments, namespace: "default", name: "web")

        let results = try SandboxFixture.scratchDirectory("swapdev-e2e")
        defer { try? FileManager.default.removeItem(at: results) }
        let script = results.appendingPathComponent("local.py")
        try Self.localServer.write(to: script, atomically: true, encoding: .utf8)
        let envFile = results.appendingPathComponent("app.env").path

        let localPort = try SandboxFixture.freeLocalPort()
        let options = SwapOptions(
            target: try SwapTarget(parsing: "web:app"), namespace: "default",
            exposes: [PortMapping(local: localPort, remote: .name("http"))], envFile: envFile,
            timeout: .seconds(60), command: [SandboxFixture.python, script.path, results.path, String(localPort)])
        let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: false))
        let swap = Task { try await session.run() }

        // Traffic to the Service reaches the local process.
        var answer: String?
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            answer = httpGet("http://\(ip)/")
            if answer == "local hello" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(answer == "local hello", "the Service should answer from the local process")
        // The proxy serves before the original goes (make-before-break); then the original is at 0.
        var swapped = try await client.get(.deployments, namespace: "default", name: "web")
        let scaleDeadline = ContinuousClock.now + .seconds(20)
        while swapped[path: ["spec", "replicas"]] != 0, ContinuousClock.now < scaleDeadline {
            try await Task.sleep(for: .milliseconds(100))
            swapped = try await client.get(.deployments, namespace: "default", name: "web")
        }
        #expect(swapped[path: ["spec", "replicas"]] == 0)
        #expect(await httpGetEventually("http://\(ip)/", expected: "local hello") == "local hello", "only the proxy serves now")
        #expect(swapped.annotations["swapdev.dev/original-replicas"] == "1")
        // --env-file: written for an IDE while the swap is up, private, removed when it ends.
        let dotenv = try String(contentsOfFile: envFile, encoding: .utf8)
        #expect(dotenv.contains("PASSWORD=s3cret\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: envFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        _ = httpGet("http://\(ip)/quit")

        let code = try await swap.value
        #expect(code == 7, "the local command's exit code is swapdev's")

        // The local process's view.
        let report = try JSONValue(parsing: Data(contentsOf: results.appendingPathComponent("report.json")))
        let env = report["env"]?.stringMap ?? [:]
        #expect(env["MODE"] == "prod")
        #expect(env["COMBINED"] == "prod-x")
        #expect(env["GREETING"] == "hello")
        #expect(env["PASSWORD"] == "s3cret")
        #expect(env["CFG_LOG_LEVEL"] == "debug")
        #expect(env["POD_NAME"]?.hasPrefix("web-swapdev-") == true, "fieldRef is the proxy pod's, as the kubelet computed it")
        #expect(env["WEB_SERVICE_HOST"] == "127.0.0.1", "service links point at local forwards")
        #expect(env["SWAPDEV_AUTHORIZED_KEY"] == nil)
        #expect(env["SWAPDEV_ROOT"]?.isEmpty == false)
        #expect(env["ALL_PROXY"]?.hasPrefix("socks5h://127.0.0.1:") == true)
        #expect(report[path: ["files", "etc/app/app.conf"]] == "listen = 8080\n", "volumes are copied below SWAPDEV_ROOT")
        #expect(report["sidecar"] == "listen = 8080\n", "the sidecar's port is reachable on localhost")
        #expect(!FileManager.default.fileExists(atPath: envFile), "the env file holds secrets: removed on exit")
        if let root = env["SWAPDEV_ROOT"] { #expect(!FileManager.default.fileExists(atPath: root), "SWAPDEV_ROOT is removed on exit") }

        // The cluster is as before.
        let after = try await client.get(.deployments, namespace: "default", name: "web")
        #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
        #expect(after[path: ["spec", "replicas"]] == 1)
        #expect(!after.annotations.keys.contains { $0.hasPrefix("swapdev.dev/") })
        let leftovers = try await client.list(.pods, namespace: "default", labelSelector: "swapdev.dev/swap").items
        #expect(leftovers.isEmpty, "no proxy pod remains")
        #expect(await httpGetEventually("http://\(ip)/", expected: "original") == "original")
    }

    @Test func unpullableProxyImageFailsWithHowToAndLeavesNothing() async throws {
        try await SandboxFixture.run { fixture in
            let client = fixture.client
            let before = try await client.get(.deployments, namespace: "default", name: "web")
            let options = SwapOptions(target: try SwapTarget(parsing: "web:app"), namespace: "default",
                                      proxyImage: "registry.example/does-not-exist:1", timeout: .seconds(30), command: ["/bin/true"])
            let error = await #expect(throws: SwapError.self) {
                try await SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: true)).run()
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("registry.example/does-not-exist:1"), "\(text)")
            #expect(text.contains("scripts/build-proxy-image.sh --push --tag"))
            #expect(text.contains("--proxy-image"))
            let after = try await client.get(.deployments, namespace: "default", name: "web")
            #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
            let leftovers = try await client.list(.pods, namespace: "default", labelSelector: "swapdev.dev/swap").items
            #expect(leftovers.isEmpty, "no proxy pod remains")
        }
    }

    @Test func withoutRunTheSwapStaysUntilSIGINTThenRestores() async throws {
        try await SandboxFixture.run(replicas: 2) { fixture in
            let client = fixture.client
            let before = try await client.get(.deployments, namespace: "default", name: "web")
            let options = SwapOptions(target: try SwapTarget(parsing: "web:app"), namespace: "default", timeout: .seconds(60))
            let swap = Task { try await SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: true)).run() }
            // Wait for the make-before-break to finish: the original at 0, the proxy Ready.
            let deadline = ContinuousClock.now + .seconds(90)
            var scaled = false
            while ContinuousClock.now < deadline, !scaled {
                let deployment = try await client.get(.deployments, namespace: "default", name: "web")
                scaled = deployment[path: ["spec", "replicas"]] == 0
                if !scaled { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(scaled)
            #expect(try await client.get(.deployments, namespace: "default", name: "web").annotations["swapdev.dev/original-replicas"] == "2")
            // swapdev traps SIGINT while it runs; it must restore, not die.
            kill(getpid(), SIGINT)
            let code = try await swap.value
            #expect(code == 0)
            let after = try await client.get(.deployments, namespace: "default", name: "web")
            #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
            #expect(after[path: ["spec", "replicas"]] == 2)
            let leftovers = try await client.list(.pods, namespace: "default", labelSelector: "swapdev.dev/swap").items
            #expect(leftovers.isEmpty, "no proxy pod remains")
        }
    }
}
