import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

/// `TunnelKeeper` against the sandbox: the proxy's sshd session is killed (twice) while a swap
/// is up, and every path through the tunnel must work again on a new session — inbound (the
/// Service reaches the local process), the outbound local forward to the sidecar on the same
/// port, and the SOCKS/HTTP proxy, which must follow the new session. `scripts/e2e.sh`
/// (scenario c) checks inbound only, through `swapdev`'s output. Needs root.
@Suite("tunnel reconnect against the sandbox", .serialized, .timeLimit(.minutes(5)))
struct SwapReconnectTests {
    /// The local process: "/" → "local"; "/sidecar" → the sidecar's app.conf over the outbound
    /// forward on 127.0.0.1:9000; "/via-proxy" → http://web/ through HTTP_PROXY (swapdev's
    /// outbound proxy, resolved and dialled by sshd in the pod: the Service, i.e. this process).
    static let localServer = """
        import http.server, os, sys, threading, urllib.request
        port = int(sys.argv[1])
        def fetch(url):
            try: return urllib.request.urlopen(url, timeout=5).read()
            except Exception as e: return ("ERR " + str(e)).encode()
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/sidecar": body = fetch("http://127.0.0.1:9000/app.conf")
                elif self.path == "/via-proxy": body = fetch("http://web/")
                else: body = b"local"
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                if self.path == "/quit": threading.Thread(target=lambda: os._exit(0)).start()
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
        """

    /// Prints the pids of the proxy sshd's session processes (children of the pid in sshd.pid
    /// named sshd*; not the dead-man switch, also its child). POSIX sh + /proc; in the sandbox
    /// the pids are the host's.
    static let sshdSessions = """
        state=${SWAPDEV_STATE_DIR:-/var/run/swapdev}
        master=$(cat "$state/sshd.pid") || exit 1
        for status in /proc/[0-9]*/status; do
            dir=${status%/status}
            [ "$(sed -n 's/^PPid:[[:space:]]*//p' "$status" 2>/dev/null)" = "$master" ] || continue
            case "$(cat "$dir/comm" 2>/dev/null)" in sshd*) echo "${dir#/proc/}" ;; esac
        done
        """

    @Test func tunnelComesBackAfterTheSSHDSessionIsKilled() async throws {
        try await SandboxFixture.run(run)
    }

    private func run(_ fixture: SandboxFixture) async throws {
        let client = fixture.client
        let ip = try await fixture.serviceIP()
        let before = try await client.get(.deployments, namespace: "default", name: "web")

        let folder = try SandboxFixture.scratchDirectory("swapdev-reconnect")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("local.py")
        try Self.localServer.write(to: script, atomically: true, encoding: .utf8)
        let localPort = try SandboxFixture.freeLocalPort()
        let options = SwapOptions(
            target: try SwapTarget(parsing: "web:app"), namespace: "default",
            exposes: [PortMapping(local: localPort, remote: .name("http"))],
            timeout: .seconds(60), command: [SandboxFixture.python, script.path, String(localPort)])
        let swap = Task { try await SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: false)).run() }

        #expect(await httpGetEventually("http://\(ip)/", expected: "local", seconds: 90) == "local", "the swap comes up")
        let pods = try await client.list(.pods, namespace: "default", labelSelector: "swapdev.dev/swap").items
        let proxy = try #require(pods.first?.name)
        try await expectEveryPathWorks(ip, when: "before any reconnect")

        var previous = try await sessions(client, proxy)
        #expect(!previous.isEmpty, "swapdev has an SSH session to the proxy's sshd")
        for round in 1...2 {
            // Without a live session there is nothing to kill; the expectations above said why.
            guard !previous.isEmpty else { break }
            let killed = try await client.execCollect(namespace: "default", pod: proxy, container: "app",
                                                      command: ["sh", "-c", "kill -9 \(previous.joined(separator: " "))"])
            #expect(killed.exitCode == 0, "kill -9 of the sshd session: \(killed.stderrText)")
            // A new session: another sshd child than the killed ones, opened by swapdev itself.
            let deadline = ContinuousClock.now + .seconds(30)
            var current: [String] = []
            while ContinuousClock.now < deadline {
                current = try await sessions(client, proxy)
                if !current.isEmpty, Set(current).isDisjoint(with: previous) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(!current.isEmpty && Set(current).isDisjoint(with: previous),
                    "round \(round): swapdev opens a new SSH session (killed \(previous), now \(current))")
            #expect(await httpGetEventually("http://\(ip)/", expected: "local", seconds: 20) == "local",
                    "round \(round): the Service reaches the local process again")
            try await expectEveryPathWorks(ip, when: "after reconnect \(round)")
            previous = current
        }

        _ = httpGet("http://127.0.0.1:\(localPort)/quit")
        let code = try await swap.value
        #expect(code == 0)
        let after = try await client.get(.deployments, namespace: "default", name: "web")
        #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))")
        let leftovers = try await client.list(.pods, namespace: "default", labelSelector: "swapdev.dev/swap").items
        #expect(leftovers.isEmpty, "no proxy pod remains")
    }

    /// Inbound, the outbound forward to the sidecar and the outbound proxy, each through the
    /// Service (so through the tunnel twice for the last two).
    private func expectEveryPathWorks(_ ip: String, when: String) async throws {
        #expect(await httpGetEventually("http://\(ip)/sidecar", expected: "listen = 8080\n", seconds: 15) == "listen = 8080\n",
                "\(when): the sidecar's port on 127.0.0.1:9000 reaches the pod")
        #expect(await httpGetEventually("http://\(ip)/via-proxy", expected: "local", seconds: 15) == "local",
                "\(when): the outbound proxy dials from the pod on the live session")
    }

    /// The pids of the proxy sshd's session processes (see ``sshdSessions``).
    private func sessions(_ client: KubeClient, _ pod: String) async throws -> [String] {
        let result = try await client.execCollect(namespace: "default", pod: pod, container: "app", command: ["sh", "-c", Self.sshdSessions])
        return result.stdoutText.split(whereSeparator: \.isNewline).map(String.init)
    }
}
