/// Where a kind of object lives in the REST API.
///
/// `APIResource.deployments.path(namespace: "dev", name: "web")` is
/// `/apis/apps/v1/namespaces/dev/deployments/web`.
public struct APIResource: Sendable, Hashable {
    /// API group; empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    public var kind: String
    /// Lower-case plural used in paths, e.g. `deployments`.
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `apps/v1` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection or object path; `namespace` is ignored for cluster-scoped resources.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name {
            path += "/\(name)"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }
}

extension APIResource {
    public static let namespaces = APIResource(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false)
    public static let pods = APIResource(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)
    public static let services = APIResource(group: "", version: "v1", kind: "Service", plural: "services", namespaced: true)
    public static let endpoints = APIResource(group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true)
    public static let configMaps = APIResource(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true)
    public static let secrets = APIResource(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
    public static let serviceAccounts = APIResource(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true)
    public static let events = APIResource(group: "", version: "v1", kind: "Event", plural: "events", namespaced: true)
    public static let deployments = APIResource(group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true)
    public static let replicaSets = APIResource(group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true)
    public static let horizontalPodAutoscalers = APIResource(group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", namespaced: true)
    public static let roles = APIResource(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true)
    public static let roleBindings = APIResource(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", namespaced: true)
    public static let leases = APIResource(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true)
    public static let selfSubjectAccessReviews = APIResource(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews", namespaced: false)
    public static let selfSubjectReviews = APIResource(group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", plural: "selfsubjectreviews", namespaced: false)
}
