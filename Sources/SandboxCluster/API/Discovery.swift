import KubeModel

/// `/version`, `/api`, `/apis` and each group version's `APIResourceList`.
enum Discovery {
    static func version() -> JSONValue {
        [
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-swapdev-sandbox", "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0",
            "compiler": "gc", "platform": "linux/amd64",
        ]
    }

    static func coreVersions() -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]],
        ]
    }

    static func groups() -> JSONValue {
        .object([
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": .array(ResourceCatalog.groupVersions.map { entry in group(entry.group, entry.versions) }),
        ])
    }

    static func group(named name: String) -> JSONValue? {
        guard let entry = ResourceCatalog.groupVersions.first(where: { $0.group == name }) else { return nil }
        var value = group(entry.group, entry.versions)
        value["kind"] = "APIGroup"
        value["apiVersion"] = "v1"
        return value
    }

    private static func group(_ name: String, _ versions: [String]) -> JSONValue {
        let list: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(list), "preferredVersion": list.first ?? .null]
    }

    /// The `APIResourceList` of a group version, or `nil` when the sandbox does not serve it.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let served = group.isEmpty ? (version == "v1" ? ResourceCatalog.resources(group: "", version: "v1") : [])
            : ResourceCatalog.resources(group: group, version: version)
        guard !served.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in served {
            var entry: JSONValue = [
                "name": .string(type.api.plural), "singularName": .string(type.singular),
                "namespaced": .bool(type.api.namespaced), "kind": .string(type.api.kind),
                "verbs": .array(type.verbs.map(JSONValue.string)),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map(JSONValue.string)) }
            resources.append(entry)
            for sub in type.subresources {
                resources.append(subresourceEntry(type, sub))
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }

    private static func subresourceEntry(_ type: ResourceType, _ sub: String) -> JSONValue {
        var entry: JSONValue = [
            "name": .string("\(type.api.plural)/\(sub)"), "singularName": "",
            "namespaced": .bool(type.api.namespaced), "kind": .string(type.api.kind),
        ]
        switch sub {
        case "status": entry["verbs"] = ["get", "patch", "update"]
        case "scale":
            entry["verbs"] = ["get", "patch", "update"]
            entry["kind"] = "Scale"
            entry["group"] = "autoscaling"
            entry["version"] = "v1"
        case "log": entry["verbs"] = ["get"]
        case "exec", "portforward", "proxy": entry["kind"] = sub == "exec" ? "PodExecOptions" : (sub == "portforward" ? "PodPortForwardOptions" : "PodProxyOptions")
            entry["verbs"] = ["create", "get"]
        case "binding": entry["kind"] = "Binding"; entry["verbs"] = ["create"]
        case "eviction": entry["kind"] = "Eviction"; entry["group"] = "policy"; entry["version"] = "v1"; entry["verbs"] = ["create"]
        case "finalize": entry["verbs"] = ["update"]
        default: entry["verbs"] = ["get"]
        }
        return entry
    }
}
