import Foundation
import KubeModel

/// Keeps each Deployment's pods matching its replicas and template, and writes its status.
///
/// Pods are owned by the Deployment directly (no ReplicaSets): each carries the label
/// `pod-template-hash` of the template it was made from and an ownerReference to the
/// Deployment. On a template change all old pods are deleted and new ones created at once.
actor DeploymentController {
    private let registry: Registry

    init(registry: Registry) {
        self.registry = registry
    }

    func handle(_ event: StoreEvent) async {
        switch event.resource {
        case ResourceCatalog.deployments.key:
            guard event.kind != .deleted, let name = event.object.name else { return }
            reconcile(namespace: event.object.namespace ?? "default", name: name)
        case ResourceCatalog.pods.key:
            for owner in event.object[path: ["metadata", "ownerReferences"]]?.array ?? []
            where owner["kind"]?.string == "Deployment" && owner["controller"]?.bool == true {
                if let name = owner["name"]?.string { reconcile(namespace: event.object.namespace ?? "default", name: name) }
            }
        default:
            return
        }
    }

    /// A short stable hash of the pod template, as the `pod-template-hash` label.
    static func templateHash(_ template: JSONValue) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in template.serialized() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        for _ in 0..<10 {
            text.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return text
    }

    func reconcile(namespace: String, name: String) {
        guard let deployment = try? registry.get(ResourceCatalog.deployments, namespace: namespace, name: name),
              deployment[path: ["metadata", "deletionTimestamp"]] == nil, let uid = deployment.uid
        else { return }
        let template = deployment[path: ["spec", "template"]] ?? .emptyObject
        let hash = Self.templateHash(template)
        let owned = registry.list(ResourceCatalog.pods, namespace: namespace).items.filter { pod in
            (pod[path: ["metadata", "ownerReferences"]]?.array ?? []).contains { $0["uid"]?.string == uid }
        }
        let active = owned.filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
        let current = active.filter { $0.labels["pod-template-hash"] == hash }
        let old = active.filter { $0.labels["pod-template-hash"] != hash }
        let replicas = deployment[path: ["spec", "replicas"]]?.int ?? 1

        for pod in old { _ = try? registry.delete(ResourceCatalog.pods, namespace: namespace, name: pod.name ?? "") }
        if current.count < replicas {
            for _ in current.count..<replicas { createPod(deployment: deployment, template: template, hash: hash) }
        } else if current.count > replicas {
            // Remove unready pods first, then the newest.
            let victims = current.sorted { lhs, rhs in
                let (lr, rr) = (Self.isReady(lhs), Self.isReady(rhs))
                if lr != rr { return !lr }
                return (lhs[path: ["metadata", "creationTimestamp"]]?.string ?? "") > (rhs[path: ["metadata", "creationTimestamp"]]?.string ?? "")
            }.prefix(current.count - replicas)
            for pod in victims { _ = try? registry.delete(ResourceCatalog.pods, namespace: namespace, name: pod.name ?? "") }
        }
        writeStatus(deployment: deployment, hash: hash)
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.array ?? []).contains { $0["type"]?.string == "Ready" && $0["status"]?.string == "True" }
    }

    private func createPod(deployment: JSONValue, template: JSONValue, hash: String) {
        let name = deployment.name ?? ""
        var pod: JSONValue = ["metadata": template["metadata"] ?? .emptyObject, "spec": template["spec"] ?? .emptyObject]
        var labels = pod.labels
        labels["pod-template-hash"] = hash
        pod.labels = labels
        pod[path: ["metadata", "name"]] = nil
        pod[path: ["metadata", "generateName"]] = .string("\(name)-\(hash)-")
        pod[path: ["metadata", "ownerReferences"]] = [[
            "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(name),
            "uid": .string(deployment.uid ?? ""), "controller": true, "blockOwnerDeletion": true,
        ]]
        _ = try? registry.create(ResourceCatalog.pods, namespace: deployment.namespace, body: pod)
    }

    private func writeStatus(deployment: JSONValue, hash: String) {
        guard let namespace = deployment.namespace, let name = deployment.name, let uid = deployment.uid else { return }
        let owned = registry.list(ResourceCatalog.pods, namespace: namespace).items.filter { pod in
            (pod[path: ["metadata", "ownerReferences"]]?.array ?? []).contains { $0["uid"]?.string == uid }
                && pod[path: ["metadata", "deletionTimestamp"]] == nil
        }
        let updated = owned.filter { $0.labels["pod-template-hash"] == hash }
        let ready = owned.filter(Self.isReady)
        let replicas = deployment[path: ["spec", "replicas"]]?.int ?? 1
        let available = ready.count
        let complete = updated.count == replicas && owned.count == replicas && available >= replicas
        let previous = deployment["status"] ?? .emptyObject
        var status: JSONValue = .emptyObject
        status["observedGeneration"] = deployment[path: ["metadata", "generation"]] ?? 1
        if !owned.isEmpty { status["replicas"] = .int(Int64(owned.count)) }
        if !updated.isEmpty { status["updatedReplicas"] = .int(Int64(updated.count)) }
        if !ready.isEmpty { status["readyReplicas"] = .int(Int64(ready.count)) }
        if available > 0 { status["availableReplicas"] = .int(Int64(available)) }
        let unavailable = max(0, max(replicas, owned.count) - available)
        if unavailable > 0 { status["unavailableReplicas"] = .int(Int64(unavailable)) }
        let rsName = "\(name)-\(hash)"
        status["conditions"] = [
            condition(previous, type: "Available", status: available >= replicas,
                      reason: available >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                      message: available >= replicas ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
            condition(previous, type: "Progressing", status: true,
                      reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                      message: complete ? "ReplicaSet \"\(rsName)\" has successfully progressed." : "ReplicaSet \"\(rsName)\" is progressing."),
        ]
        guard status != previous else { return }
        var object = deployment
        object["status"] = status
        object.resourceVersion = nil
        _ = try? registry.update(ResourceCatalog.deployments, namespace: namespace, name: name, body: object, subresource: "status")
    }

    private func condition(_ previous: JSONValue, type: String, status: Bool, reason: String, message: String) -> JSONValue {
        let text = status ? "True" : "False"
        let old = (previous["conditions"]?.array ?? []).first { $0["type"]?.string == type }
        if let old, old["status"]?.string == text, old["reason"]?.string == reason, old["message"]?.string == message { return old }
        let now = ObjectIdentity.timestamp()
        let transition = (old?["status"]?.string == text ? old?["lastTransitionTime"] : nil) ?? .string(now)
        return ["type": .string(type), "status": .string(text), "reason": .string(reason), "message": .string(message),
                "lastUpdateTime": .string(now), "lastTransitionTime": transition]
    }
}
