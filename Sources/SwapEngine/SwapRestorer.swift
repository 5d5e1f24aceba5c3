import Foundation
import KubeClient
import KubeModel
import Logging
import SwapPlan

/// What a restore did and found.
public struct RestoreReport: Sendable {
    public var deployment: String
    public var replicas: Int
    /// Differences between the Deployment before the swap and now; empty when exact.
    /// `nil` when there was no "before" to compare with (`swapdev restore` on another machine).
    public var differences: [JSONDifference]?
}

/// Undoes a swap, make-before-break: the original is scaled back and Ready and listed in the
/// Services' endpoints before the proxy goes; then the proxy is drained — relabelled so the
/// Services stop selecting it, and given a moment for requests already on their way — and only
/// then deleted, while the caller keeps the tunnel up (deleting at once would race kube-proxy:
/// the kubelet stops sshd while some nodes still route to it); then the annotations go and the
/// spec is checked.
///
/// Works from the Deployment's annotations alone, so `swapdev restore` on any machine can undo
/// a swap whose swapdev died.
public struct SwapRestorer: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let deployment: String
    public let timeout: Duration
    public let reporter: PhaseReporter

    public init(client: KubeClient, namespace: String, deployment: String, timeout: Duration, reporter: PhaseReporter) {
        self.client = client
        self.namespace = namespace
        self.deployment = deployment
        self.timeout = timeout
        self.reporter = reporter
    }

    /// Restores the Deployment recorded in its annotations.
    ///
    /// - Parameters:
    ///   - before: the Deployment as read before the swap, to verify the spec; `nil` skips it.
    ///   - fallbackRecord: the swap to undo when the annotations are already gone.
    ///   - beforeRemovingProxy: runs once the proxy no longer receives new traffic, before it is
    ///     deleted — where `swapdev swap` stops the local command after a signal, so no request
    ///     finds neither the original nor the local process.
    @discardableResult
    public func restore(before: JSONValue? = nil, fallbackRecord: SwapRecord? = nil,
                        beforeRemovingProxy: (@Sendable () async -> Void)? = nil) async throws -> RestoreReport {
        var remaining: [String] = []
        let current = try await client.get(.deployments, namespace: namespace, name: deployment)
        guard let record = try (SwapRecord(deployment: current) ?? fallbackRecord) else {
            throw SwapError.notSwapped(deployment: deployment)
        }

        try await reporter.phase("scale \(deployment) back to \(record.originalReplicas)",
                                 done: "original \(deployment) back with \(record.originalReplicas) ready replica(s)") {
            if current[path: ["spec", "replicas"]]?.int != record.originalReplicas {
                _ = try await client.scale(deployment: deployment, namespace: namespace, replicas: record.originalReplicas)
            }
            let podSelector = Self.podSelector(of: current)
            switch await waitForOriginal(replicas: record.originalReplicas, podSelector: podSelector) {
            case .ready:
                break
            case .timedOut(let reason):
                // Keep going: deleting the proxy still matters; report what is left.
                remaining.append("original not Ready within the timeout (\(reason))")
            case .stuck(let failure):
                remaining.append(failure.description)
            }
        }

        let pods = try await client.list(.pods, namespace: namespace, labelSelector: "\(SwapRecord.swapLabel)=\(record.id)").items
        let proxies = Set(pods.compactMap(\.name))
        let templateLabels = current[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        let endpoints = ServiceEndpoints(client: client, namespace: namespace, reporter: reporter)
        let services = proxies.isEmpty ? [] : await endpoints.services(selecting: templateLabels)
        if record.originalReplicas > 0, !services.isEmpty {
            // Make-before-break: the Services list the original's pods again before the proxy goes.
            try await reporter.phase("wait for the Service endpoints", done: "original listed in the endpoints of \(services.joined(separator: ", "))") {
                let listed = await endpoints.waitUntil(services: services, timeout: timeout,
                                                       describe: "the original is in the endpoints of \(services.joined(separator: ", "))") {
                    $0.contains { !proxies.contains($0) }
                }
                if !listed { remaining.append("the original never appeared in the endpoints of \(services.joined(separator: ", "))") }
            }
        }
        if !services.isEmpty {
            await drain(proxies: proxies, templateLabels: templateLabels, services: services, endpoints: endpoints)
        }
        await beforeRemovingProxy?()

        try await reporter.phase("delete proxy pod", done: "proxy pod gone") {
            for pod in pods {
                guard let name = pod.name else { continue }
                _ = try? await client.delete(.pods, namespace: namespace, name: name)
            }
            for pod in pods {
                guard let name = pod.name else { continue }
                do {
                    try await client.waitFor(.pods, namespace: namespace, name: name, timeout: timeout, condition: WaitConditions.deleted)
                } catch {
                    remaining.append("proxy pod \(name) still exists")
                }
            }
        }

        let after = try await reporter.phase("remove swap annotations", done: "swap record removed") {
            let latest = try await client.get(.deployments, namespace: namespace, name: deployment)
            return try await client.patch(.deployments, namespace: namespace, name: deployment, type: .merge,
                                          patch: SwapRecord.removalPatch(deployment: latest))
        }

        var differences: [JSONDifference]?
        if let before {
            let found = RestoreCheck.differences(before: before, after: after)
            differences = found
            if found.isEmpty {
                reporter.line("✓ \(RestoreCheck.summary(deployment: deployment, differences: found))")
            } else {
                reporter.warning(RestoreCheck.summary(deployment: deployment, differences: found))
            }
        } else if let expected = record.specFingerprint {
            // No snapshot here (another machine, or a later swapdev): the recorded digest still tells.
            let actual = RestoreCheck.fingerprint(after)
            differences = actual == expected ? [] : [JSONDifference(path: "spec", before: .string(expected), after: .string(actual))]
            if actual == expected {
                reporter.line("✓ deployment \(deployment) matches the spec recorded before the swap")
            } else {
                reporter.warning("deployment \(deployment) differs from the spec recorded before the swap (fingerprint \(expected) → \(actual))")
            }
        }
        if !remaining.isEmpty {
            throw SwapError.restoreIncomplete(deployment: deployment, namespace: namespace, remaining: remaining)
        }
        return RestoreReport(deployment: deployment, replicas: record.originalReplicas, differences: differences)
    }

    /// How long a drained proxy keeps its tunnel for requests that were already routed to it.
    static let drainGrace = Duration.milliseconds(1500)

    /// Takes the proxy out of the Services without stopping it: the template labels go (the
    /// swap label stays, so `swapdev restore` and the dead-man switch still find it), the
    /// endpoints drop it, and requests already on their way finish over the tunnel. Best effort:
    /// without `patch` on pods the proxy is simply deleted, as before.
    private func drain(proxies: Set<String>, templateLabels: [String: String], services: [String],
                       endpoints: ServiceEndpoints) async {
        var removal: [String: JSONValue] = [:]
        for key in templateLabels.keys where key != SwapRecord.swapLabel { removal[key] = .null }
        guard !removal.isEmpty else { return }
        do {
            try await reporter.phase("drain proxy", done: "proxy out of the endpoints of \(services.joined(separator: ", "))") {
                for pod in proxies {
                    _ = try await client.patch(.pods, namespace: namespace, name: pod, type: .merge,
                                               patch: ["metadata": ["labels": .object(removal)]])
                }
                _ = await endpoints.waitUntil(services: services, timeout: .seconds(30),
                                              describe: "the proxy leaves the endpoints of \(services.joined(separator: ", "))") {
                    !$0.contains(where: proxies.contains)
                }
                try? await Task.sleep(for: Self.drainGrace)
            }
        } catch {
            reporter.warning("cannot take the proxy out of the Services before deleting it (\(error)); requests in flight may fail")
        }
    }

    /// How the wait for the original ended.
    private enum OriginalWait {
        case ready
        /// The timeout passed; the last reason the Deployment was not Ready.
        case timedOut(String)
        /// The kubelet says a pod cannot start without a change: waiting longer is pointless.
        case stuck(OriginalStartFailure)
    }

    /// How often the original's pods are read for a reason to stop waiting (the Deployment
    /// itself is polled every 200 ms). A pod must be stuck at two checks in a row: a registry
    /// hiccup can show one ErrImagePull that the next pull clears.
    static let podCheckInterval: Duration = .seconds(1)

    /// Polls until the Deployment has `replicas` ready pods, the timeout passes, or one of its
    /// pods (`podSelector`; nil skips the check) cannot start. Polling (not a watch) so each
    /// reason change shows as progress.
    private func waitForOriginal(replicas: Int, podSelector: String?) async -> OriginalWait {
        let condition = WaitConditions.deploymentReady(replicas: replicas)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var nextPodCheck = clock.now + Self.podCheckInterval
        var suspect: OriginalStartFailure?
        var last = ""
        while clock.now < deadline {
            let object = try? await client.get(.deployments, namespace: namespace, name: deployment)
            switch condition(object) {
            case .satisfied:
                return .ready
            case .waiting(let reason):
                if reason != last { reporter.progress("original: \(reason)") }
                last = reason
            }
            if let podSelector, clock.now >= nextPodCheck {
                nextPodCheck = clock.now + Self.podCheckInterval
                let pods = (try? await client.list(.pods, namespace: namespace, labelSelector: podSelector).items) ?? []
                let failure = OriginalStartFailure.first(in: pods)
                if let failure, let suspect, suspect.pod == failure.pod, suspect.container == failure.container {
                    return .stuck(failure)
                }
                suspect = failure
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return .timedOut(last)
    }

    /// The label selector of the Deployment's pods (`matchLabels`; nil when it has none, e.g.
    /// only `matchExpressions` — the pod check is then skipped, not guessed).
    static func podSelector(of deployment: JSONValue) -> String? {
        guard let labels = deployment[path: ["spec", "selector", "matchLabels"]]?.stringMap, !labels.isEmpty else { return nil }
        return labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
