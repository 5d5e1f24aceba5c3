import KubeModel

/// One kind of object the sandbox serves, with what discovery says about it.
struct ResourceType: Sendable {
    var api: APIResource
    var singular: String
    var shortNames: [String] = []
    var verbs: [String] = ResourceType.allVerbs
    /// Subresources served under `NAME/SUB`, e.g. `status`, `scale`.
    var subresources: [String] = []
    var categories: [String] = []
    /// Other versions the same objects are also served as (HPAs: `v1` and `v2`).
    var extraVersions: [String] = []
    /// Whether `spec` changes bump `metadata.generation`.
    var hasSpec: Bool = true

    static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Identifies the store bucket: group and plural (versions share one bucket).
    var key: String { api.group.isEmpty ? api.plural : "\(api.plural).\(api.group)" }
    var hasStatus: Bool { subresources.contains("status") }
    /// The `deployments.apps` form used in Status messages.
    var qualifiedName: String { api.group.isEmpty ? api.plural : "\(api.plural).\(api.group)" }
}

/// Every resource the sandbox serves.
enum ResourceCatalog {
    static let namespaces = ResourceType(
        api: .namespaces, singular: "namespace", shortNames: ["ns"],
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], subresources: ["status", "finalize"])
    static let pods = ResourceType(
        api: .pods, singular: "pod", shortNames: ["po"], subresources: ["status", "log", "exec", "portforward", "binding", "eviction"],
        categories: ["all"])
    static let services = ResourceType(
        api: .services, singular: "service", shortNames: ["svc"], subresources: ["status", "proxy"], categories: ["all"])
    static let endpoints = ResourceType(api: .endpoints, singular: "endpoints", shortNames: ["ep"], hasSpec: false)
    static let configMaps = ResourceType(api: .configMaps, singular: "configmap", shortNames: ["cm"], hasSpec: false)
    static let secrets = ResourceType(api: .secrets, singular: "secret", hasSpec: false)
    static let serviceAccounts = ResourceType(api: .serviceAccounts, singular: "serviceaccount", shortNames: ["sa"], hasSpec: false)
    static let events = ResourceType(api: .events, singular: "event", shortNames: ["ev"], hasSpec: false)
    static let deployments = ResourceType(
        api: .deployments, singular: "deployment", shortNames: ["deploy"], subresources: ["status", "scale"], categories: ["all"])
    static let replicaSets = ResourceType(
        api: .replicaSets, singular: "replicaset", shortNames: ["rs"], subresources: ["status", "scale"], categories: ["all"])
    static let hpas = ResourceType(
        api: .horizontalPodAutoscalers, singular: "horizontalpodautoscaler", shortNames: ["hpa"],
        subresources: ["status"], categories: ["all"], extraVersions: ["v1"])
    static let roles = ResourceType(api: .roles, singular: "role", hasSpec: false)
    static let roleBindings = ResourceType(api: .roleBindings, singular: "rolebinding", hasSpec: false)
    static let leases = ResourceType(api: .leases, singular: "lease")
    static let selfSubjectAccessReviews = ResourceType(
        api: .selfSubjectAccessReviews, singular: "selfsubjectaccessreview", verbs: ["create"])
    static let selfSubjectReviews = ResourceType(api: .selfSubjectReviews, singular: "selfsubjectreview", verbs: ["create"])

    static let all: [ResourceType] = [
        namespaces, pods, services, endpoints, configMaps, secrets, serviceAccounts, events,
        deployments, replicaSets, hpas, roles, roleBindings, leases, selfSubjectAccessReviews, selfSubjectReviews,
    ]

    /// The resource served at `group/version` with plural `plural`, if any.
    static func lookup(group: String, version: String, plural: String) -> ResourceType? {
        all.first { $0.api.group == group && $0.api.plural == plural && ($0.api.version == version || $0.extraVersions.contains(version)) }
    }

    /// Group versions in discovery order; the first version of a group is the preferred one.
    static let groupVersions: [(group: String, versions: [String])] = [
        ("apps", ["v1"]),
        ("autoscaling", ["v2", "v1"]),
        ("rbac.authorization.k8s.io", ["v1"]),
        ("authorization.k8s.io", ["v1"]),
        ("authentication.k8s.io", ["v1"]),
        ("coordination.k8s.io", ["v1"]),
    ]

    /// Resources served in one group version.
    static func resources(group: String, version: String) -> [ResourceType] {
        all.filter { $0.api.group == group && ($0.api.version == version || $0.extraVersions.contains(version)) }
    }
}
