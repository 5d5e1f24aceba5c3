import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

extension SandboxSafetyTests {
    /// What a swapdev killed with -9 leaves behind at each phase, rebuilt with the same objects
    /// swapdev makes, then undone by `swapdev restore` (``SwapRepair``).
    @Suite("restore after a crash, against the sandbox", .timeLimit(.minutes(5)))
    struct RepairSandboxTests {
        /// How far the dead swapdev got.
        enum Phase: String, CaseIterable {
            case recorded = "record written"
            case deadManObjects = "dead-man objects created"
            case proxyPod = "proxy pod created"
            case scaledDown = "original scaled to 0"
            case recordGone = "record removed, proxy and dead-man objects left"
        }

        static func record(id: String) -> SwapRecord {
            SwapRecord(id: id, originalReplicas: 1, container: "app", owner: "ghost@elsewhere", startedAt: Date(),
                       proxyPod: ProxyPodBuilder.podName(deployment: "web", shortID: String(id.prefix(6))))
        }

        /// Leaves the cluster as a swapdev that died right after `phase` would.
        static func leave(_ phase: Phase, id: String, in env: SafetySandbox) async throws {
            let client = env.client
            let record = Self.record(id: id)
            let deployment = try await client.get(.deployments, namespace: env.namespace, name: "web")
            _ = try await client.patch(.deployments, namespace: env.namespace, name: "web", type: .merge,
                                       patch: record.recordPatch(resourceVersion: deployment.resourceVersion ?? ""))
            if phase == .recorded { return }
            let deadMan = DeadManSwitch(client: client, plan: DeadManPlan(namespace: env.namespace, deployment: "web", record: record, timeoutSeconds: 600))
            try await deadMan.prepare()
            if phase == .deadManObjects { return }
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string(record.proxyPod), "labels": ["app": "web", SwapRecord.swapLabel: .string(id)]],
                "spec": ["containers": [["name": "app", "image": "example/web:1", "command": ["/bin/sleep", "3600"]]]],
            ]
            let created = try await client.create(.pods, namespace: env.namespace, object: deadMan.plan.augment(pod: pod, container: "app"))
            try await deadMan.adopt(podUID: created.uid ?? "")
            if phase == .proxyPod { return }
            _ = try await client.scale(deployment: "web", namespace: env.namespace, replicas: 0)
            if phase == .scaledDown { return }
            // The dead-man switch (or a restore) died after scaling back and removing the record.
            _ = try await client.scale(deployment: "web", namespace: env.namespace, replicas: 1)
            let latest = try await client.get(.deployments, namespace: env.namespace, name: "web")
            _ = try await client.patch(.deployments, namespace: env.namespace, name: "web", type: .merge,
                                       patch: SwapRecord.removalPatch(deployment: latest))
        }

        @Test func restoreUndoesEveryPhaseExactlyAndASecondRunChangesNothing() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                let before = try await env.snapshot()
                let repair = SwapRepair(client: env.client, timeout: .seconds(60), reporter: PhaseReporter(quiet: true))
                for (index, phase) in Phase.allCases.enumerated() {
                    try await Self.leave(phase, id: "c0ffee00000\(index)", in: env)
                    #expect(try await env.snapshot() != before, "\(phase.rawValue): the crash left something")
                    let changes = try await repair.restore(deployment: "web", namespace: env.namespace)
                    #expect(!changes.isEmpty, "\(phase.rawValue): restore reports what it changed")
                    try await env.client.waitFor(.deployments, namespace: env.namespace, name: "web", timeout: .seconds(30),
                                                 condition: WaitConditions.deploymentReady(replicas: 1))
                    let after = try await Self.settled(env, like: before)
                    #expect(after == before, "\(phase.rawValue): \(Self.differences(before, after))")
                    let again = try await repair.restore(deployment: "web", namespace: env.namespace)
                    #expect(again.isEmpty, "\(phase.rawValue): a second restore changed \(again)")
                }
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }

        @Test func restoreAllUndoesEverySwapOfTheNamespace() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                let before = try await env.snapshot()
                try await Self.leave(.scaledDown, id: "facade000001", in: env)
                let status = try await SwapStatus.fetch(client: env.client, namespace: "")
                #expect(status.map(\.deployment) == ["web"])
                #expect(status.first?.owner == "ghost@elsewhere")
                #expect(status.first?.health == .healthy)
                let changes = try await SwapRepair(client: env.client, timeout: .seconds(60), reporter: PhaseReporter(quiet: true))
                    .restoreAll(namespace: "")
                #expect(changes.contains { $0.contains("scaled deployment default/web from 0 back to 1") }, "\(changes)")
                let after = try await Self.settled(env, like: before)
                #expect(after == before, "\(Self.differences(before, after))")
                #expect(try await SwapStatus.fetch(client: env.client, namespace: "").isEmpty)
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }

        /// An original that cannot start no longer holds a restore for its whole timeout: the
        /// restore stops waiting once the kubelet says why, removes the proxy all the same, and
        /// names the pod and the reason.
        @Test func restoreStopsWaitingForAnOriginalThatCannotStart() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                try await Self.leave(.scaledDown, id: "badc0de00001", in: env)
                // While it is swapped out, the original's image goes bad (a release with a typo).
                _ = try await env.client.patch(.deployments, namespace: env.namespace, name: "web", type: .json, patch: [
                    ["op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "example/does-not-exist:2"],
                ])
                let timeout = Duration.seconds(90)
                let started = ContinuousClock.now
                do {
                    _ = try await SwapRepair(client: env.client, timeout: timeout, reporter: PhaseReporter(quiet: true))
                        .restore(deployment: "web", namespace: env.namespace)
                    Issue.record("the restore reported success for an original that cannot start")
                } catch SwapError.restoreIncomplete(_, _, let remaining) {
                    #expect(remaining.contains { $0.contains("the original cannot start") && $0.contains("ImagePull") }, "\(remaining)")
                }
                let waited = ContinuousClock.now - started
                #expect(waited < .seconds(30), "the restore waited \(waited) of its \(timeout)")
                let deployment = try await env.client.get(.deployments, namespace: env.namespace, name: "web")
                #expect(deployment[path: ["spec", "replicas"]]?.int == 1, "scaled back all the same")
                let proxies = try await env.client.list(.pods, namespace: env.namespace, labelSelector: SwapRecord.swapLabel).items
                #expect(proxies.isEmpty, "proxy left: \(proxies.compactMap(\.name))")
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }

        /// The snapshot once the garbage collector had a moment (it runs after the delete returns).
        static func settled(_ env: SafetySandbox, like expected: JSONValue) async throws -> JSONValue {
            _ = try await env.eventually(.seconds(15)) { try await env.snapshot() == expected }
            return try await env.snapshot()
        }

        /// `kind/name` of every object that differs, for failure messages.
        static func differences(_ before: JSONValue, _ after: JSONValue) -> String {
            var lines: [String] = []
            for kind in Set((before.object ?? [:]).keys).union((after.object ?? [:]).keys).sorted() {
                let left = before[kind]?.object ?? [:]
                let right = after[kind]?.object ?? [:]
                for name in Set(left.keys).union(right.keys).sorted() where left[name] != right[name] {
                    lines.append("\(kind)/\(name): \(left[name].map { $0.serializedString() } ?? "(absent)") → \(right[name].map { $0.serializedString() } ?? "(absent)")")
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
