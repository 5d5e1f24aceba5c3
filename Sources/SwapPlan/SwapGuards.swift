import Foundation
import KubeModel

/// Everything the guards look at, fetched before a swap changes anything.
///
/// Kept as plain values so that ``SwapGuards/evaluate(_:)`` is a pure function: the fetcher
/// (in SwapEngine) reads the cluster, the decision is unit-tested here without one.
public struct GuardInput: Sendable {
    /// The Deployment as read (`apps/v1`).
    public var deployment: JSONValue
    /// The namespace's HorizontalPodAutoscalers (any version; only `spec.scaleTargetRef` is read).
    public var horizontalPodAutoscalers: [JSONValue]
    /// The namespace's KEDA ScaledObjects; `nil` when KEDA is not installed (404 on `keda.sh`).
    public var scaledObjects: [JSONValue]?
    /// Permissions a swap needs that the user lacks (`verb resource[/sub][.group]`), from
    /// SelfSubjectAccessReviews.
    public var missingPermissions: [String]
    /// Permissions the dead-man switch needs (creating its ServiceAccount, Role, …) that the
    /// user lacks. Not blocking: the swap works without the switch.
    public var missingDeadManPermissions: [String]
    /// `user@host` of this swapdev, to recognise one's own stale swap.
    public var currentOwner: String
    public var now: Date
    /// `--restore-after`: a heartbeat older than this is stale.
    public var restoreAfter: TimeInterval

    public init(deployment: JSONValue, horizontalPodAutoscalers: [JSONValue] = [], scaledObjects: [JSONValue]? = nil,
                missingPermissions: [String] = [], missingDeadManPermissions: [String] = [],
                currentOwner: String, now: Date = Date(), restoreAfter: TimeInterval = 600)
    {
        self.deployment = deployment
        self.horizontalPodAutoscalers = horizontalPodAutoscalers
        self.scaledObjects = scaledObjects
        self.missingPermissions = missingPermissions
        self.missingDeadManPermissions = missingDeadManPermissions
        self.currentOwner = currentOwner
        self.now = now
        self.restoreAfter = restoreAfter
    }
}

/// One thing a guard found.
public struct GuardFinding: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case alreadySwapped, malformedRecord, zeroReplicas, horizontalPodAutoscaler, kedaScaledObject, gitOps
        case missingPermissions, deadManUnavailable
    }

    /// How a finding affects the swap.
    public enum Severity: String, Sendable, Hashable {
        /// Nothing is changed, even with `--force` (e.g. someone else's swap is up).
        case refuse
        /// Nothing is changed unless `--force`.
        case blockUnlessForced
        /// Printed; the swap goes on.
        case warning
    }

    public var kind: Kind
    public var severity: Severity
    /// One line naming the object and saying what to do.
    public var message: String

    public init(kind: Kind, severity: Severity, message: String) {
        self.kind = kind
        self.severity = severity
        self.message = message
    }

    public var description: String { message }
}

/// The guards' verdict.
public struct GuardReport: Sendable, Hashable {
    public var findings: [GuardFinding]
    /// ScaledObjects to pause (`autoscaling.keda.sh/paused-replicas`) for the swap and to unpause on restore.
    public var scaledObjectsToPause: [String]
    /// Whether swapdev may create the dead-man switch's ServiceAccount, Role and RoleBinding.
    public var deadManAvailable: Bool

    public init(findings: [GuardFinding] = [], scaledObjectsToPause: [String] = [], deadManAvailable: Bool = true) {
        self.findings = findings
        self.scaledObjectsToPause = scaledObjectsToPause
        self.deadManAvailable = deadManAvailable
    }

    /// Whether the swap may go on.
    public func allows(force: Bool) -> Bool {
        findings.allSatisfy { finding in
            switch finding.severity {
            case .refuse: return false
            case .blockUnlessForced: return force
            case .warning: return true
            }
        }
    }

    /// The findings that stop the swap (given `force`), for the error message.
    public func blocking(force: Bool) -> [GuardFinding] {
        findings.filter { $0.severity == .refuse || (!force && $0.severity == .blockUnlessForced) }
    }

