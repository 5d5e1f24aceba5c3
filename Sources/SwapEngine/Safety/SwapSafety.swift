import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// The guards stopped a swap; nothing in the cluster changed.
public struct SwapGuardError: Error, Sendable, CustomStringConvertible {
    public var findings: [GuardFinding]

    public init(findings: [GuardFinding]) { self.findings = findings }

    public var description: String {
        findings.map(\.message).joined(separator: "\n")
    }
}

/// What crash safety adds to a swap, as the few calls ``SwapSession`` makes at each phase:
/// guards before anything changes, `--restore-after` in the record, KEDA pause, the dead-man
/// switch around the proxy pod's creation, the heartbeat, and this swap's own clean-up.
public struct SwapSafety: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let restoreAfter: Duration
    public let force: Bool
    public let reporter: PhaseReporter

    public init(client: KubeClient, namespace: String, restoreAfter: Duration, force: Bool, reporter: PhaseReporter) {
        self.client = client
        self.namespace = namespace
        self.restoreAfter = restoreAfter
        self.force = force
        self.reporter = reporter
    }

    var restoreAfterSeconds: Int { max(1, Int(restoreAfter.components.seconds)) }

    /// Runs every guard on `deployment` (as read); throws ``SwapGuardError`` when one stops the
    /// swap, prints the warnings otherwise.
    public func checkGuards(deployment: JSONValue) async throws -> GuardReport {
        let input = await GuardFetcher(client: client, namespace: namespace).fetch(deployment: deployment, restoreAfter: restoreAfter)
        let report = SwapGuards.evaluate(input)
        guard report.allows(force: force) else { throw SwapGuardError(findings: report.blocking(force: force)) }
        for finding in report.warnings(force: force) { reporter.warning(finding.message) }
        return report
    }

    /// The record patch plus `swapdev.dev/restore-after`, so `swapdev status` knows the beat.
    public func recordPatch(_ record: SwapRecord, resourceVersion: String) -> JSONValue {
        var patch = record.recordPatch(resourceVersion: resourceVersion)
        patch[path: ["metadata", "annotations", DeadManPlan.restoreAfterAnnotation]] = .string(String(restoreAfterSeconds))
        return patch
    }

    /// Pauses the KEDA ScaledObjects the guards found (only reached with `--force`).
    public func pauseAutoscalers(_ report: GuardReport, record: SwapRecord) async throws {
        guard !report.scaledObjectsToPause.isEmpty else { return }
        let paused = try await SwapRepair(client: client, timeout: .seconds(30), reporter: reporter)
            .pauseScaledObjects(report.scaledObjectsToPause, namespace: namespace, swapID: record.id)
        reporter.line("✓ paused KEDA ScaledObject \(paused.joined(separator: ", ")) for the swap")
    }

    /// Creates the dead-man switch's objects and returns the proxy pod with its credentials and
    /// environment. When the switch cannot be made, warns and returns the pod unchanged.
    public func prepareDeadMan(_ report: GuardReport, record: SwapRecord, deployment: String, pod: JSONValue,
                               container: String) async -> (pod: JSONValue, deadMan: DeadManSwitch?)
    {
        guard report.deadManAvailable else { return (pod, nil) }
        let plan = DeadManPlan(namespace: namespace, deployment: deployment, record: record, timeoutSeconds: restoreAfterSeconds,
                               scaledObjects: report.scaledObjectsToPause)
        let deadMan = DeadManSwitch(client: client, plan: plan)
        do {
            try await deadMan.prepare()
        } catch {
            reporter.warning("no dead-man switch for this swap (\(error)); if swapdev dies, run: swapdev restore \(deployment) -n \(namespace)")
            await deadMan.remove()
            return (pod, nil)
        }
        return (plan.augment(pod: pod, container: container), deadMan)
    }

    /// Makes the created proxy pod the owner of the switch's objects.
    public func adopt(_ deadMan: DeadManSwitch?, createdPod: JSONValue) async {
        guard let deadMan, let uid = createdPod.uid else { return }
        do {
            try await deadMan.adopt(podUID: uid)
            reporter.line("✓ dead-man switch armed: the proxy restores the original after \(restoreAfterSeconds)s without a heartbeat")
        } catch {
            reporter.warning("the dead-man switch's objects could not be tied to the proxy pod (\(error)); swapdev restore removes them")
        }
    }

    /// The heartbeat of `record`, beating well inside `--restore-after`.
    public func heartbeat(_ record: SwapRecord, deployment: String) -> Heartbeat {
        Heartbeat(client: client, namespace: namespace, deployment: deployment, swapID: record.id,
                  interval: Heartbeat.interval(restoreAfter: restoreAfter))
    }

    /// After the restore: unpauses what this swap paused and removes its remaining objects.
    public func cleanUp(_ record: SwapRecord) async {
        let repair = SwapRepair(client: client, timeout: .seconds(30), reporter: reporter)
        do {
            for change in try await repair.removeLeftovers(namespace: namespace, swapID: record.id) { reporter.line("✓ \(change)") }
        } catch {
            reporter.warning("could not remove every object of swap \(record.id) (\(error)); run: swapdev restore --all -n \(namespace)")
        }
    }
}
