import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SyncCore

/// The pod keeper: swapdev is the dev pod's only controller (the Deployment is scaled to 0),
/// so when the pod is deleted, evicted or ends, swapdev makes the next one — and, like
/// Skaffold and Tilt following a new pod, syncs into it, starts the process, and moves the
/// log stream and the port-forwards over to it.
extension DevSession {
    /// Replacements that end before a pod lived this long count as "in a row".
    static let shortLivedPod: Duration = .seconds(60)
    /// More replacements in a row than this end the session: something keeps deleting them.
    static let maxReplacementsInARow = 5

    /// Syncs into the first pod, then follows it; replaces it when it is gone and syncs again
    /// after the dev container restarted in place. Returns only by throwing.
    func keepDevPod(first: DevPodBuilder, firstRestarts: Int, mirrors: [Mirror], container: String,
                    record: SwapRecord, slot: DevPodSlot, watchMode: String) async throws {
        var builder = first
        var restarts = firstRestarts
        var needsStart = false
        var localPorts = options.portForwards.map(\.local)
        var replacementsInARow = 0
        while true {
            try Task.checkCancellation()
            var instance = DevPodInstance(name: builder.podName, generation: builder.generation,
                                          stateDirectory: builder.stateDirectory, restartCount: restarts)
            let attachedAt = ContinuousClock.now
            let change: DevPodChange
            do {
                if needsStart {
                    instance.restartCount = try await waitUntilRunning(instance.name, container: container, restartBaseline: restarts)
                }
                let attachment = try await attach(instance, mirrors: mirrors, container: container, slot: slot, localPorts: &localPorts)
                if instance.generation == 1 && instance.restartCount == firstRestarts {
                    report(.info("process started; watching \(mirrors.map { "\($0.rule)" }.joined(separator: ", ")) (\(watchMode))"))
                } else {
                    report(.info("\(instance.name) is in sync and its process started; logs and port-forwards follow it"))
                }
                do {
                    change = try await follow(instance, container: container)
                } catch {
                    slot.withdraw()
                    await attachment.detach()
                    throw error
                }
                slot.withdraw()
                await attachment.detach()
            } catch {
                slot.withdraw()
                if Task.isCancelled || error is CancellationError || Self.isAboutTheContainer(error) { throw error }
                // A pod that disappears while it is being synced is replaced like any other;
                // every other failure ends the session.
                guard let gone = await currentChange(of: instance, container: container) else { throw error }
                change = gone
            }
            replacementsInARow = ContinuousClock.now - attachedAt < Self.shortLivedPod ? replacementsInARow + 1 : 1
            if replacementsInARow > Self.maxReplacementsInARow {
                throw DevError.devPodKeepsDisappearing(deployment: options.target.deployment, replacements: replacementsInARow - 1,
                                                       lastReason: "\(instance.name): \(change)")
            }
            switch change {
            case .containerRestarted(let count):
                report(.info("container \(container) of \(instance.name) restarted (restart count \(count)); syncing into it again"))
                restarts = count
                needsStart = true
            case .gone(let reason):
                builder = builder.nextGeneration()
                report(.info("dev pod \(instance.name) \(reason); replacing it with \(builder.podName)"))
                try await createReplacement(builder, record: record)
                restarts = 0
                needsStart = true
            }
        }
    }

    /// Failures that a new pod from the same template would hit again: they end the session.
    static func isAboutTheContainer(_ error: any Error) -> Bool {
        switch error as? DevError {
        case .noShell, .noTar, .remoteNotWritable: return true
        default: return false
        }
    }

    /// Creates the next dev pod and points the swap record at it (`swapdev restore` and
    /// `swapdev status` read the pod name there; cleanup finds every pod by its label anyway).
    private func createReplacement(_ builder: DevPodBuilder, record: SwapRecord) async throws {
        _ = try await client.create(.pods, namespace: namespace, object: try builder.build())
        _ = try? await client.patch(.deployments, namespace: namespace, name: options.target.deployment, type: .merge,
                                    patch: ["metadata": ["annotations": [SwapRecord.Key.proxyPod: .string(builder.podName)]]])
    }