    /// The findings shown as warnings when the swap goes on.
    public func warnings(force: Bool) -> [GuardFinding] {
        findings.filter { $0.severity == .warning || (force && $0.severity == .blockUnlessForced) }
    }
}

/// The checks run before a swap: each returns a clear message, and nothing in the cluster has
/// changed yet when one stops the swap.
public enum SwapGuards {
    /// Labels and annotation prefixes by which Argo CD and Flux mark what they manage.
    public static let argoPrefix = "argocd.argoproj.io/"
    public static let fluxPrefixes = ["kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/"]
    public static let instanceLabel = "app.kubernetes.io/instance"

    /// Evaluates every guard. Pure: same input, same report.
    public static func evaluate(_ input: GuardInput) -> GuardReport {
        let name = input.deployment.name ?? "?"
        var findings: [GuardFinding] = []
        findings += swapRecord(input, name: name)
        if let replicas = input.deployment[path: ["spec", "replicas"]]?.int, replicas == 0,
           (try? SwapRecord(deployment: input.deployment)) == nil
        {
            findings.append(GuardFinding(kind: .zeroReplicas, severity: .blockUnlessForced, message:
                "deployment \(name) has 0 replicas, so no traffic reaches it to swap; scale it up first or pass --force to swap anyway"))
        }
        findings += autoscalers(input, name: name)
        let paused = scaledObjects(targeting: name, in: input.scaledObjects ?? [])
        if !paused.isEmpty {
            findings.append(GuardFinding(kind: .kedaScaledObject, severity: .blockUnlessForced, message:
                "KEDA ScaledObject \(paused.joined(separator: ", ")) scales deployment \(name) and would scale it back up during the swap; "
                    + "pass --force to pause it for the swap (autoscaling.keda.sh/paused-replicas, undone on restore)"))
        }
        if let gitOps = gitOps(input.deployment, name: name) { findings.append(gitOps) }
        if !input.missingPermissions.isEmpty {
            findings.append(GuardFinding(kind: .missingPermissions, severity: .blockUnlessForced, message:
                "you lack permissions a swap of \(name) needs in namespace \(input.deployment.namespace ?? "?"): "
                    + "\(input.missingPermissions.joined(separator: ", ")); ask a cluster admin for them (see swapdev doctor)"))
        }
        if !input.missingDeadManPermissions.isEmpty {
            findings.append(GuardFinding(kind: .deadManUnavailable, severity: .warning, message:
                "no dead-man switch for this swap: you may not \(input.missingDeadManPermissions.joined(separator: ", ")); "
                    + "if swapdev dies the swap stays until someone runs: swapdev restore \(name)"))
        }
        return GuardReport(findings: findings, scaledObjectsToPause: paused,
                           deadManAvailable: input.missingDeadManPermissions.isEmpty)
    }

    /// An existing swap record: someone's live swap, or a stale one (offered for restore).
    static func swapRecord(_ input: GuardInput, name: String) -> [GuardFinding] {
        let record: SwapRecord?
        do {
            record = try SwapRecord(deployment: input.deployment)
        } catch {
            return [GuardFinding(kind: .malformedRecord, severity: .refuse, message: "\(error)")]
        }
        guard let record else { return [] }
        let age = input.now.timeIntervalSince(record.heartbeat)
        let stale = age > input.restoreAfter
        let since = "since \(record.startedAtText), last heartbeat \(GuardText.age(age)) ago"
        let message: String
        if stale && record.owner == input.currentOwner {
            message = "deployment \(name) is still swapped by an earlier swapdev of yours (swap \(record.id), \(since)); "
                + "it looks dead: restore it with swapdev restore \(name), then swap again"
        } else if stale {
            message = "deployment \(name) is swapped by \(record.owner) (swap \(record.id), \(since)) and its heartbeat is stale; "
                + "if that swap is dead, restore it with swapdev restore \(name)"
        } else {
            message = "deployment \(name) is already swapped by \(record.owner) (swap \(record.id), \(since)); "
                + "wait for it to end or ask them; swapdev status shows every swap"
        }
        return [GuardFinding(kind: .alreadySwapped, severity: .refuse, message: message)]
    }

