import Foundation
import KubeClient
import KubeModel
import Logging
import SwapPlan
import SyncCore

/// `swapdev dev`: swaps a Deployment for a dev pod, mirrors local trees into it and restarts
/// its process on every change, until the task running ``run()`` is cancelled; then restores.
///
/// Order of operations, as for `swapdev swap`: the swap record goes onto the Deployment first
/// (so `swapdev restore` can undo everything after a crash), then the dev pod is created and
/// must run before the original is scaled to 0 (make before break). On the way out the
/// original is scaled back, the pod deleted, the record removed, and the Deployment compared
/// with its state before the session.
///
/// ```swift
/// let session = DevSession(client: client, options: options) { print($0) }
/// let task = Task { try await session.run() }
/// // on Ctrl-C:
/// task.cancel(); try await task.value
/// ```
public final class DevSession: Sendable {
    public let client: KubeClient
    public let options: DevOptions
    private let report: @Sendable (DevEvent) -> Void
    private let logger: Logger

    /// - Parameter report: receives progress, one line per change, and the container's log.
    public init(client: KubeClient, options: DevOptions, logger: Logger = Logger(label: "swapdev.dev"),
                report: @escaping @Sendable (DevEvent) -> Void) {
        self.client = client
        self.options = options
        self.logger = logger
        self.report = report
    }

    private var namespace: String { options.namespace ?? client.namespace }

    /// Runs the session until cancelled. Errors before the dev pod runs are thrown after the
    /// cluster was put back; errors of single syncs are reported and the session goes on.
    public func run() async throws {
        let name = options.target.deployment
        let original = try await client.get(.deployments, namespace: namespace, name: name)
        if let existing = try SwapRecord(deployment: original) {
            throw DevError.alreadySwapped(deployment: name, owner: existing.owner)
        }
        let container = try options.target.selectContainer(in: original)
        let id = SwapRecord.makeID()
        let podName = DevPodBuilder.podName(deployment: name, record: SwapRecord(
            id: id, originalReplicas: 0, container: container, owner: "", startedAt: Date(), proxyPod: ""))
        let record = SwapRecord(id: id, originalReplicas: original[path: ["spec", "replicas"]]?.int ?? 1, container: container,
                                owner: SwapRecord.currentOwner(), startedAt: Date(), proxyPod: podName)
        let builder = DevPodBuilder(deployment: original, container: container, record: record, options: options)
        let pod = try builder.build()
        let rules = try builder.syncRules()
        for rule in rules {
            var isDirectory: ObjCBool = false
            let local = options.localRoot(of: rule)
            guard FileManager.default.fileExists(atPath: local.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DevError.localDirectoryMissing(local.path)
            }
        }
        let mirrors = rules.map { rule in
            Mirror(rule: rule, localRoot: options.localRoot(of: rule), ignorePatterns: options.ignore,
                   remote: RemoteTree(client: client, namespace: namespace, pod: podName, container: container, path: rule.remote))
        }

        _ = try await client.patch(.deployments, namespace: namespace, name: name, type: .merge,
                                   patch: record.recordPatch(resourceVersion: original.resourceVersion ?? ""))
        var failure: (any Error)?
        do {
            try await start(pod: pod, podName: podName, record: record)
            try await develop(mirrors: mirrors, podName: podName, container: container, stateDirectory: builder.stateDirectory, record: record)
        } catch is CancellationError {
            // Ctrl-C: the normal way out.
        } catch {
            failure = error
        }
        // An unstructured task is not cancelled with us, so the restore runs to its end.
        await Task { await self.restore(original: original, record: record, podName: podName) }.value
        if let failure { throw failure }
    }

    /// Creates the dev pod, waits for it to run, then scales the original to 0.
    private func start(pod: JSONValue, podName: String, record: SwapRecord) async throws {
        _ = try await client.create(.pods, namespace: namespace, object: pod)
        report(.info("dev pod \(podName) created; waiting for it to run"))
        do {
            try await client.waitFor(.pods, namespace: namespace, name: podName, timeout: .seconds(180), condition: Self.podRunning)
        } catch let error as KubeError {
            throw DevError.devPodFailed(pod: podName, detail: RemoteTree.oneLine(error))
        }
        _ = try await client.scale(deployment: options.target.deployment, namespace: namespace, replicas: 0)
        report(.info("deployment \(options.target.deployment) scaled to 0 (was \(record.originalReplicas)); \(podName) runs in its place"))
    }