    /// Initial sync, process start, then log stream and port-forwards against `instance`.
    /// `localPorts` keeps the ports bound by the first pod so a replacement reuses them.
    private func attach(_ instance: DevPodInstance, mirrors: [Mirror], container: String, slot: DevPodSlot,
                        localPorts: inout [Int]) async throws -> PodAttachment {
        for mirror in mirrors {
            let started = ContinuousClock.now
            let plan = try await mirror.initialSync(into: instance.name)
            report(.synced(SyncSummary(uploadedFiles: plan.uploads.count, uploadedBytes: plan.uploadBytes, deletedPaths: 0,
                                       saveToSynced: ContinuousClock.now - started, saveToRestarted: nil, initial: true)))
        }
        try await signalSupervisor(instance, container: container)
        slot.publish(instance)
        let logs = options.logs ? Task { await self.followLogs(instance, container: container, slot: slot) } : nil
        let attachment = PodAttachment(logs: logs)
        for (index, spec) in options.portForwards.enumerated() {
            let forwarder: PortForwarder
            do {
                forwarder = try await client.portForward(namespace: namespace, pod: instance.name, remotePort: spec.remote,
                                                         localPort: localPorts[index]) { [report] error in
                    // Connections cut by the pod going away are expected: report an error only
                    // if the pod is still in use a moment later (the keeper has noticed by then).
                    Task {
                        try? await Task.sleep(for: .seconds(1))
                        if slot.isCurrent(instance) { report(.error("port-forward \(spec): \(error)")) }
                    }
                }
            } catch {
                await attachment.detach()
                throw error
            }
            attachment.add(forwarder)
            if localPorts[index] == 0 || instance.generation == 1 {
                report(.info("forwarding 127.0.0.1:\(forwarder.localPort) → \(instance.name):\(spec.remote)"))
            }
            localPorts[index] = forwarder.localPort
        }
        return attachment
    }

    /// Watches the pod until it is gone or its dev container restarted. Watch failures fall
    /// back to a read every second, so a flaky connection never hides a deleted pod.
    private func follow(_ instance: DevPodInstance, container: String) async throws -> DevPodChange {
        while true {
            let pod: JSONValue?
            do {
                pod = try await client.get(.pods, namespace: namespace, name: instance.name)
            } catch KubeError.notFound {
                pod = nil
            } catch {
                try Task.checkCancellation()
                try await Task.sleep(for: .seconds(1))
                continue
            }
            if let change = DevPodState.change(of: pod, container: container, restartBaseline: instance.restartCount) { return change }
            do {
                for try await event in client.watch(.pods, namespace: namespace, name: instance.name, resourceVersion: pod?.resourceVersion) {
                    let seen = event.type == .deleted ? nil : event.object
                    if let change = DevPodState.change(of: seen, container: container, restartBaseline: instance.restartCount) {
                        return change
                    }
                }
            } catch {
                try Task.checkCancellation()
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// How the pod changed since `instance` was synced, read now; `nil` when it is unchanged or cannot be read.
    func currentChange(of instance: DevPodInstance, container: String) async -> DevPodChange? {
        do {
            let pod = try await client.get(.pods, namespace: namespace, name: instance.name)
            return DevPodState.change(of: pod, container: container, restartBaseline: instance.restartCount)
        } catch KubeError.notFound {
            return .gone("was deleted")
        } catch {
            return nil
        }
    }

    /// Whether the pod (or its container incarnation) a sync was aimed at is no longer usable.
    func isGone(_ instance: DevPodInstance, container: String) async -> Bool {
        await currentChange(of: instance, container: container) != nil
    }
}

/// What a session keeps running against one dev pod: its log stream and port-forwards.
final class PodAttachment: @unchecked Sendable {
    private let lock = NSLock()
    private let logs: Task<Void, Never>?
    private var forwarders: [PortForwarder] = []

    init(logs: Task<Void, Never>?) {
        self.logs = logs
    }

    func add(_ forwarder: PortForwarder) { lock.withLock { forwarders.append(forwarder) } }

    /// Stops the log stream and closes the listening sockets (so the ports can be bound again).
    func detach() async {
        logs?.cancel()
        for forwarder in lock.withLock({ forwarders }) { await forwarder.stop() }
    }
}