    static func autoscalers(_ input: GuardInput, name: String) -> [GuardFinding] {
        input.horizontalPodAutoscalers.compactMap { hpa -> GuardFinding? in
            guard targets(hpa, deployment: name) else { return nil }
            // KEDA's own HPA (keda-hpa-*) is covered by the ScaledObject guard and its pause.
            if hpa.labels["scaledobject.keda.sh/name"] != nil, input.scaledObjects != nil { return nil }
            let hpaName = hpa.name ?? "?"
            let minimum = hpa[path: ["spec", "minReplicas"]]?.int ?? 1
            return GuardFinding(kind: .horizontalPodAutoscaler, severity: .blockUnlessForced, message:
                "HorizontalPodAutoscaler \(hpaName) scales deployment \(name) (min \(minimum)); pass --force to swap anyway: "
                    + "while the original is at 0 replicas the HPA stops scaling it, and restore brings back the recorded replicas so the HPA resumes")
        }
    }

    /// Whether an autoscaler's `spec.scaleTargetRef` names this Deployment.
    static func targets(_ object: JSONValue, deployment: String) -> Bool {
        guard let reference = object[path: ["spec", "scaleTargetRef"]], reference["name"]?.string == deployment else { return false }
        let kind = reference["kind"]?.string ?? "Deployment"
        let apiVersion = reference["apiVersion"]?.string ?? "apps/v1"
        return kind == "Deployment" && (apiVersion == "apps/v1" || apiVersion.hasPrefix("apps/") || apiVersion.isEmpty)
    }

    /// ScaledObjects whose target is the Deployment and that are not already paused by their owner.
    static func scaledObjects(targeting deployment: String, in objects: [JSONValue]) -> [String] {
        objects.filter { targets($0, deployment: deployment) }.compactMap(\.name).sorted()
    }

    static func gitOps(_ deployment: JSONValue, name: String) -> GuardFinding? {
        let keys = Array(deployment.labels.keys) + Array(deployment.annotations.keys)
        let argo = keys.contains { $0.hasPrefix(argoPrefix) }
            || (deployment.labels[instanceLabel] != nil && deployment.annotations["argocd.argoproj.io/tracking-id"] != nil)
        let flux = keys.contains { key in fluxPrefixes.contains { key.hasPrefix($0) } }
        guard argo || flux else { return nil }
        let advice: String
        if argo {
            let app = deployment.labels[instanceLabel] ?? deployment.annotations["argocd.argoproj.io/tracking-id"]?
                .split(separator: ":").first.map(String.init) ?? "APP"
            advice = "Argo CD manages it (application \(app)); self-heal would scale it back up during the swap: "
                + "turn self-heal off first (argocd app set \(app) --self-heal=false)"
        } else {
            let kustomization = deployment.labels["kustomize.toolkit.fluxcd.io/name"]
            let release = deployment.labels["helm.toolkit.fluxcd.io/name"]
            let command = kustomization.map { "flux suspend kustomization \($0)" }
                ?? release.map { "flux suspend helmrelease \($0)" } ?? "flux suspend kustomization NAME"
            advice = "Flux manages it; its next reconcile would scale it back up during the swap: suspend it first (\(command))"
        }
        return GuardFinding(kind: .gitOps, severity: .blockUnlessForced, message:
            "deployment \(name): \(advice), or pass --force to swap anyway")
    }
}

/// Short human texts shared by guards and `swapdev status`.
public enum GuardText {
    /// `42s`, `5m`, `3h`, `2d`.
    public static func age(_ seconds: TimeInterval) -> String {
        let value = max(0, Int(seconds))
        if value < 120 { return "\(value)s" }
        if value < 7200 { return "\(value / 60)m" }
        if value < 172_800 { return "\(value / 3600)h" }
        return "\(value / 86400)d"
    }
}
