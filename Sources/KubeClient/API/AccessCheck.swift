import Foundation
import KubeModel

/// One permission swapdev needs, checked with a SelfSubjectAccessReview.
public struct RequiredPermission: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var group: String
    public var resource: String
    public var subresource: String?

    public init(_ verb: String, _ resource: String, group: String = "", subresource: String? = nil) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
    }

    /// `verb resource[/subresource][.group]`, the form `kubectl auth can-i` accepts.
    public var description: String {
        "\(verb) \(resource)\(subresource.map { "/\($0)" } ?? "")\(group.isEmpty ? "" : ".\(group)")"
    }

    /// Everything `swapdev swap` and `swapdev dev` do in a namespace.
    public static let swapdev: [RequiredPermission] = {
        var list: [RequiredPermission] = []
        for verb in ["get", "list", "watch", "patch", "update"] { list.append(.init(verb, "deployments", group: "apps")) }
        for verb in ["get", "update", "patch"] { list.append(.init(verb, "deployments", group: "apps", subresource: "scale")) }
        for verb in ["create", "delete", "get", "list", "watch"] { list.append(.init(verb, "pods")) }
        for verb in ["create", "get"] { list.append(.init(verb, "pods", subresource: "exec")) }
        for verb in ["create", "get"] { list.append(.init(verb, "pods", subresource: "portforward")) }
        list.append(.init("get", "pods", subresource: "log"))
        for resource in ["configmaps", "secrets", "services", "endpoints"] {
            for verb in ["get", "list"] { list.append(.init(verb, resource)) }
        }
        for verb in ["create", "delete"] {
            list.append(.init(verb, "serviceaccounts"))
            list.append(.init(verb, "roles", group: "rbac.authorization.k8s.io"))
            list.append(.init(verb, "rolebindings", group: "rbac.authorization.k8s.io"))
        }
        for verb in ["get", "list"] { list.append(.init(verb, "horizontalpodautoscalers", group: "autoscaling")) }
        return list
    }()
}

/// What `swapdev doctor` found.
public struct ClusterDiagnosis: Sendable {
    public var server: String
    public var context: String?
    public var namespace: String
    public var configSource: String
    public var authMethod: String
    /// `gitVersion` of the server, or `nil` if `/version` failed.
    public var serverVersion: String?
    /// The authenticated user (SelfSubjectReview), else the kubeconfig user name.
    public var user: String
    public var groups: [String]
    /// Permissions that were denied.
    public var missing: [RequiredPermission]
    /// Permissions that could not be checked, with why.
    public var unchecked: [(RequiredPermission, String)]
    public var checkedCount: Int

    /// Everything swapdev needs is in place.
    public var isHealthy: Bool { serverVersion != nil && missing.isEmpty && unchecked.isEmpty }
}

extension KubeClient {
    /// Checks connectivity, identity and every permission in `permissions` in the client's namespace.
    ///
    /// Throws only when the server cannot be reached at all (the `/version` request fails).
    public func diagnose(permissions: [RequiredPermission] = RequiredPermission.swapdev) async throws -> ClusterDiagnosis {
        let version = try await serverVersion()
        var user = config.userName.map { "\($0) (kubeconfig user; SelfSubjectReview unavailable)" } ?? "unknown"
        var groups: [String] = []
        if let info = try? await whoAmI(), let name = info["username"]?.string {
            user = name
            groups = (info["groups"]?.array ?? []).compactMap(\.string)
        }
        var missing: [RequiredPermission] = []
        var unchecked: [(RequiredPermission, String)] = []
        // Reviews are independent; run them concurrently over the pooled connections.
        try await withThrowingTaskGroup(of: (RequiredPermission, Result<Bool, any Error>).self) { group in
            for permission in permissions {
                group.addTask { [self] in
                    do {
                        let allowed = try await accessReview(verb: permission.verb, resource: permission.resource, group: permission.group, subresource: permission.subresource, namespace: namespace)
                        return (permission, .success(allowed))
                    } catch {
                        return (permission, .failure(error))
                    }
                }
            }
            for try await (permission, result) in group {
                switch result {
                case .success(true): break
                case .success(false): missing.append(permission)
                case .failure(let error): unchecked.append((permission, "\(error)"))
                }
            }
        }
        let order = Dictionary(uniqueKeysWithValues: permissions.enumerated().map { ($1, $0) })
        missing.sort { order[$0, default: 0] < order[$1, default: 0] }
        unchecked.sort { order[$0.0, default: 0] < order[$1.0, default: 0] }
        return ClusterDiagnosis(
            server: config.server.description, context: config.contextName, namespace: namespace,
            configSource: config.source, authMethod: config.auth.kindName,
            serverVersion: version["gitVersion"]?.string ?? "\(version["major"]?.string ?? "?").\(version["minor"]?.string ?? "?")",
            user: user, groups: groups, missing: missing, unchecked: unchecked, checkedCount: permissions.count)
    }
}
