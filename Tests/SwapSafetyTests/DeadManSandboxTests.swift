import Foundation
import KubeClient
import KubeModel
import SwapPlan
import SwapdevTesting
import Testing
@testable import SwapEngine

extension SandboxSafetyTests {
    /// The dead-man switch, heartbeat and guard fetcher against the sandbox: real API server,
    /// real `deadman.sh` and curl in a pod's network namespace, its own ServiceAccount token.
    @Suite("dead-man switch and heartbeat, against the sandbox", .timeLimit(.minutes(5)))
    struct DeadManSandboxTests {
        static let script = SSHDLauncher.repositoryRoot.appendingPathComponent("proxy-image/deadman.sh").path

        /// Records a swap, scales the original to 0 and starts a "proxy" pod that runs only
        /// deadman.sh with its credentials, like the proxy image does.
        static func swapWithDeadMan(_ env: SafetySandbox, id: String, timeout: Int) async throws -> DeadManSwitch {
            let client = env.client
            let record = SwapRecord(id: id, originalReplicas: 1, container: "app", owner: "me@laptop", startedAt: Date(),
                                    proxyPod: ProxyPodBuilder.podName(deployment: "web", shortID: String(id.prefix(6))))
            let deployment = try await client.get(.deployments, namespace: env.namespace, name: "web")
            _ = try await client.patch(.deployments, namespace: env.namespace, name: "web", type: .merge,
                                       patch: record.recordPatch(resourceVersion: deployment.resourceVersion ?? ""))
            let deadMan = DeadManSwitch(client: client, plan: DeadManPlan(namespace: env.namespace, deployment: "web", record: record, timeoutSeconds: timeout))
            try await deadMan.prepare()
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string(record.proxyPod), "labels": [SwapRecord.swapLabel: .string(id)]],
                "spec": ["containers": [[
                    "name": "app", "image": "example/web:1", "command": ["/bin/sh", .string(script)],
                    "env": [["name": "SWAPDEV_DEADMAN_INTERVAL", "value": "1"]],
                ]]],
            ]
            let created = try await client.create(.pods, namespace: env.namespace, object: deadMan.plan.augment(pod: pod, container: "app"))
            try await deadMan.adopt(podUID: created.uid ?? "")
            _ = try await client.scale(deployment: "web", namespace: env.namespace, replicas: 0)
            return deadMan
        }

        @Test func withoutAHeartbeatTheProxyRestoresTheOriginalAndRemovesItself() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "deadman.sh needs curl: apt-get install curl")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                let before = try await env.snapshot()
                let deadMan = try await Self.swapWithDeadMan(env, id: "deadbeef0001", timeout: 4)
                // The switch fires ~4 s after the last heartbeat change it saw; give it generous room.
                let restored = try await env.eventually(.seconds(60)) {
                    let deployment = try await env.client.get(.deployments, namespace: env.namespace, name: "web")
                    let pods = try await env.client.list(.pods, namespace: env.namespace, labelSelector: SwapRecord.swapLabel).items
                    return deployment.annotations[SwapRecord.Key.id] == nil && deployment[path: ["spec", "replicas"]] == 1 && pods.isEmpty
                }
                let podLog = (try? await env.client.logText(namespace: env.namespace, pod: deadMan.plan.record.proxyPod)) ?? "(pod gone)"
                #expect(restored, "the dead-man switch did not restore; its log: \(podLog)")
                try await env.client.waitFor(.deployments, namespace: env.namespace, name: "web", timeout: .seconds(30),
                                             condition: WaitConditions.deploymentReady(replicas: 1))
                // Its ServiceAccount, token, Role and RoleBinding went with the pod (ownerReferences).
                let after = try await RepairSandboxTests.settled(env, like: before)
                #expect(after == before, "\(RepairSandboxTests.differences(before, after))")
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }

        @Test func aLiveHeartbeatKeepsTheSwapAndALostRecordStopsIt() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                let id = "beefbeef0002"
                _ = try await Self.swapWithDeadMan(env, id: id, timeout: 4)
                let heartbeat = Heartbeat(client: env.client, namespace: env.namespace, deployment: "web", swapID: id, interval: .seconds(1))
                // Beat for longer than the dead-man timeout: the swap must stay.
                for _ in 0..<8 {
                    #expect(await heartbeat.beat() == .renewed)
                    try await Task.sleep(for: .seconds(1))
                }
                let deployment = try await env.client.get(.deployments, namespace: env.namespace, name: "web")
                #expect(deployment.annotations[SwapRecord.Key.id] == id, "the dead-man switch fired despite heartbeats")
                #expect(deployment[path: ["spec", "replicas"]] == 0)
                let status = try await SwapStatus.fetch(client: env.client, namespace: env.namespace)
                #expect(status.first?.health == .healthy)

                // Someone restores it: the next beat says so and writes nothing.
                _ = try await SwapRepair(client: env.client, timeout: .seconds(60), reporter: PhaseReporter(quiet: true))
                    .restore(deployment: "web", namespace: env.namespace)
                #expect(await heartbeat.beat() == .lost)
                let after = try await env.client.get(.deployments, namespace: env.namespace, name: "web")
                #expect(!after.annotations.keys.contains { $0.hasPrefix("swapdev.dev/") }, "\(after.annotations)")
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }

        @Test func theGuardFetcherSeesHPAsNoKEDAAndPermissions() async throws {
            try #require(geteuid() == 0, "the sandbox needs root (network namespaces); run the tests as root")
            let env = try await SafetySandbox.start()
            do {
                try await env.deployApp()
                _ = try await env.client.create(.horizontalPodAutoscalers, namespace: env.namespace, object: [
                    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
                    "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"], "minReplicas": 1, "maxReplicas": 3],
                ])
                let deployment = try await env.client.get(.deployments, namespace: env.namespace, name: "web")
                let input = await GuardFetcher(client: env.client, namespace: env.namespace).fetch(deployment: deployment, restoreAfter: .seconds(20))
                #expect(input.scaledObjects == nil, "the sandbox has no KEDA: a 404 on keda.sh means none")
                #expect(input.horizontalPodAutoscalers.count == 1)
                #expect(input.missingPermissions.isEmpty)
                #expect(input.missingDeadManPermissions.isEmpty)
                #expect(input.restoreAfter == 20)
                let report = SwapGuards.evaluate(input)
                #expect(report.findings.map(\.kind) == [.horizontalPodAutoscaler])
                #expect(!report.allows(force: false))
            } catch {
                Issue.record("\(error)\n--- sandbox log (tail) ---\n\(env.sandbox.log.suffix(3000))")
            }
            await env.stop()
        }
    }
}
