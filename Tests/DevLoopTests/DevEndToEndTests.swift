import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SyncCore
import Testing
@testable import DevLoop

/// `swapdev dev` against the sandbox cluster: real exec, tar, logs and port-forward.
/// Each test has its own time limit (a suite-wide one would be the ceiling for all of them).
@Suite(.serialized) struct DevEndToEndTests {
    func startSession(_ sandbox: DevSandbox, _ options: DevOptions, log: EventLog) -> Task<Void, any Error> {
        let session = DevSession(client: sandbox.client, options: options) { event in
            if case .synced = event {
                log.record(DevEventLike(text: event.description, isSync: true))
            } else {
                log.record(DevEventLike(text: event.description, isSync: false))
            }
        }
        return Task {
            do {
                try await session.run()
            } catch {
                log.record(DevEventLike(text: "run failed: \(error)", isSync: false))
                throw error
            }
        }
    }

    func remoteFiles(_ sandbox: DevSandbox, pod: String) async throws -> Set<String> {
        let result = try await sandbox.client.execCollect(namespace: sandbox.namespace, pod: pod, container: "main",
                                                          command: ["sh", "-c", "cd /app && find . -type f | sed 's|^./||'"])
        return Set(result.stdoutText.split(separator: "\n").map(String.init))
    }

    func devPod(_ sandbox: DevSandbox, deployment: String) async throws -> String? {
        let list = try await sandbox.client.list(.pods, namespace: sandbox.namespace, labelSelector: SwapRecord.swapLabel)
        return list.items.first { $0.annotations[SwapRecord.deploymentAnnotation] == deployment && $0[path: ["metadata", "deletionTimestamp"]] == nil }?.name
    }

