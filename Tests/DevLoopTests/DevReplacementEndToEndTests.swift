import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SyncCore
import Testing
@testable import DevLoop

/// The dev pod is replaced (deleted, evicted): the session notices, makes the next pod, syncs
/// into it and moves logs and port-forwards over — and a big tree costs few descriptors.
extension DevEndToEndTests {
    static let readerApp = """
        import http.server
        message = open("message.txt").read()
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = message.encode()
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        print("serving", message, flush=True)
        http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
        """

    @Test(.timeLimit(.minutes(5))) func deletedDevPodIsReplacedAndFollowed() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("follow", command: ["sh", "-c", "sleep 3600"])
            let before = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "follow")
            try project.write("app.py", Self.readerApp)
            try project.write("message.txt", "first")
            let port = freePort()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "follow"), run: [DevSandbox.python, "app.py"],
                                     portForwards: [PortForwardSpec(local: port, remote: 8000)], workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            #expect(await eventually(60) { await httpGet("http://127.0.0.1:\(port)/") == "first" }, "log: \(log.all)")
            #expect(await eventually(10) { log.contains("[main] serving first") }, "log: \(log.all)")
            let oldPod = try #require(try await devPod(sandbox, deployment: "follow"))

            let linesBeforeDeletion = log.all.count
            // As `kubectl delete pod` does: the default grace period.
            _ = try await sandbox.client.delete(.pods, namespace: sandbox.namespace, name: oldPod)
            let deletedAt = ContinuousClock.now
            #expect(await eventually(30) { log.all.contains { $0.contains("dev pod \(oldPod) ") && $0.contains("replacing it with") } },
                    "one line says so; log: \(log.all)")
            #expect(await eventually(90) { log.contains("is in sync and its process started") }, "log: \(log.all)")
            let newPod = try #require(try await devPod(sandbox, deployment: "follow"))
            #expect(newPod != oldPod)
            // The same local port answers again, from the new pod, with the synced content.
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/") == "first" }, "log: \(log.all)")
            #expect(ContinuousClock.now - deletedAt < .seconds(90))
            #expect(try await remoteFiles(sandbox, pod: newPod) == ["app.py", "message.txt"])
            // The log stream follows: the new process's first line arrives too.
            #expect(await eventually(20) { log.all.filter { $0 == "[main] serving first" }.count >= 2 }, "log: \(log.all)")
            let recorded = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "follow")
            #expect(recorded.annotations[SwapRecord.Key.proxyPod] == newPod, "swapdev restore finds the current pod")
            // Refused connections are this test polling before the new process listens.
            let unexpected = log.all.dropFirst(linesBeforeDeletion).filter { $0.contains("error:") && !$0.contains("connection refused") }
            #expect(unexpected.isEmpty, "a replacement is not an error: \(unexpected)")

            // A later edit syncs into the new pod and restarts its process.
            try project.write("message.txt", "second")
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/") == "second" }, "log: \(log.all)")
            #expect(await eventually(10) { log.contains("[main] serving second") }, "log: \(log.all)")

            task.cancel()
            try await task.value
            let after = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "follow")
            #expect(after[path: ["spec", "replicas"]]?.int == 1)
            #expect(RestoreCheck.differences(before: before, after: after).isEmpty)
            #expect(await eventually(30) {
                let pods = try? await sandbox.client.list(.pods, namespace: sandbox.namespace, labelSelector: SwapRecord.swapLabel)
                return pods?.items.isEmpty == true
            }, "every dev pod of the session is deleted")
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// The dev container restarts in place (its supervisor was killed, as by the OOM killer):
    /// the session syncs into it again and starts the process.
    @Test(.timeLimit(.minutes(5))) func restartedDevContainerIsSyncedAgain() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("crash", command: ["sh", "-c", "sleep 3600"])
            try project.write("app.py", Self.readerApp)
            try project.write("message.txt", "alive")
            let port = freePort()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "crash"), run: [DevSandbox.python, "app.py"],
                                     portForwards: [PortForwardSpec(local: port, remote: 8000)], workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            #expect(await eventually(60) { await httpGet("http://127.0.0.1:\(port)/") == "alive" }, "log: \(log.all)")
            let pod = try #require(try await devPod(sandbox, deployment: "crash"))
            // The sandbox's containers are host processes without a PID namespace of their own,
            // so "the container dies" is done by hand: the app's process group (the supervisor
            // put it in its own session), then the supervisor, as the kernel would kill them all.
            let kill = try await sandbox.client.execCollect(namespace: sandbox.namespace, pod: pod, container: "main", command: [
                "sh", "-c", "sup=$(cat \"$SWAPDEV_STATE/supervisor.pid\") && for c in $(pgrep -P \"$sup\"); do kill -KILL \"-$c\"; done; kill -KILL \"$sup\"",
            ])
            try #require(kill.exitCode == 0, "kill: \(kill.stderrText)")
            #expect(await eventually(60) { log.contains("container main of \(pod) restarted") }, "log: \(log.all)")
            #expect(await eventually(60) { log.contains("is in sync and its process started") }, "log: \(log.all)")
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/") == "alive" }, "log: \(log.all)")
            try project.write("message.txt", "again")
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/") == "again" }, "log: \(log.all)")
            task.cancel()
            try await task.value
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// Issue 7: "a 50,000-file tree works without running out of file descriptors". The whole
    /// session — scan, inotify on every directory, one tar stream over exec — is run on such
    /// a tree while this process's descriptors are sampled.
    @Test(.timeLimit(.minutes(15))) func fiftyThousandFileTreeSyncsWithFewDescriptors() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("big", command: ["sh", "-c", "sleep 3600"])
            // 50,000 files in 500 directories, written by python (much faster than a debug build).
            let maker = Process()
            maker.executableURL = URL(fileURLWithPath: DevSandbox.python)
            maker.arguments = ["-c", """
                import os, sys
                for d in range(500):
                    p = f"{sys.argv[1]}/d{d % 10}/e{d}"
                    os.makedirs(p, exist_ok=True)
                    for f in range(100):
                        with open(f"{p}/f{f}", "w") as out: out.write(f"{d}.{f}")
                """, project.url.path]
            try maker.run()
            await onThread { maker.waitUntilExit() }
            try #require(maker.terminationStatus == 0)
            let sampler = DescriptorSampler()
            let baseline = DescriptorSampler.count()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "big"), run: ["sleep", "3600"], logs: false, workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            let started = ContinuousClock.now
            // Debug build on a loaded 2-core VM: minutes, not seconds (the bench measures speed).
            try #require(await eventually(600) { log.contains("process started") || log.contains("run failed") },
                         "after \(ContinuousClock.now - started); log: \(log.all)")
            #expect(log.contains("initial sync: 50000 files"), "log: \(log.all)")
            let pod = try #require(try await devPod(sandbox, deployment: "big"))
            let count = try await sandbox.client.execCollect(namespace: sandbox.namespace, pod: pod, container: "main",
                                                             command: ["sh", "-c", "find /app -type f | wc -l"])
            #expect(count.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "50000")
            try project.write("d3/e203/f7", "changed")
            #expect(await eventually(30) { log.all.contains { $0.hasPrefix("swapdev: sync: 1 file") } }, "a watched deep file syncs; log: \(log.all)")
            let peak = sampler.stop()
            // Descriptors are per process, so other suites running meanwhile count too: the
            // bound is loose, but a descriptor per file or directory would be thousands.
            #expect(peak - baseline < 64, "descriptors: baseline \(baseline), peak \(peak)")
            task.cancel()
            try await task.value
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }
}

/// Samples this process's open descriptor count every 10 ms on a thread of its own.
final class DescriptorSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    private var running = true

    init() {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let now = Self.count()
                lock.withLock { peak = max(peak, now) }
                usleep(10_000)
            }
        }
    }

    static func count() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }

    /// Stops sampling; returns the highest count seen.
    func stop() -> Int {
        lock.withLock {
            running = false
            return peak
        }
    }
}
