import Foundation
import KubeModel

/// `deployments/scale` (and replicasets): an autoscaling/v1 `Scale` view of `spec.replicas`.
enum ScaleSubresource {
    static func scale(of object: JSONValue) -> JSONValue {
        let selector = LabelSelector(object: object[path: ["spec", "selector"]] ?? .emptyObject)
        return [
            "apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": [
                "name": object["metadata"]?["name"] ?? .null, "namespace": object["metadata"]?["namespace"] ?? .null,
                "uid": object["metadata"]?["uid"] ?? .null, "resourceVersion": object["metadata"]?["resourceVersion"] ?? .null,
                "creationTimestamp": object["metadata"]?["creationTimestamp"] ?? .null,
            ],
            "spec": ["replicas": .int(Int64(object[path: ["spec", "replicas"]]?.int ?? 1))],
            "status": ["replicas": .int(Int64(object[path: ["status", "replicas"]]?.int ?? 0)), "selector": .string(selector.text)],
        ]
    }

    static func handle(_ request: APIRequest, type: ResourceType, namespace: String, name: String, registry: Registry) throws -> APIResponse {
        switch request.method {
        case "GET":
            return .ok(scale(of: try registry.get(type, namespace: namespace, name: name)))
        case "PUT":
            let body = try APIRouter.parseBody(request)
            return .ok(scale(of: try setReplicas(body, type: type, namespace: namespace, name: name, registry: registry)))
        case "PATCH":
            guard let kind = Registry.PatchKind(contentType: request.header("content-type") ?? "") else {
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json")
            }
            let patch: JSONValue
            do { patch = try JSONValue(parsing: request.body) } catch { throw APIError.badRequest("the patch is not valid JSON: \(error)") }
            let current = scale(of: try registry.get(type, namespace: namespace, name: name))
            let patched = try Registry.apply(kind, patch: patch, to: current, type: type, name: name)
            return .ok(scale(of: try setReplicas(patched, type: type, namespace: namespace, name: name, registry: registry)))
        default:
            throw APIError.methodNotAllowed(request.method, request.path)
        }
    }

    /// Writes `spec.replicas` from a Scale; its resourceVersion, when set, is a precondition on the owner.
    private static func setReplicas(_ scale: JSONValue, type: ResourceType, namespace: String, name: String, registry: Registry) throws -> JSONValue {
        guard let replicas = scale[path: ["spec", "replicas"]]?.int, replicas >= 0 else {
            throw APIError.invalid(type, name, causes: [.init(reason: "FieldValueInvalid", message: "Invalid value: must be greater than or equal to 0", field: "spec.replicas")])
        }
        var object = try registry.get(type, namespace: namespace, name: name)
        if let rv = scale.resourceVersion, !rv.isEmpty, rv != object.resourceVersion { throw APIError.conflict(type, name) }
        object[path: ["spec", "replicas"]] = .int(Int64(replicas))
        if scale.resourceVersion == nil || scale.resourceVersion == "" { object.resourceVersion = nil }
        return try registry.update(type, namespace: namespace, name: name, body: object)
    }
}
