import KubeModel

/// Writes core/v1 Events about objects (Scheduled, Started, Killing, BackOff, …) for `kubectl describe`.
struct EventRecorder: Sendable {
    let registry: Registry

    func record(_ object: JSONValue, type: String = "Normal", reason: String, message: String, component: String = "kubelet") {
        guard let name = object.name else { return }
        let namespace = object.namespace ?? "default"
        let now = ObjectIdentity.timestamp()
        let event: JSONValue = [
            "metadata": ["name": .string("\(name).\(ObjectIdentity.randomToken().prefix(16))"), "namespace": .string(namespace)],
            "involvedObject": [
                "kind": object["kind"] ?? "Pod", "apiVersion": object["apiVersion"] ?? "v1", "name": .string(name),
                "namespace": .string(namespace), "uid": .string(object.uid ?? ""),
            ],
            "reason": .string(reason), "message": .string(message), "type": .string(type),
            "source": ["component": .string(component), "host": .string(SandboxNode.name)],
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
            "reportingComponent": .string(component), "reportingInstance": .string(SandboxNode.name),
        ]
        _ = try? registry.create(ResourceCatalog.events, namespace: namespace, body: event)
    }
}
