import KubeModel

/// A minimal OpenAPI v3 surface, enough for kubectl to learn that the sandbox supports the
/// `fieldValidation` query parameter (server-side validation). Without it kubectl falls back
/// to client-side schema validation, which needs full schemas the sandbox does not have.
/// The documents list each resource's PATCH operation with its group-version-kind; there are
/// no schemas, so `kubectl explain` does not work.
enum OpenAPI {
    static let hash = "swapdev-sandbox-1"

    static func groupVersionPath(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// `/openapi/v3`: the group versions and where their documents are.
    static func root() -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var groupVersions = [(group: "", version: "v1")]
        for entry in ResourceCatalog.groupVersions {
            for version in entry.versions { groupVersions.append((entry.group, version)) }
        }
        for (group, version) in groupVersions {
            let path = groupVersionPath(group: group, version: version)
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash)")]
        }
        return ["paths": .object(paths)]
    }

    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`; `nil` for other paths.
    static func document(path: String) -> JSONValue? {
        let segments = path.split(separator: "/").map(String.init)
        let group: String, version: String
        if segments.count == 2, segments[0] == "api" {
            (group, version) = ("", segments[1])
        } else if segments.count == 3, segments[0] == "apis" {
            (group, version) = (segments[1], segments[2])
        } else {
            return nil
        }
        let types = ResourceCatalog.resources(group: group, version: version)
        guard !types.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        for type in types where type.verbs.contains("patch") {
            let base = "/" + groupVersionPath(group: group, version: version)
            let objectPath = type.api.namespaced ? "\(base)/namespaces/{namespace}/\(type.api.plural)/{name}" : "\(base)/\(type.api.plural)/{name}"
            let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(type.api.kind)]
            let parameters: JSONValue = [
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
            ]
            let operation: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                "parameters": parameters, "responses": ["200": ["description": "OK"]],
            ]
            let create: JSONValue = [
                "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "post",
                "parameters": parameters, "responses": ["201": ["description": "Created"]],
            ]
            paths[objectPath] = ["patch": operation, "put": operation]
            let collection = type.api.namespaced ? "\(base)/namespaces/{namespace}/\(type.api.plural)" : "\(base)/\(type.api.plural)"
            paths[collection] = ["post": create]
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "swapdev sandbox (not Kubernetes)", "version": "v1.32.0"],
            "paths": .object(paths),
            "components": ["schemas": .emptyObject],
        ]
    }
}
