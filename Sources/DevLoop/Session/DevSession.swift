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
    let report: @Sendable (DevEvent) -> Void
    private let logger: Logger

    /// - Parameter report: receives progress, one line per change, and the container's log.
    public init(client: KubeClient, options: DevOptions, logger: Logger = Logger(label: "swapdev.dev"),
                report: @escaping @Sendable (DevEvent) -> Void) {
        self.client = client
        self.options = options
        self.logger = logger
        self.report = report
    }

    var namespace: String { options.namespace ?? client.namespace }

    /// Runs the session until cancelled. Errors before the dev pod runs are thrown after the
    /// cluster was put back; errors of single syncs are reported and the session goes on; a
    /// dev pod that disappears is replaced (see ``keepDevPod(first:firstRestarts:mirrors:container:record:slot:watchMode:)``).
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
                   client: client, namespace: namespace, container: container)
        }

        _ = try await client.patch(.deployments, namespace: namespace, name: name, type: .merge,
                                   patch: record.recordPatch(resourceVersion: original.resourceVersion ?? ""))
        var failure: (any Error)?
        do {
            let restarts = try await start(pod: pod, podName: podName, container: container, record: record)
            try await develop(first: builder, firstRestarts: restarts, mirrors: mirrors, container: container, record: record)
        } catch is CancellationError {
            // Ctrl-C: the normal way out.
        } catch {
            failure = error
        }
        // An unstructured task is not cancelled with us, so the restore runs to its end.
        await Task { await self.restore(original: original, record: record, podName: podName) }.value
        if let failure { throw failure }
    }

    /// Creates the dev pod, waits for it to run, then scales the original to 0; returns the
    /// dev container's restart count.
    private func start(pod: JSONValue, podName: String, container: String, record: SwapRecord) async throws -> Int {
        _ = try await client.create(.pods, namespace: namespace, object: pod)
        report(.info("dev pod \(podName) created; waiting for it to run"))
        let restarts = try await waitUntilRunning(podName, container: container, restartBaseline: 0)
        _ = try await client.scale(deployment: options.target.deployment, namespace: namespace, replicas: 0)
        report(.info("deployment \(options.target.deployment) scaled to 0 (was \(record.originalReplicas)); \(podName) runs in its place"))
        return restarts
    }

    /// Waits until every container of the pod runs; returns the dev container's restart count.
    /// A container that cannot start ends the wait at once with the runtime's reason, and a
    /// missing `sh` (the supervisor's interpreter) is named as such.
    func waitUntilRunning(_ podName: String, container: String, restartBaseline: Int) async throws -> Int {
        let seen: JSONValue?
        do {
            seen = try await client.waitFor(.pods, namespace: namespace, name: podName, timeout: .seconds(180)) { pod in
                if case .starting(let reason) = DevPodState.of(pod, container: container, restartBaseline: restartBaseline) {
                    return .waiting(reason)
                }
                return .satisfied
            }
        } catch let error as KubeError {
            throw DevError.devPodFailed(pod: podName, detail: RemoteTree.oneLine(error))
        }
        switch DevPodState.of(seen, container: container, restartBaseline: restartBaseline) {
        case .running(let restarts):
            return restarts
        case .failedToStart(let detail, let missingShell):
            if missingShell { throw DevError.noShell(pod: podName, container: container, detail: detail) }
            throw DevError.devPodFailed(pod: podName, detail: detail)
        case .gone(let reason):
            throw DevError.devPodFailed(pod: podName, detail: "it \(reason)")
        case .starting(let reason):
            throw DevError.devPodFailed(pod: podName, detail: reason)
        }
    }

    /// Watches before the initial sync (so edits made while it runs are not lost), then runs
    /// the pod keeper (sync, process, logs, ports; replacements), the watch loop and the
    /// heartbeat until cancelled or one of them fails.
    private func develop(first builder: DevPodBuilder, firstRestarts: Int, mirrors: [Mirror], container: String, record: SwapRecord) async throws {
        let watchers = try mirrors.map { mirror in
            try FileWatcher(root: mirror.localRoot, ignores: mirror.ignores, mode: options.watchMode, quiet: options.debounce)
        }
        defer { for watcher in watchers { watcher.stop() } }
        let slot = DevPodSlot()
        let watchMode = watchers.first.map { "\($0.activeMode)" } ?? "-"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.keepDevPod(first: builder, firstRestarts: firstRestarts, mirrors: mirrors, container: container,
                                          record: record, slot: slot, watchMode: watchMode)
            }
            group.addTask { try await self.watchLoop(watchers: watchers, mirrors: mirrors, container: container, slot: slot) }
            group.addTask { await self.heartbeat(swapID: record.id) }
            // Each task ends only by cancellation or an error; either ends the session.
            try await group.next()
            group.cancelAll()
        }
    }

    private func watchLoop(watchers: [FileWatcher], mirrors: [Mirror], container: String, slot: DevPodSlot) async throws {
        let (merged, continuation) = AsyncStream.makeStream(of: (Int, ChangeBatch).self)
        let forwarders = watchers.enumerated().map { index, watcher in
            Task { for await batch in watcher.batches { continuation.yield((index, batch)) } }
        }
        defer { for task in forwarders { task.cancel() } }
        for await (index, batch) in merged {
            try Task.checkCancellation()
            var pod = try await slot.ready()
            do {
                try await sync(batch, with: mirrors[index], into: pod, container: container)
            } catch {
                if Task.isCancelled { throw CancellationError() }
                guard await isGone(pod, container: container) else {
                    report(.error("\(error)"))
                    continue
                }
                // The pod went away mid-sync: sync the change into its replacement instead
                // (whose initial sync may already have sent it; sending it again is harmless).
                pod = try await slot.ready(replacing: pod)
                do {
                    try await sync(batch, with: mirrors[index], into: pod, container: container)
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    report(.error("\(error)"))
                }
            }
        }
        try Task.checkCancellation()
    }

    /// Syncs one batch of changes and restarts the process; reports one line.
    private func sync(_ batch: ChangeBatch, with mirror: Mirror, into pod: DevPodInstance, container: String) async throws {
        let plan = try await mirror.plan(for: batch, in: pod.name)
        if plan.isEmpty { return }
        try await mirror.apply(plan, to: pod.name)
        let synced = Duration.since(batch.firstChangeAt)
        var restarted: Duration?
        if options.restart {
            try await signalSupervisor(pod, container: container)
            restarted = Duration.since(batch.firstChangeAt)
        }
        report(.synced(SyncSummary(uploadedFiles: plan.uploads.count, uploadedBytes: plan.uploadBytes, deletedPaths: plan.deletions.count,
                                   saveToSynced: synced, saveToRestarted: restarted)))
    }

    /// First call: lets the supervisor start the process; later calls: restart it.
    func signalSupervisor(_ pod: DevPodInstance, container: String) async throws {
        let result = try await client.execCollect(namespace: namespace, pod: pod.name, container: container,
                                                  command: RemoteCommands.restart(stateDirectory: pod.stateDirectory))
        guard result.exitCode == 0 else {
            throw DevError.syncFailed(pod: pod.name, path: pod.stateDirectory,
                                      detail: "restart signal exited \(result.exitCode): \(RemoteTree.oneLine(result.stderrText))")
        }
    }

    /// Streams the container's log until the stream ends or the task is cancelled. An end is
    /// reported only while the pod is still the session's (a replaced pod's log just stops).
    func followLogs(_ pod: DevPodInstance, container: String, slot: DevPodSlot) async {
        do {
            var pending: [UInt8] = []
            for try await chunk in try await client.logs(namespace: namespace, pod: pod.name, container: container, follow: true) {
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    report(.log(container: container, line: String(decoding: pending[..<newline], as: UTF8.self)))
                    pending.removeSubrange(...newline)
                }
            }
        } catch is CancellationError {
        } catch {
            if !Task.isCancelled && slot.isCurrent(pod) {
                report(.error("log stream of \(pod.name) ended: \(RemoteTree.oneLine(error))"))
            }
        }
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
        // Every dev pod of the session: replacements have names of their own.
        var pods: Set<String> = [podName]
        if let list = try? await client.list(.pods, namespace: namespace, labelSelector: "\(SwapRecord.swapLabel)=\(record.id)") {
            pods.formUnion(list.items.compactMap(\.name))
        }
        for pod in pods.sorted() {
            do {
                _ = try await client.delete(.pods, namespace: namespace, name: pod, gracePeriodSeconds: 0)
            } catch let error as KubeError where error.code == 404 {
            } catch {
                problems.append("deleting pod \(pod): \(RemoteTree.oneLine(error))")
            }
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
            report(.info("restored deployment \(name) (\(record.originalReplicas) replica\(record.originalReplicas == 1 ? "" : "s")); dev pod\(pods.count == 1 ? "" : "s") \(pods.sorted().joined(separator: ", ")) deleted"))
        } else {
            report(.error("restore of \(name) incomplete: \(problems.joined(separator: "; ")); run `swapdev restore \(name)`"))
        }
    }
}
