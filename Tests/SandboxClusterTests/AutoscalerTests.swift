import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

@Suite("Controllers: HorizontalPodAutoscaler", .serialized, .timeLimit(.minutes(1)))
struct AutoscalerTests {
    private let deploymentPath = "/apis/apps/v1/namespaces/default/deployments/web"
    private let hpaPath = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web"

    private func hpa(min: Int, max: Int) -> JSONValue {
        [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "web"],
            "spec": [
                "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"],
                "minReplicas": .int(Int64(min)), "maxReplicas": .int(Int64(max)),
            ],
        ]
    }

    private func condition(_ sandbox: TestCluster, _ type: String) async -> (status: String, reason: String)? {
        let hpa = await sandbox.call("GET", hpaPath).body
        guard let found = (hpa[path: ["status", "conditions"]]?.array ?? []).first(where: { $0["type"]?.string == type }) else { return nil }
        return (found["status"]?.string ?? "", found["reason"]?.string ?? "")
    }

    private func replicas(_ sandbox: TestCluster) async -> Int? {
        await sandbox.call("GET", deploymentPath).body[path: ["spec", "replicas"]]?.int
    }

    private func scale(_ sandbox: TestCluster, to replicas: Int) async {
        let answer = await sandbox.patch(deploymentPath + "/scale", #"{"spec":{"replicas":\#(replicas)}}"#, contentType: "application/merge-patch+json")
        #expect(answer.code == 200, "\(answer.body)")
    }

    @Test func keepsReplicasWithinBoundsAndStandsStillAtZero() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment("web", replicas: 1))
        #expect(await sandbox.call("POST", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", hpa(min: 2, max: 4)).code == 201)

        // Below minReplicas: raised to it, and the status says so.
        #expect(await sandbox.eventually("scaled up to minReplicas") { await replicas(sandbox) == 2 })
        #expect(await sandbox.eventually("ScalingActive True") { await condition(sandbox, "ScalingActive")?.status == "True" })
        #expect(await sandbox.eventually("status counts the pods") {
            let status = await sandbox.call("GET", hpaPath).body["status"]
            return status?["desiredReplicas"]?.int == 2 && status?["currentReplicas"]?.int == 2 && status?["lastScaleTime"] != nil
        })
        let events = await sandbox.call("GET", "/api/v1/namespaces/default/events").body["items"]?.array ?? []
        #expect(events.contains { $0["reason"]?.string == "SuccessfulRescale" && $0[path: ["involvedObject", "kind"]]?.string == "HorizontalPodAutoscaler" })

        // Above maxReplicas: lowered to it.
        await scale(sandbox, to: 7)
        #expect(await sandbox.eventually("scaled down to maxReplicas") { await replicas(sandbox) == 4 })
        // Within the bounds: left alone (no metrics, so no scaling on load).
        await scale(sandbox, to: 3)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await replicas(sandbox) == 3)
        #expect(await condition(sandbox, "ScalingLimited")?.reason == "DesiredWithinRange")

        // At 0 autoscaling is disabled: the HPA does not scale it back up.
        await scale(sandbox, to: 0)
        #expect(await sandbox.eventually("ScalingDisabled") {
            await condition(sandbox, "ScalingActive").map { $0 == ("False", "ScalingDisabled") } ?? false
        })
        try await Task.sleep(for: .milliseconds(300))
        #expect(await replicas(sandbox) == 0, "the HPA fought a scale to zero")
        #expect(await sandbox.call("GET", hpaPath).body[path: ["status", "desiredReplicas"]]?.int == 0)

        // Scaled back up by someone else: active again, and it enforces minReplicas again.
        await scale(sandbox, to: 2)
        #expect(await sandbox.eventually("ScalingActive True again") { await condition(sandbox, "ScalingActive")?.status == "True" })
        await scale(sandbox, to: 1)
        #expect(await sandbox.eventually("minReplicas enforced again") { await replicas(sandbox) == 2 })
    }

    @Test func missingTargetIsReportedNotScaled() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        _ = await sandbox.call("POST", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", hpa(min: 1, max: 3))
        #expect(await sandbox.eventually("FailedGetScale") {
            await condition(sandbox, "AbleToScale").map { $0 == ("False", "FailedGetScale") } ?? false
        })
    }
}
