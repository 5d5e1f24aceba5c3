import Foundation
import KubeModel

/// A minimal HorizontalPodAutoscaler controller: the part of the real one that does not need
/// metrics. The sandbox has no metrics server, so it never scales on load.
///
/// For an HPA whose `scaleTargetRef` is a Deployment it does what the real controller does
/// before it looks at metrics (`pkg/controller/podautoscaler/horizontal.go`):
/// - target at 0 replicas (and `minReplicas` ≠ 0): autoscaling is disabled — nothing is
///   scaled, `ScalingActive=False` reason `ScalingDisabled`;
/// - above `maxReplicas` / below `minReplicas` (default 1): scales the target to the bound,
///   `AbleToScale=True` reason `SucceededRescale`, `ScalingLimited=True`
///   (`TooManyReplicas` / `TooFewReplicas`), an event `SuccessfulRescale`;
/// - otherwise leaves the replicas alone: `ScalingActive=True`, `ScalingLimited=False`.
///
/// It writes `status.currentReplicas` (the target's `status.replicas`), `desiredReplicas`,
/// `lastScaleTime`, `observedGeneration` and the conditions. Unlike the real one it compares the
/// bounds with the target's `spec.replicas` and reacts to each change at once instead of every
/// 15 s: its status lags the spec here, and acting on a stale status would fight a user's scale.
actor HorizontalPodAutoscalerController {
    private let registry: Registry
    private let events: EventRecorder

    init(registry: Registry) {
        self.registry = registry
        events = EventRecorder(registry: registry)
    }

    func handle(_ event: StoreEvent) async {
        guard event.kind != .deleted, let name = event.object.name else { return }
        let namespace = event.object.namespace ?? "default"
        switch event.resource {
        case ResourceCatalog.hpas.key:
            reconcile(namespace: namespace, name: name)
        case ResourceCatalog.deployments.key:
            for hpa in registry.list(ResourceCatalog.hpas, namespace: namespace).items where Self.targetsDeployment(hpa, named: name) {
                reconcile(namespace: namespace, name: hpa.name ?? "")
            }
        default:
            return
        }
    }

    private static func targetsDeployment(_ hpa: JSONValue, named name: String) -> Bool {
        let target = hpa[path: ["spec", "scaleTargetRef"]]
        return target?["kind"]?.string == "Deployment" && target?["name"]?.string == name
    }

    func reconcile(namespace: String, name: String) {
        guard let hpa = try? registry.get(ResourceCatalog.hpas, namespace: namespace, name: name),
              hpa[path: ["metadata", "deletionTimestamp"]] == nil
        else { return }
        let previous = hpa["status"] ?? .emptyObject
        var status = previous
        status["observedGeneration"] = hpa[path: ["metadata", "generation"]] ?? 1
        let targetKind = hpa[path: ["spec", "scaleTargetRef", "kind"]]?.string ?? ""
        let targetName = hpa[path: ["spec", "scaleTargetRef", "name"]]?.string ?? ""
        guard targetKind == "Deployment",
              let deployment = try? registry.get(ResourceCatalog.deployments, namespace: namespace, name: targetName)
        else {
            let what = targetKind == "Deployment" ? "deployments.apps \"\(targetName)\" not found"
                : "the sandbox's HPA controller scales Deployments only, not \(targetKind)"
            setCondition(&status, "AbleToScale", false, "FailedGetScale",
                         "the HPA controller was unable to get the target's current scale: \(what)")
            write(hpa, status: status, previous: previous)
            return
        }
        setCondition(&status, "AbleToScale", true, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
        let minReplicas = hpa[path: ["spec", "minReplicas"]]?.int ?? 1
        let maxReplicas = hpa[path: ["spec", "maxReplicas"]]?.int ?? minReplicas
        let specReplicas = deployment[path: ["spec", "replicas"]]?.int ?? 1
        status["currentReplicas"] = .int(Int64(deployment[path: ["status", "replicas"]]?.int ?? 0))

        if specReplicas == 0 && minReplicas != 0 {
            setCondition(&status, "ScalingActive", false, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
            status["desiredReplicas"] = 0
            write(hpa, status: status, previous: previous)
            return
        }
        setCondition(&status, "ScalingActive", true, "ValidMetricFound",
                     "the sandbox has no metrics: the HPA keeps the replica count within minReplicas and maxReplicas")
        let desired = min(max(specReplicas, minReplicas), maxReplicas)
        if desired < specReplicas {
            setCondition(&status, "ScalingLimited", true, "TooManyReplicas", "the desired replica count is more than the maximum replica count")
        } else if desired > specReplicas {
            setCondition(&status, "ScalingLimited", true, "TooFewReplicas", "the desired replica count is less than the minimum replica count")
        } else {
            setCondition(&status, "ScalingLimited", false, "DesiredWithinRange", "the desired count is within the acceptable range")
        }
        status["desiredReplicas"] = .int(Int64(desired))
        if desired != specReplicas, rescale(deployment, to: desired) {
            setCondition(&status, "AbleToScale", true, "SucceededRescale", "the HPA controller was able to update the target scale to \(desired)")
            status["lastScaleTime"] = .string(ObjectIdentity.timestamp())
            let reason = desired > specReplicas ? "Current number of replicas below Spec.MinReplicas" : "Current number of replicas above Spec.MaxReplicas"
            events.record(hpa, reason: "SuccessfulRescale", message: "New size: \(desired); reason: \(reason)", component: "horizontal-pod-autoscaler")
        } else if desired == specReplicas {
            setCondition(&status, "AbleToScale", true, "ReadyForNewScale", "recommended size matches current size")
        }
        write(hpa, status: status, previous: previous)
    }

    /// Sets the Deployment's `spec.replicas`, conditional on the version read (a conflict means
    /// someone else changed it; the event of that change brings the controller back).
    private func rescale(_ deployment: JSONValue, to replicas: Int) -> Bool {
        var object = deployment
        object[path: ["spec", "replicas"]] = .int(Int64(replicas))
        return (try? registry.update(ResourceCatalog.deployments, namespace: deployment.namespace, name: deployment.name ?? "", body: object)) != nil
    }

    private func write(_ hpa: JSONValue, status: JSONValue, previous: JSONValue) {
        guard status != previous, let name = hpa.name else { return }
        var object = hpa
        object["status"] = status
        object.resourceVersion = nil
        _ = try? registry.update(ResourceCatalog.hpas, namespace: hpa.namespace, name: name, body: object, subresource: "status")
    }

    /// Replaces the condition of `type`; `lastTransitionTime` changes only with its status.
    private func setCondition(_ status: inout JSONValue, _ type: String, _ value: Bool, _ reason: String, _ message: String) {
        let text = value ? "True" : "False"
        var conditions = status["conditions"]?.array ?? []
        let index = conditions.firstIndex { $0["type"]?.string == type }
        let old = index.map { conditions[$0] }
        if let old, old["status"]?.string == text, old["reason"]?.string == reason, old["message"]?.string == message { return }
        let transition = (old?["status"]?.string == text ? old?["lastTransitionTime"] : nil) ?? .string(ObjectIdentity.timestamp())
        let condition: JSONValue = ["type": .string(type), "status": .string(text), "reason": .string(reason),
                                    "message": .string(message), "lastTransitionTime": transition]
        if let index { conditions[index] = condition } else { conditions.append(condition) }
        status["conditions"] = .array(conditions)
    }
}
