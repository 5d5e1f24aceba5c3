import Foundation
import KubeModel
import SwapPlan
import Testing

/// The guards as a pure function over fetched objects.
@Suite("swap guards")
struct GuardTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func deployment(replicas: Int = 2, labels: [String: String] = ["app": "web"], annotations: [String: String] = [:]) -> JSONValue {
        var value: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web", "namespace": "dev"],
            "spec": ["replicas": .int(Int64(replicas)), "template": ["spec": ["containers": [["name": "app"]]]]],
        ]
        value.labels = labels
        value.annotations = annotations
        return value
    }

    static func swapped(owner: String, heartbeatAgo: TimeInterval) -> JSONValue {
        let record = SwapRecord(id: "0123456789ab", originalReplicas: 2, container: "app", owner: owner,
                                startedAt: now.addingTimeInterval(-3600), heartbeat: now.addingTimeInterval(-heartbeatAgo),
                                proxyPod: "web-swapdev-012345")
        return deployment(replicas: 0, annotations: record.annotations)
    }

    static func input(_ deployment: JSONValue, hpas: [JSONValue] = [], scaled: [JSONValue]? = nil,
                      missing: [String] = [], missingDeadMan: [String] = []) -> GuardInput {
        GuardInput(deployment: deployment, horizontalPodAutoscalers: hpas, scaledObjects: scaled, missingPermissions: missing,
                   missingDeadManPermissions: missingDeadMan, currentOwner: "me@laptop", now: now, restoreAfter: 600)
    }

    @Test func aPlainDeploymentPassesWithNoFindings() {
        let report = SwapGuards.evaluate(Self.input(Self.deployment()))
        #expect(report.findings.isEmpty)
        #expect(report.allows(force: false))
        #expect(report.deadManAvailable)
        #expect(report.scaledObjectsToPause.isEmpty)
    }

    @Test func someoneElsesLiveSwapIsRefusedEvenWithForceAndNamesOwnerAndStart() throws {
        let report = SwapGuards.evaluate(Self.input(Self.swapped(owner: "ann@desk", heartbeatAgo: 10)))
        let finding = try #require(report.findings.first { $0.kind == .alreadySwapped })
        #expect(finding.severity == .refuse)
        #expect(finding.message.contains("ann@desk"))
        #expect(finding.message.contains("0123456789ab"))
        #expect(finding.message.contains("since 2027-01-15T07:00:00Z"))
        #expect(!report.allows(force: true))
        #expect(report.blocking(force: true).count == 1)
    }

    @Test func aStaleSwapOfYourOwnIsOfferedForRestore() throws {
        let report = SwapGuards.evaluate(Self.input(Self.swapped(owner: "me@laptop", heartbeatAgo: 3600)))
        let finding = try #require(report.findings.first { $0.kind == .alreadySwapped })
        #expect(finding.message.contains("earlier swapdev of yours"))
        #expect(finding.message.contains("swapdev restore web"))
        #expect(finding.message.contains("60m ago"))
        // A swapped deployment has replicas 0: that is the swap, not the zero-replicas guard.
        #expect(!report.findings.contains { $0.kind == .zeroReplicas })
    }

    @Test func aMalformedRecordIsRefused() throws {
        let broken = Self.deployment(annotations: [SwapRecord.Key.id: "x", SwapRecord.Key.originalReplicas: "many"])
        let report = SwapGuards.evaluate(Self.input(broken))
        let finding = try #require(report.findings.first)
        #expect(finding.kind == .malformedRecord)
        #expect(finding.message.contains("original-replicas"))
        #expect(!report.allows(force: true))
    }

    @Test func zeroReplicasBlocksUnlessForced() throws {
        let report = SwapGuards.evaluate(Self.input(Self.deployment(replicas: 0)))
        let finding = try #require(report.findings.first)
        #expect(finding.kind == .zeroReplicas)
        #expect(!report.allows(force: false))
        #expect(report.allows(force: true))
        #expect(report.warnings(force: true).map(\.kind) == [.zeroReplicas])
    }

    @Test func anHPATargetingTheDeploymentBlocksUnlessForcedAndOthersAreIgnored() throws {
        let mine: JSONValue = ["metadata": ["name": "web-hpa"], "spec": ["minReplicas": 2, "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"]]]
        let other: JSONValue = ["metadata": ["name": "api-hpa"], "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "api"]]]
        let statefulSet: JSONValue = ["metadata": ["name": "ss"], "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web"]]]
        let report = SwapGuards.evaluate(Self.input(Self.deployment(), hpas: [mine, other, statefulSet]))
        #expect(report.findings.count == 1)
        let finding = try #require(report.findings.first)
        #expect(finding.kind == .horizontalPodAutoscaler)
        #expect(finding.message.contains("web-hpa"))
        #expect(finding.message.contains("min 2"))
        #expect(finding.message.contains("--force"))
        #expect(report.allows(force: true))
    }

    @Test func kedaScaledObjectsArePausedWithForceAndTheirHPAIsNotCountedTwice() throws {
        let scaled: JSONValue = ["metadata": ["name": "web-so"], "spec": ["scaleTargetRef": ["name": "web"]]]
        let kedaHPA: JSONValue = ["metadata": ["name": "keda-hpa-web-so", "labels": ["scaledobject.keda.sh/name": "web-so"]],
                                  "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"]]]
        let report = SwapGuards.evaluate(Self.input(Self.deployment(), hpas: [kedaHPA], scaled: [scaled]))
        #expect(report.findings.map(\.kind) == [.kedaScaledObject])
        #expect(report.scaledObjectsToPause == ["web-so"])
        #expect(!report.allows(force: false))
        #expect(report.allows(force: true))
    }

    @Test func noKEDAInstalledMeansNoKEDAFinding() {
        let report = SwapGuards.evaluate(Self.input(Self.deployment(), scaled: nil))
        #expect(!report.findings.contains { $0.kind == .kedaScaledObject })
    }

    @Test func argoCDManagedDeploymentsWarnAboutSelfHeal() throws {
        let argo = Self.deployment(labels: ["app": "web", "app.kubernetes.io/instance": "shop"],
                                   annotations: ["argocd.argoproj.io/tracking-id": "shop:apps/Deployment:dev/web"])
        let finding = try #require(SwapGuards.evaluate(Self.input(argo)).findings.first)
        #expect(finding.kind == .gitOps)
        #expect(finding.message.contains("Argo CD"))
        #expect(finding.message.contains("argocd app set shop --self-heal=false"))
        #expect(finding.severity == .blockUnlessForced)
    }

    @Test func fluxManagedDeploymentsSayWhatToSuspend() throws {
        let flux = Self.deployment(labels: ["app": "web", "kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"])
        let finding = try #require(SwapGuards.evaluate(Self.input(flux)).findings.first)
        #expect(finding.kind == .gitOps)
        #expect(finding.message.contains("flux suspend kustomization apps"))
        let helm = Self.deployment(labels: ["helm.toolkit.fluxcd.io/name": "web-release"])
        let helmFinding = try #require(SwapGuards.evaluate(Self.input(helm)).findings.first)
        #expect(helmFinding.message.contains("flux suspend helmrelease web-release"))
    }

    @Test func anInstanceLabelAloneIsNotGitOps() {
        let plain = Self.deployment(labels: ["app.kubernetes.io/instance": "web"])
        #expect(SwapGuards.evaluate(Self.input(plain)).findings.isEmpty)
    }

    @Test func missingPermissionsAreListedExactly() throws {
        let report = SwapGuards.evaluate(Self.input(Self.deployment(), missing: ["patch deployments/scale.apps", "create pods/portforward"]))
        let finding = try #require(report.findings.first)
        #expect(finding.kind == .missingPermissions)
        #expect(finding.message.contains("patch deployments/scale.apps, create pods/portforward"))
        #expect(finding.message.contains("namespace dev"))
        #expect(!report.allows(force: false))
    }

    @Test func noRBACForTheDeadManSwitchOnlyWarns() throws {
        let report = SwapGuards.evaluate(Self.input(Self.deployment(), missingDeadMan: ["create roles.rbac.authorization.k8s.io"]))
        let finding = try #require(report.findings.first)
        #expect(finding.kind == .deadManUnavailable)
        #expect(finding.severity == .warning)
        #expect(report.allows(force: false))
        #expect(!report.deadManAvailable)
        #expect(finding.message.contains("swapdev restore web"))
    }

    @Test func ageTextIsShort() {
        #expect(GuardText.age(5) == "5s")
        #expect(GuardText.age(600) == "10m")
        #expect(GuardText.age(3 * 3600) == "3h")
        #expect(GuardText.age(3 * 86400) == "3d")
        #expect(GuardText.age(-4) == "0s")
    }
}