    /// Running with every container started; failing phases end the wait with a reason.
    static let podRunning: @Sendable (JSONValue?) -> WaitResult = { pod in
        guard let pod else { return .waiting("pod does not exist") }
        let phase = pod[path: ["status", "phase"]]?.string ?? "Pending"
        guard phase == "Running" else { return .waiting("phase \(phase)") }
        let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
        if statuses.contains(where: { $0["state"]?["running"] == nil }) { return .waiting("containers not all running") }
        return .satisfied
    }

    /// Initial sync, process start, logs, port-forwards, then the watch loop until cancelled.
    private func develop(mirrors: [Mirror], podName: String, container: String, stateDirectory: String, record: SwapRecord) async throws {
        // Watch before the initial sync so edits made while it runs are not lost.
        let watchers = try mirrors.map { mirror in
            try FileWatcher(root: mirror.localRoot, ignores: mirror.ignores, mode: options.watchMode, quiet: options.debounce)
        }
        defer { for watcher in watchers { watcher.stop() } }
        for mirror in mirrors {
            let started = ContinuousClock.now
            let plan = try await mirror.initialSync()
            report(.synced(SyncSummary(uploadedFiles: plan.uploads.count, uploadedBytes: plan.uploadBytes, deletedPaths: 0,
                                       saveToSynced: ContinuousClock.now - started, saveToRestarted: nil, initial: true)))
        }
        try await signalSupervisor(podName: podName, container: container, stateDirectory: stateDirectory)
        report(.info("process started; watching \(mirrors.map { "\($0.rule)" }.joined(separator: ", ")) (\(watchers.first.map { "\($0.activeMode)" } ?? "-"))"))

        try await withThrowingTaskGroup(of: Void.self) { group in
            if options.logs {
                group.addTask { await self.followLogs(podName: podName, container: container) }
            }
            var forwarders: [PortForwarder] = []
            for spec in options.portForwards {
                let forwarder = try await client.portForward(namespace: namespace, pod: podName, remotePort: spec.remote, localPort: spec.local) { [report] error in
                    report(.error("port-forward \(spec): \(error)"))
                }
                forwarders.append(forwarder)
                report(.info("forwarding 127.0.0.1:\(forwarder.localPort) → \(podName):\(spec.remote)"))
            }
            group.addTask { await self.heartbeat(swapID: record.id) }
            group.addTask {
                try await self.watchLoop(watchers: watchers, mirrors: mirrors, podName: podName, container: container, stateDirectory: stateDirectory)
            }
            defer {
                let all = forwarders
                Task { for forwarder in all { await forwarder.stop() } }
            }
            // The watch loop ends only by cancellation or an error; either ends the session.
            try await group.next()
            group.cancelAll()
        }
    }

    private func watchLoop(watchers: [FileWatcher], mirrors: [Mirror], podName: String, container: String, stateDirectory: String) async throws {
        let (merged, continuation) = AsyncStream.makeStream(of: (Int, ChangeBatch).self)
        let forwarders = watchers.enumerated().map { index, watcher in
            Task { for await batch in watcher.batches { continuation.yield((index, batch)) } }
        }
        defer { for task in forwarders { task.cancel() } }
        for await (index, batch) in merged {
            try Task.checkCancellation()
            let mirror = mirrors[index]
            do {
                let plan = try await mirror.plan(for: batch)
                if plan.isEmpty { continue }
                try await mirror.apply(plan)
                let synced = Duration.since(batch.firstChangeAt)
                var restarted: Duration?
                if options.restart {
                    try await signalSupervisor(podName: podName, container: container, stateDirectory: stateDirectory)
                    restarted = Duration.since(batch.firstChangeAt)
                }
                report(.synced(SyncSummary(uploadedFiles: plan.uploads.count, uploadedBytes: plan.uploadBytes, deletedPaths: plan.deletions.count,
                                           saveToSynced: synced, saveToRestarted: restarted)))
            } catch {
                report(.error("\(error)"))
            }
        }
        try Task.checkCancellation()
    }

