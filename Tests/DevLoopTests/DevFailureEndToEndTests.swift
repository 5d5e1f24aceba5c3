import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SyncCore
import Testing
@testable import DevLoop

/// Issue 7's error cases on the sandbox: a container without `sh`, without `tar`, and a sync
/// that fails mid-session. Each: one clear line, the Deployment back exactly, no local change.
extension DevEndToEndTests {
    /// Runs a session that must fail before it gets going; returns its error after checking
    /// that the Deployment is exactly as before, no dev pod is left, and the local tree is untouched.
    func expectCleanFailure(_ sandbox: DevSandbox, deployment: String, options: DevOptions, project: Project,
                            sourceLocation: SourceLocation = #_sourceLocation) async throws -> DevError? {
        let before = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: deployment)
        let localBefore = try project.snapshot()
        let log = EventLog()
        let task = startSession(sandbox, options, log: log)
        var failure: DevError?
        do {
            try await task.value
            Issue.record("the session should have failed; log: \(log.all)", sourceLocation: sourceLocation)
        } catch let error as DevError {
            failure = error
        } catch {
            Issue.record("expected a DevError, got \(error); log: \(log.all)", sourceLocation: sourceLocation)
        }
        let after = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: deployment)
        #expect(RestoreCheck.differences(before: before, after: after).isEmpty, "\(RestoreCheck.differences(before: before, after: after))",
                sourceLocation: sourceLocation)
        #expect(after[path: ["spec", "replicas"]]?.int == 1, sourceLocation: sourceLocation)
        #expect(after.annotations.keys.allSatisfy { !$0.hasPrefix(SwapRecord.prefix) }, sourceLocation: sourceLocation)
        #expect(await eventually(30) { (try? await devPod(sandbox, deployment: deployment)) == nil }, sourceLocation: sourceLocation)
        #expect(log.contains("restored deployment \(deployment)"), "log: \(log.all)", sourceLocation: sourceLocation)
        #expect(try project.snapshot() == localBefore, "local files are never touched", sourceLocation: sourceLocation)
        if let failure {
            #expect(!"\(failure)".contains("\n"), "one line", sourceLocation: sourceLocation)
        }
        return failure
    }

    /// The container's `PATH` has no `sh` (as in a distroless image): the dev pod's supervisor
    /// cannot start, and the session says so at once instead of waiting for the pod.
    @Test(.timeLimit(.minutes(5))) func containerWithoutShellFailsWithOneClearLine() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        let noTools = try RestrictedToolbox(tools: [])
        defer { project.cleanup(); noTools.cleanup() }
        do {
            // The app's own command is absolute, so the original runs; `sh` resolves nowhere.
            try await sandbox.deploy("distroless", command: ["/bin/sleep", "3600"], environment: ["PATH": noTools.path])
            try project.write("main.go", "package main")
            try project.write("sub/data.txt", "data")
            let options = DevOptions(target: SwapTarget(deployment: "distroless"), logs: false, workingDirectory: project.url)
            let started = ContinuousClock.now
            let error = try await expectCleanFailure(sandbox, deployment: "distroless", options: options, project: project)
            if case .noShell(_, let container, _) = error {
                #expect(container == "main")
            } else {
                Issue.record("expected noShell, got \(String(describing: error))")
            }
            let text = "\(error.map { "\($0)" } ?? "")"
            #expect(text.contains("has no sh") && text.contains("--image") && text.contains("swapdev swap"), "\(text)")
            // Well under the 180 s start timeout: the container's failure ends the wait.
            #expect(ContinuousClock.now - started < .seconds(60))
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// `sh` is there but `tar` is not (a minimal image): the first exec finds out.
    @Test(.timeLimit(.minutes(5))) func containerWithoutTarFailsWithOneClearLine() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        // What the supervisor and the listing need, minus tar.
        let toolbox = try RestrictedToolbox(tools: ["sh", "mkdir", "sleep", "cat", "rm", "find", "stat"])
        defer { project.cleanup(); toolbox.cleanup() }
        do {
            try await sandbox.deploy("notar", command: ["/bin/sleep", "3600"], environment: ["PATH": toolbox.path])
            try project.write("index.html", "hello")
            let options = DevOptions(target: SwapTarget(deployment: "notar"), logs: false, workingDirectory: project.url)
            let error = try await expectCleanFailure(sandbox, deployment: "notar", options: options, project: project)
            if case .noTar(_, let container) = error {
                #expect(container == "main")
            } else {
                Issue.record("expected noTar, got \(String(describing: error))")
            }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("has no tar") && text.contains("--image") && text.contains("swapdev swap"), "\(text)")
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// A sync that fails mid-session (the volume behind a directory is full, so `tar` exits
    /// non-zero) is reported in one line; the session keeps watching, the next change syncs,
    /// and the local file that could not be sent is still there.
    @Test(.timeLimit(.minutes(5))) func failingSyncIsReportedAndTheSessionGoesOn() async throws {
        let sandbox = try await DevSandbox.start()
        let project = try Project()
        defer { project.cleanup() }
        do {
            try await sandbox.deploy("full", command: [DevSandbox.python, "-m", "http.server", "8000"])
            try project.write("index.html", "v1")
            let port = freePort()
            let log = EventLog()
            let options = DevOptions(target: SwapTarget(deployment: "full"), restart: false,
                                     portForwards: [PortForwardSpec(local: port, remote: 8000)], logs: false, workingDirectory: project.url)
            let task = startSession(sandbox, options, log: log)
            #expect(await eventually(60) { await httpGet("http://127.0.0.1:\(port)/index.html") == "v1" }, "log: \(log.all)")
            let pod = try #require(try await devPod(sandbox, deployment: "full"))
            // A 16 KiB tmpfs in the pod's own mount namespace: a disk that is full.
            let mount = try await sandbox.client.execCollect(namespace: sandbox.namespace, pod: pod, container: "main",
                                                             command: ["sh", "-c", "mkdir -p /app/tiny && mount -t tmpfs -o size=16k swapdev-test /app/tiny"])
            try #require(mount.exitCode == 0, "mount: \(mount.stderrText)")

            try project.write("tiny/big.bin", String(repeating: "x", count: 256 * 1024))
            #expect(await eventually(20) { log.contains("error: sync to /app in pod \(pod) failed") }, "log: \(log.all)")
            let errorLine = log.all.first { $0.contains("error: sync to /app") } ?? ""
            #expect(errorLine.contains("tar exited") && errorLine.contains("local files are untouched"), "\(errorLine)")
            #expect(!errorLine.contains("\n"))

            try project.write("index.html", "v2")
            #expect(await eventually(20) { await httpGet("http://127.0.0.1:\(port)/index.html") == "v2" }, "the session goes on; log: \(log.all)")
            #expect(try Data(contentsOf: project.url.appendingPathComponent("tiny/big.bin")).count == 256 * 1024)
            #expect(project.exists("index.html"))

            task.cancel()
            try await task.value
            let after = try await sandbox.client.get(.deployments, namespace: sandbox.namespace, name: "full")
            #expect(after[path: ["spec", "replicas"]]?.int == 1)
        } catch {
            Issue.record("sandbox log tail: \(sandbox.sandbox.log.suffix(4000))")
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }
}