    /// Static files served by `python3 -m http.server`: edits show without a restart, deletes
    /// disappear, ignored files never arrive, and the Deployment comes back exactly.
    @Test(.timeLimit(.minutes(5))) func staticServerShowsChangesWithoutRestart() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("static", command: [DevSandbox.python, "-m", "http.server", "8000"])
            let before = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "static")
            try project.write("index.html", "v1")
            try project.write("old.html", "old")
            try project.write(".gitignore", "secret.txt\nbuild/\n")
            try project.write("secret.txt", "do not ship")
            try project.write("build/out.bin", "artifact")
            try project.write("nested/.gitignore", "*.log\n")
            try project.write("nested/keep.txt", "kept")
            try project.write("nested/debug.log", "noise")
            let port = freePort()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "static"), restart: false,
                                     portForwards: [PortForwardSpec(local: port, remote: 8000)], workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            #expect(await eventually(60) { log.contains("process started") }, "log: \(log.all)")
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/index.html") == "v1" }, "log: \(log.all)\n\(sandbox.sandbox.log.suffix(3000))")
            let pod = try #require(try await devPod(sandbox, deployment: "static"))
            let files = try await remoteFiles(sandbox, pod: pod)
            #expect(files == ["index.html", "old.html", ".gitignore", "nested/.gitignore", "nested/keep.txt"])
            let scaled = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "static")
            #expect(scaled[path: ["spec", "replicas"]]?.int == 0)

            try project.write("index.html", "v2")
            #expect(await eventually(20) { await httpGet("http://127.0.0.1:\(port)/index.html") == "v2" }, "log: \(log.all)")
            try project.remove("old.html")
            #expect(await eventually(20) { await httpGet("http://127.0.0.1:\(port)/old.html") == nil })
            try project.write("nested/new.log", "ignored")
            try project.write("fresh/dir/page.html", "fresh")
            #expect(await eventually(20) { await httpGet("http://127.0.0.1:\(port)/fresh/dir/page.html") == "fresh" })
            #expect(await httpGet("http://127.0.0.1:\(port)/nested/new.log") == nil)
            #expect(log.all.contains { SyncLine($0).map { $0.files >= 1 && $0.restartedMs == nil } ?? false },
                    "with --no-restart the line ends at synced; log: \(log.all)")
            #expect(project.exists("secret.txt") && project.exists("index.html"), "local files are never touched")

            task.cancel()
            try await task.value
            let after = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "static")
            #expect(after[path: ["spec", "replicas"]]?.int == 1)
            #expect(RestoreCheck.differences(before: before, after: after).isEmpty)
            #expect(after.annotations.keys.allSatisfy { !$0.hasPrefix(SwapRecord.prefix) })
            #expect(await eventually(30) { (try? await devPod(sandbox, deployment: "static")) == nil })
            #expect(log.contains("restored deployment static"))
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// An app that reads its message once at start shows an edit only after the automatic restart.
    @Test(.timeLimit(.minutes(5))) func appReadingCodeAtStartIsRestarted() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("reader", command: ["sh", "-c", "sleep 3600"])
            try project.write("app.py", """
                import http.server
                message = open("message.txt").read()
                class H(http.server.BaseHTTPRequestHandler):
                    def do_GET(self):
                        body = message.encode()
                        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                    def log_message(self, *a): pass
                print("serving", message, flush=True)
                http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
                """)
            try project.write("message.txt", "first")
            // A tree of 2,000 small files goes along in the initial sync.
            for index in 0..<2000 { try project.write("data/d\(index % 20)/f\(index).txt", "\(index)") }
            let port = freePort()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "reader"), run: [DevSandbox.python, "app.py"],
                                     portForwards: [PortForwardSpec(local: port, remote: 8000)], workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            #expect(await eventually(60) { await httpGet("http://127.0.0.1:\(port)/") == "first" }, "log: \(log.all)")
            #expect(log.contains("initial sync: 2002 files"), "log: \(log.all)")
            let pod = try #require(try await devPod(sandbox, deployment: "reader"))
            #expect(try await remoteFiles(sandbox, pod: pod).count == 2002)
            #expect(await eventually(10) { log.contains("[main] serving first") }, "the container log is streamed with a prefix")

            try project.write("message.txt", "second")
            #expect(await eventually(30) { await httpGet("http://127.0.0.1:\(port)/") == "second" }, "log: \(log.all)")
            // Issue 7: one line per change with files, bytes, and save → synced → restarted times.
            let line = try #require(log.all.first { $0.hasPrefix("swapdev: sync: 1 file") }, "log: \(log.all)")
            let times = try #require(SyncLine(line), "not a sync line: \(line)")
            #expect(times.files == 1 && times.bytes == "6 B", "\(line)")
            #expect(times.restartedMs != nil && times.syncedMs <= times.restartedMs ?? -1, "\(line)")
            #expect(times.syncedMs < 30_000, "\(line)")

            task.cancel()
            try await task.value
            let after = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "reader")
            #expect(after[path: ["spec", "replicas"]]?.int == 1)
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// A remote path that cannot be written fails with a clear message and the cluster is put back.
    @Test(.timeLimit(.minutes(5))) func unwritableRemotePathFailsCleanly() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("ro", command: ["sh", "-c", "sleep 3600"])
            try project.write("a.txt", "a")
            let options = DevOptions(target: SwapTarget(deployment: "ro"), syncRules: [SyncRule(local: ".", remote: "/proc/swapdev")],
                                     run: ["sleep", "3600"], logs: false, workingDirectory: project.url)
            let error = try await expectCleanFailure(sandbox, deployment: "ro", options: options, project: project)
            if case .remoteNotWritable(_, let container, let path) = error {
                #expect(container == "main" && path == "/proc/swapdev")
            } else {
                Issue.record("expected remoteNotWritable, got \(String(describing: error))")
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("/proc/swapdev") && text.contains("not writable") && text.contains("mount a volume there"), "\(text)")
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }
}

/// A change's report line, `swapdev: sync: N file(s) (BYTES)[, D deleted] — save → synced T ms[ → restarted T ms]`, read back.
struct SyncLine {
    var files: Int
    var bytes: String
    var syncedMs: Int
    var restartedMs: Int?

    init?(_ line: String) {
        let pattern = #"^swapdev: sync: (\d+) files? \(([^)]+)\)(, \d+ deleted)? — save → synced (\d+) ms( → restarted (\d+) ms)?$"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { return nil }
        func group(_ index: Int) -> String? {
            Range(match.range(at: index), in: line).map { String(line[$0]) }
        }
        guard let files = group(1).flatMap(Int.init), let bytes = group(2), let synced = group(4).flatMap(Int.init) else { return nil }
        self.files = files
        self.bytes = bytes
        self.syncedMs = synced
        self.restartedMs = group(6).flatMap(Int.init)
    }
}