    /// First call: lets the supervisor start the process; later calls: restart it.
    private func signalSupervisor(podName: String, container: String, stateDirectory: String) async throws {
        let result = try await client.execCollect(namespace: namespace, pod: podName, container: container,
                                                  command: RemoteCommands.restart(stateDirectory: stateDirectory))
        guard result.exitCode == 0 else {
            throw DevError.syncFailed(pod: podName, path: stateDirectory, detail: "restart signal exited \(result.exitCode): \(RemoteTree.oneLine(result.stderrText))")
        }
    }

    private func followLogs(podName: String, container: String) async {
        do {
            var pending: [UInt8] = []
            for try await chunk in try await client.logs(namespace: namespace, pod: podName, container: container, follow: true) {
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    report(.log(container: container, line: String(decoding: pending[..<newline], as: UTF8.self)))
                    pending.removeSubrange(...newline)
                }
            }
        } catch is CancellationError {
        } catch {
            if !Task.isCancelled { report(.error("log stream of \(podName) ended: \(RemoteTree.oneLine(error))")) }
        }
        // Keep the task alive until cancelled so an ended log stream does not end the session.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Refreshes the record's heartbeat so others can tell a live session from a crashed one.
    private func heartbeat(swapID: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(30))
            if Task.isCancelled { break }
            _ = try? await client.patch(.deployments, namespace: namespace, name: options.target.deployment, type: .json,
                                        patch: Self.heartbeatPatch(swapID: swapID, at: Date()))
        }
    }

    /// A JSON patch that renews the heartbeat only while the record is still this session's: a
    /// late beat after `swapdev restore` must not put a stray annotation back (as swap's heartbeat).
    static func heartbeatPatch(swapID: String, at date: Date) -> JSONValue {
        func pointer(_ key: String) -> JSONValue {
            .string("/metadata/annotations/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1"))
        }
        let stamp = SwapRecord.heartbeatPatch(at: date)[path: ["metadata", "annotations", SwapRecord.Key.heartbeat]] ?? .null
        return [
            ["op": "test", "path": pointer(SwapRecord.Key.id), "value": .string(swapID)],
            ["op": "add", "path": pointer(SwapRecord.Key.heartbeat), "value": stamp],
        ]
    }

    /// Scales the original back, deletes the dev pod, removes the record, and checks the result.
    /// Each step is attempted even when an earlier one failed; failures are reported with the
    /// command that finishes the job.
    private func restore(original: JSONValue, record: SwapRecord, podName: String) async {
        let name = options.target.deployment
        var problems: [String] = []
        do {
            _ = try await client.scale(deployment: name, namespace: namespace, replicas: record.originalReplicas)
        } catch {
            problems.append("scaling back to \(record.originalReplicas): \(RemoteTree.oneLine(error))")
        }
        do {
            _ = try await client.delete(.pods, namespace: namespace, name: podName, gracePeriodSeconds: 0)
        } catch let error as KubeError where error.code == 404 {
        } catch {
            problems.append("deleting pod \(podName): \(RemoteTree.oneLine(error))")
        }
        do {
            let current = try await client.get(.deployments, namespace: namespace, name: name)
            _ = try await client.patch(.deployments, namespace: namespace, name: name, type: .merge,
                                       patch: SwapRecord.removalPatch(deployment: current))
            let after = try await client.get(.deployments, namespace: namespace, name: name)
            let differences = RestoreCheck.differences(before: original, after: after)
            if !differences.isEmpty { problems.append(RestoreCheck.summary(deployment: name, differences: differences)) }
        } catch {
            problems.append("removing the swap record: \(RemoteTree.oneLine(error))")
        }
        if problems.isEmpty {
            report(.info("restored deployment \(name) (\(record.originalReplicas) replica\(record.originalReplicas == 1 ? "" : "s")); dev pod \(podName) deleted"))
        } else {
            report(.error("restore of \(name) incomplete: \(problems.joined(separator: "; ")); run `swapdev restore \(name)`"))
        }
    }
}
