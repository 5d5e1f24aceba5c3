import KubeModel

/// The objects of a swap's dead-man switch, and what it adds to the proxy pod. Pure.
///
/// If swapdev stops renewing the heartbeat for longer than `--restore-after` (killed with -9,
/// laptop asleep, network gone), `deadman.sh` in the proxy pod restores the original replicas,
/// removes the swap annotations and deletes its own pod. It needs its own credentials: the proxy
/// keeps the app's serviceAccount (sidecars need it), so a ServiceAccount made for this one swap,
/// with a Role limited to exactly the Deployment and the proxy pod (resourceNames), reaches the
/// proxy container through its token Secret mounted at ``credentialsPath``. All four objects
/// carry `swapdev.dev/swap=<id>` and, once the pod exists, an ownerReference to it, so they
/// vanish with the proxy pod.
public struct DeadManPlan: Sendable, Hashable {
    /// Where the token Secret (`token`, `ca.crt`, `namespace`) is mounted in the proxy container.
    public static let credentialsPath = "/var/run/swapdev-deadman"
    /// The name of that volume in the proxy pod.
    public static let volumeName = "swapdev-deadman"
    /// The Deployment annotation with the swap's `--restore-after` in seconds, so `swapdev status`
    /// knows how often it beats. Removed with the rest of the record (`swapdev.dev/` prefix).
    public static let restoreAfterAnnotation = "swapdev.dev/restore-after"

    /// Environment of `deadman.sh`; `entrypoint.sh` starts it when ``Env/deployment`` is set.
    public enum Env {
        public static let deployment = "SWAPDEV_DEADMAN_DEPLOYMENT"
        public static let namespace = "SWAPDEV_DEADMAN_NAMESPACE"
        public static let pod = "SWAPDEV_DEADMAN_POD"
        public static let swapID = "SWAPDEV_DEADMAN_SWAP_ID"
        /// Seconds without a heartbeat change before the switch fires.
        public static let timeout = "SWAPDEV_DEADMAN_TIMEOUT"
        public static let credentials = "SWAPDEV_DEADMAN_CREDENTIALS"
        /// Comma-separated ScaledObjects to unpause.
        public static let scaledObjects = "SWAPDEV_DEADMAN_SCALEDOBJECTS"
        public static let all = [deployment, namespace, pod, swapID, timeout, credentials, scaledObjects]
    }

    public var namespace: String
    public var deployment: String
    public var record: SwapRecord
    /// `--restore-after` in whole seconds.
    public var timeoutSeconds: Int
    /// ScaledObjects the swap paused, which the switch unpauses too.
    public var scaledObjects: [String]

    public init(namespace: String, deployment: String, record: SwapRecord, timeoutSeconds: Int, scaledObjects: [String] = []) {
        self.namespace = namespace
        self.deployment = deployment
        self.record = record
        self.timeoutSeconds = max(1, timeoutSeconds)
        self.scaledObjects = scaledObjects
    }

    /// `swapdev-deadman-<shortid>`: the ServiceAccount, Role and RoleBinding.
    public var name: String { "swapdev-deadman-\(record.shortID)" }
    /// `<name>-token`: the ServiceAccount's token Secret.
    public var secretName: String { "\(name)-token" }

    private var labels: JSONValue { [SwapRecord.swapLabel: .string(record.id)] }

    private func metadata(_ name: String, annotations: [String: String] = [:]) -> JSONValue {
        var metadata: JSONValue = ["name": .string(name), "namespace": .string(namespace), "labels": labels]
        if !annotations.isEmpty { metadata["annotations"] = JSONValue(stringMap: annotations) }
        return metadata
    }

    public var serviceAccount: JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name), "automountServiceAccountToken": false]
    }

    /// A token Secret for the ServiceAccount (the token controller fills in `token` and `ca.crt`).
    public var tokenSecret: JSONValue {
        [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": metadata(secretName, annotations: ["kubernetes.io/service-account.name": name]),
        ]
    }

    /// Exactly what `deadman.sh` does, on exactly these objects.
    public var role: JSONValue {
        var rules: [JSONValue] = [
            ["apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": [.string(deployment)], "verbs": ["get", "patch"]],
            ["apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": [.string(deployment)],
             "verbs": ["get", "patch", "update"]],
            ["apiGroups": [""], "resources": ["pods"], "resourceNames": [.string(record.proxyPod)], "verbs": ["get", "delete"]],
        ]
        if !scaledObjects.isEmpty {
            rules.append(["apiGroups": ["keda.sh"], "resources": ["scaledobjects"],
                          "resourceNames": .array(scaledObjects.map(JSONValue.string)), "verbs": ["get", "patch"]])
        }
        return ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(name), "rules": .array(rules)]
    }

    public var roleBinding: JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(name),
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(name)],
            "subjects": [["kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]],
        ]
    }

    /// The objects in creation order, with their resources: ServiceAccount first (its token
    /// Secret follows from it), the binding last.
    public var objects: [(resource: APIResource, object: JSONValue)] {
        [(.serviceAccounts, serviceAccount), (.secrets, tokenSecret), (.roles, role), (.roleBindings, roleBinding)]
    }

    /// A merge patch making the proxy pod the owner, so the objects go when it goes.
    public static func ownerPatch(podName: String, podUID: String) -> JSONValue {
        ["metadata": ["ownerReferences": [[
            "apiVersion": "v1", "kind": "Pod", "name": .string(podName), "uid": .string(podUID),
        ]]]]
    }

    /// Adds the credentials volume and the switch's environment to the proxy container of `pod`
    /// (built by ``ProxyPodBuilder``). Other containers are untouched.
    public func augment(pod: JSONValue, container: String) -> JSONValue {
        var pod = pod
        var volumes = (pod[path: ["spec", "volumes"]]?.array ?? []).filter { $0["name"]?.string != Self.volumeName }
        // 0444: the proxy's sshd runs as uid 1000 without fsGroup; the only other reader is the
        // swap's own SSH user, who holds more rights than this token anyway.
        volumes.append(["name": .string(Self.volumeName), "secret": ["secretName": .string(secretName), "defaultMode": 292]])
        pod[path: ["spec", "volumes"]] = .array(volumes)
        let containers = (pod[path: ["spec", "containers"]]?.array ?? []).map { entry -> JSONValue in
            guard entry["name"]?.string == container else { return entry }
            var proxy = entry
            var env = (proxy["env"]?.array ?? []).filter { !Env.all.contains($0["name"]?.string ?? "") }
            let values: [(String, String)] = [
                (Env.deployment, deployment), (Env.namespace, namespace), (Env.pod, record.proxyPod),
                (Env.swapID, record.id), (Env.timeout, String(timeoutSeconds)), (Env.credentials, Self.credentialsPath),
                (Env.scaledObjects, scaledObjects.joined(separator: ",")),
            ]
            for (name, value) in values { env.append(["name": .string(name), "value": .string(value)]) }
            proxy["env"] = .array(env)
            var mounts = (proxy["volumeMounts"]?.array ?? []).filter { $0["name"]?.string != Self.volumeName }
            mounts.append(["name": .string(Self.volumeName), "mountPath": .string(Self.credentialsPath), "readOnly": true])
            proxy["volumeMounts"] = .array(mounts)
            return proxy
        }
        pod[path: ["spec", "containers"]] = .array(containers)
        return pod
    }
}
