import KubeModel
import Testing
@testable import SwapPlan

@Suite("Restore verification compares the Deployment before and after")
struct RestoreCheckTests {
    @Test func serverManagedFieldsAndSwapAnnotationsAreIgnored() {
        var after = Fixtures.deployment
        after.resourceVersion = "99"
        after[path: ["metadata", "generation"]] = 5
        after[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] = "3"
        after[path: ["metadata", "annotations", "swapdev.dev/heartbeat"]] = "now"
        after["status"] = ["replicas": 0]
        let differences = RestoreCheck.differences(before: Fixtures.deployment, after: after)
        #expect(differences.isEmpty)
        #expect(RestoreCheck.summary(deployment: "web", differences: differences) == "deployment web is exactly as before the swap")
    }

    @Test func specChangesAreReportedWithPaths() {
        var after = Fixtures.deployment
        after[path: ["spec", "replicas"]] = 0
        after[path: ["spec", "template", "metadata", "labels", "swapdev.dev/swap"]] = "x"
        after[path: ["metadata", "annotations", "team"]] = nil
        let differences = RestoreCheck.differences(before: Fixtures.deployment, after: after)
        #expect(differences.map(\.path) == ["annotations.team", "spec.replicas", "spec.template.metadata.labels.swapdev.dev/swap"])
        let summary = RestoreCheck.summary(deployment: "web", differences: differences)
        #expect(summary.contains("spec.replicas: 2 → 0"))
        #expect(summary.contains("annotations.team: \"core\" → (absent)"))
    }

    @Test func arraysOfDifferentLengthAreOneDifference() {
        var after = Fixtures.deployment
        after[path: ["spec", "template", "spec", "volumes"]] = []
        let differences = RestoreCheck.differences(before: Fixtures.deployment, after: after)
        #expect(differences.map(\.path) == ["spec.template.spec.volumes"])
    }
}

@Suite("Spec fingerprint for restores without the original at hand")
struct SpecFingerprintTests {
    @Test func ignoresReplicasAndServerFieldsButNotSpec() {
        var scaled = Fixtures.deployment
        scaled[path: ["spec", "replicas"]] = 0
        scaled.resourceVersion = "100"
        scaled[path: ["metadata", "annotations", "swapdev.dev/swap-id"]] = "x"
        #expect(RestoreCheck.fingerprint(scaled) == RestoreCheck.fingerprint(Fixtures.deployment))
        #expect(RestoreCheck.fingerprint(Fixtures.deployment).count == 16)
        var changed = Fixtures.deployment
        changed[path: ["spec", "template", "spec", "serviceAccountName"]] = "other"
        #expect(RestoreCheck.fingerprint(changed) != RestoreCheck.fingerprint(Fixtures.deployment))
    }

    @Test func recordCarriesIt() throws {
        var record = Fixtures.record
        record.specFingerprint = "0123456789abcdef"
        var deployment = Fixtures.deployment
        deployment.annotations = record.annotations
        #expect(try SwapRecord(deployment: deployment)?.specFingerprint == "0123456789abcdef")
    }
}
