import Foundation
import KubeModel
import NIOHTTP1

/// How a PATCH body is interpreted.
public enum PatchType: Sendable, Hashable {
    /// RFC 7386 JSON merge patch: `null` deletes, lists are replaced.
    case merge
    /// Kubernetes strategic merge patch: lists of built-in types merge by key (containers by name).
    case strategicMerge
    /// RFC 6902 JSON patch: an array of operations (`test` can guard).
    case json

    /// The request's `Content-Type`.
    public var contentType: String {
        switch self {
        case .merge: return "application/merge-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .json: return "application/json-patch+json"
        }
    }
}

/// How dependents are handled when deleting (`propagationPolicy`).
public enum DeletePropagation: String, Sendable, Hashable {
    case foreground = "Foreground"
    case background = "Background"
    case orphan = "Orphan"
}

/// The items of a list plus the resourceVersion to watch from.
public struct ObjectList: Sendable, Hashable {
    public var items: [JSONValue]
    /// `metadata.resourceVersion` of the list, the point a watch resumes from.
    public var resourceVersion: String?
    /// The list object as returned.
    public var raw: JSONValue
}

extension KubeClient {
    /// `nil` means the client's default namespace; `""` means all namespaces (for lists and watches).
    func resolveNamespace(_ resource: APIResource, _ namespace: String?) -> String? {
        guard resource.namespaced else { return nil }
        guard let namespace else { return config.namespace }
        return namespace.isEmpty ? nil : namespace
    }

    /// Reads one object.
    public func get(_ resource: APIResource, namespace: String? = nil, name: String) async throws -> JSONValue {
        let path = resource.path(namespace: resolveNamespace(resource, namespace), name: name)
        return try decode(try await perform(.GET, path), request: "get \(resource.plural)/\(name)")
    }

    /// Lists objects, optionally filtered by label (`app=web,tier!=db`) and field (`status.phase=Running`) selectors.
    public func list(_ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) async throws -> ObjectList {
        var query: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        let path = resource.path(namespace: resolveNamespace(resource, namespace))
        let json = try decode(try await perform(.GET, path, query: query), request: "list \(resource.plural)")
        return ObjectList(items: json["items"]?.array ?? [], resourceVersion: json.resourceVersion, raw: json)
    }

    /// Creates `object`; its namespace defaults to the client's.
    @discardableResult
    public func create(_ resource: APIResource, namespace: String? = nil, object: JSONValue) async throws -> JSONValue {
        let path = resource.path(namespace: resolveNamespace(resource, namespace ?? object.namespace))
        let response = try await perform(.POST, path, body: object.serialized(), contentType: "application/json")
        return try decode(response, request: "create \(resource.plural)/\(object.name ?? "")")
    }

    /// Replaces `object` (PUT). Its `metadata.resourceVersion`, when set, is a precondition: a stale one fails with ``KubeError/conflict(_:)``.
    @discardableResult
    public func update(_ resource: APIResource, namespace: String? = nil, object: JSONValue) async throws -> JSONValue {
        guard let name = object.name else { throw KubeError.protocolViolation("update of \(resource.plural) needs metadata.name") }
        let path = resource.path(namespace: resolveNamespace(resource, namespace ?? object.namespace), name: name)
        let response = try await perform(.PUT, path, body: object.serialized(), contentType: "application/json")
        return try decode(response, request: "update \(resource.plural)/\(name)")
    }

    /// Deletes an object; returns the server's answer (the object or a Status).
    @discardableResult
    public func delete(_ resource: APIResource, namespace: String? = nil, name: String, propagation: DeletePropagation? = nil, gracePeriodSeconds: Int? = nil) async throws -> JSONValue {
        var options: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagation { options["propagationPolicy"] = .string(propagation.rawValue) }
        if let gracePeriodSeconds { options["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        let path = resource.path(namespace: resolveNamespace(resource, namespace), name: name)
        let response = try await perform(.DELETE, path, body: options.serialized(), contentType: "application/json")
        return try decode(response, request: "delete \(resource.plural)/\(name)")
    }

    /// Patches an object (or a subresource such as `status` or `scale`).
    @discardableResult
    public func patch(_ resource: APIResource, namespace: String? = nil, name: String, subresource: String? = nil, type: PatchType, patch: JSONValue) async throws -> JSONValue {
        let path = resource.path(namespace: resolveNamespace(resource, namespace), name: name, subresource: subresource)
        let response = try await perform(.PATCH, path, body: patch.serialized(), contentType: type.contentType)
        return try decode(response, request: "patch \(resource.plural)/\(name)")
    }

    /// The `Scale` subresource of a Deployment.
    public func getScale(deployment name: String, namespace: String? = nil) async throws -> JSONValue {
        let path = APIResource.deployments.path(namespace: resolveNamespace(.deployments, namespace), name: name, subresource: "scale")
        return try decode(try await perform(.GET, path), request: "get deployments/\(name)/scale")
    }

    /// Sets a Deployment's replicas through the scale subresource (merge patch, like `kubectl scale`).
    @discardableResult
    public func scale(deployment name: String, namespace: String? = nil, replicas: Int) async throws -> JSONValue {
        try await patch(.deployments, namespace: namespace, name: name, subresource: "scale", type: .merge, patch: ["spec": ["replicas": .int(Int64(replicas))]])
    }

    /// Asks the server whether the current user may do `verb` (SelfSubjectAccessReview).
    public func accessReview(verb: String, resource: String, group: String = "", subresource: String? = nil, namespace: String? = nil, name: String? = nil) async throws -> Bool {
        var attributes: JSONValue = ["verb": .string(verb), "resource": .string(resource), "group": .string(group)]
        if let subresource { attributes["subresource"] = .string(subresource) }
        if let namespace { attributes["namespace"] = .string(namespace) }
        if let name { attributes["name"] = .string(name) }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": ["resourceAttributes": attributes],
        ]
        let result = try await create(.selfSubjectAccessReviews, object: review)
        return result[path: ["status", "allowed"]]?.bool ?? false
    }

    /// Who the server thinks the user is (SelfSubjectReview, `authentication.k8s.io/v1`): `status.userInfo`.
    public func whoAmI() async throws -> JSONValue {
        let review: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"]
        let result = try await create(.selfSubjectReviews, object: review)
        return result[path: ["status", "userInfo"]] ?? .emptyObject
    }

    /// `GET /version`: `gitVersion`, `major`, `minor`, `platform`, …
    public func serverVersion() async throws -> JSONValue {
        try decode(try await perform(.GET, "/version"), request: "get /version")
    }

    /// A raw GET for paths not covered by ``APIResource`` (e.g. `/apis`, `/healthz`), decoded as JSON.
    public func getJSON(path: String, query: [(String, String)] = []) async throws -> JSONValue {
        try decode(try await perform(.GET, path, query: query), request: "get \(path)")
    }
}
