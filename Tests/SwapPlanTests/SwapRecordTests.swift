import Foundation
import KubeModel
import Testing
@testable import SwapPlan

@Suite("The swap record kept as Deployment annotations")
struct SwapRecordTests {
    @Test func roundTripsThroughAnnotations() throws {
        var deployment = Fixtures.deployment
        deployment.annotations = deployment.annotations.merging(Fixtures.record.annotations) { $1 }
        let record = try #require(try SwapRecord(deployment: deployment))
        #expect(record == Fixtures.record)
        #expect(record.annotations["swapdev.dev/started-at"] == "2023-11-14T22:13:20Z")
        #expect(record.shortID == "abc123")
    }

    @Test func unswappedDeploymentHasNoRecord() throws {
        #expect(try SwapRecord(deployment: Fixtures.deployment) == nil)
    }

    @Test func malformedReplicasIsAnError() {
        var deployment = Fixtures.deployment
        var annotations = Fixtures.record.annotations
        annotations[SwapRecord.Key.originalReplicas] = "lots"
        deployment.annotations = annotations
        let error = #expect(throws: SwapPlanError.self) { try SwapRecord(deployment: deployment) }
        #expect(error?.description.contains("swapdev.dev/original-replicas") == true)
    }

    @Test func recordPatchCarriesTheResourceVersionPrecondition() {
        let patch = Fixtures.record.recordPatch(resourceVersion: "42")
        #expect(patch[path: ["metadata", "resourceVersion"]] == "42")
        #expect(patch[path: ["metadata", "annotations", "swapdev.dev/original-replicas"]] == "2")
        #expect(patch[path: ["metadata", "annotations", "swapdev.dev/owner"]] == "dev@laptop")
        #expect(patch["spec"] == nil)
    }

    @Test func removalPatchNullsEverySwapdevAnnotation() {
        var deployment = Fixtures.deployment
        deployment.annotations = deployment.annotations.merging(["swapdev.dev/extra": "x"]) { $1 }
        let patch = SwapRecord.removalPatch(deployment: deployment)
        let annotations = patch[path: ["metadata", "annotations"]]?.object ?? [:]
        #expect(annotations["swapdev.dev/extra"] == .null)
        #expect(annotations["swapdev.dev/swap-id"] == .null)
        #expect(annotations["team"] == nil)
        #expect(patch[path: ["metadata", "resourceVersion"]] == nil)
    }

    @Test func idsAreRandomHex() {
        let first = SwapRecord.makeID()
        #expect(first.count == 12)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first != SwapRecord.makeID())
        #expect(SwapRecord.currentOwner().contains("@"))
    }
}
