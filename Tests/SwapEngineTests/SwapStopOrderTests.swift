import Foundation
import KubeClient
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

/// A stop request (SIGTERM from an IDE, `kill`) while the swap serves traffic: the original
/// comes back and the proxy is drained first, and only then does the local command get the
/// signal — so under steady load no request fails.
@Suite("swap stop order against the sandbox", .serialized, .timeLimit(.minutes(5)))
struct SwapStopOrderTests {
    /// Serves "local"; on SIGTERM asks the Service who answers now, records it, and exits 0.
    static let localServer = """
        import http.server, os, signal, sys, threading, urllib.request
        results, port, service = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        def on_term(*_):
            direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try: seen = direct.open(service, timeout=3).read().decode()
            except Exception as e: seen = "ERR " + str(e)
            open(os.path.join(results, "at-sigterm"), "w").write(seen)
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.send_header("Content-Length", "5"); self.end_headers(); self.wfile.write(b"local")
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    @Test func theCommandStopsOnlyAfterTheOriginalServesAgainAndNoRequestFails() async throws {
        try await SandboxFixture.run(replicas: 2) { fixture in
            let client = fixture.client
            let ip = try await fixture.serviceIP()
            let before = try await client.get(.deployments, namespace: "default", name: "web")
            let folder = try SandboxFixture.scratchDirectory("swapdev-stop-order")
            defer { try? FileManager.default.removeItem(at: folder) }
            let script = folder.appendingPathComponent("local.py")
            try Self.localServer.write(to: script, atomically: true, encoding: .utf8)
            let localPort = try SandboxFixture.freeLocalPort()
            let options = SwapOptions(
                target: try SwapTarget(parsing: "web:app"), namespace: "default",
                exposes: [PortMapping(local: localPort, remote: .name("http"))], timeout: .seconds(60),
                command: [SandboxFixture.python, script.path, folder.path, String(localPort), "http://\(ip)/"])
            let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: false))
            let swap = Task { try await session.run() }

            #expect(await httpGetEventually("http://\(ip)/", expected: "local", seconds: 90) == "local")
            let swapped = ContinuousClock.now + .seconds(30)
            while try await client.get(.deployments, namespace: "default", name: "web")[path: ["spec", "replicas"]] != 0,
                  ContinuousClock.now < swapped {
                try await Task.sleep(for: .milliseconds(200))
            }

            // Steady load through the Service across the stop and the restore.
            let load = SteadyLoad(url: "http://\(ip)/")
            let loading = Task.detached { load.run() }
            try await Task.sleep(for: .seconds(1))
            await session.requestStop()
            let code = try await swap.value
            try await Task.sleep(for: .seconds(1))
            load.stop()
            await loading.value

            #expect(code == 0, "the command handled SIGTERM and exited 0")
            let seen = try String(contentsOf: folder.appendingPathComponent("at-sigterm"), encoding: .utf8)
            #expect(seen == "original", "when the command got SIGTERM the Service already answered from the original")
            #expect(load.failures == 0, "\(load.failures) of \(load.total) requests failed: \(load.samples)")
            #expect(load.answers.contains("local") && load.answers.contains("original"))
            let after = try await client.get(.deployments, namespace: "default", name: "web")
            #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
        }
    }
}

/// Sequential requests on fresh connections until stopped, counting failures.
final class SteadyLoad: @unchecked Sendable {
    let url: String
    private let lock = NSLock()
    private var stopped = false
    private(set) var total = 0
    private(set) var failures = 0
    private(set) var answers: Set<String> = []
    private(set) var samples: [String] = []

    init(url: String) { self.url = url }

    func run() {
        while !lock.withLock({ stopped }) {
            let answer = httpGet(url)
            lock.withLock {
                total += 1
                if let answer {
                    answers.insert(answer)
                } else {
                    failures += 1
                    if samples.count < 5 { samples.append("request \(total) at \(Date())") }
                }
            }
            usleep(50_000)
        }
    }

    func stop() { lock.withLock { stopped = true } }
}
