import KubeModel

/// The checks of the real API server that clients are likely to hit, reported as 422 causes.
enum Validation {
    static func validate(_ type: ResourceType, _ object: JSONValue) -> [KubeStatus.Cause] {
        var causes: [KubeStatus.Cause] = []
        if let name = object.name, !isValidName(name) {
            causes.append(.init(
                reason: "FieldValueInvalid",
                message: "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                field: "metadata.name"))
        }
        switch type.key {
        case ResourceCatalog.pods.key:
            causes += podSpec(object["spec"] ?? .emptyObject, field: "spec")
        case ResourceCatalog.deployments.key:
            causes += deployment(object)
        case ResourceCatalog.services.key:
            let spec = object["spec"] ?? .emptyObject
            let headless = spec["clusterIP"]?.string == "None"
            if (spec["ports"]?.array ?? []).isEmpty, !headless, spec["type"]?.string != "ExternalName" {
                causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "spec.ports"))
            }
            for (index, port) in (spec["ports"]?.array ?? []).enumerated() {
                guard let number = port["port"]?.int, (1...65535).contains(number) else {
                    causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "spec.ports[\(index)].port"))
                    continue
                }
            }
        default: break
        }
        return causes
    }

    static func isValidName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard !name.isEmpty, name.count <= 253, name.allSatisfy(allowed.contains),
              let first = name.first, let last = name.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber
        else { return false }
        return true
    }

    private static func podSpec(_ spec: JSONValue, field: String) -> [KubeStatus.Cause] {
        var causes: [KubeStatus.Cause] = []
        let containers = spec["containers"]?.array ?? []
        if containers.isEmpty {
            causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers"))
        }
        var names: Set<String> = []
        for (index, container) in containers.enumerated() {
            let name = container["name"]?.string ?? ""
            if name.isEmpty {
                causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers[\(index)].name"))
            } else if !names.insert(name).inserted {
                causes.append(.init(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(field).containers[\(index)].name"))
            }
            if (container["image"]?.string ?? "").isEmpty {
                causes.append(.init(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers[\(index)].image"))
            }
        }
        return causes
    }

    private static func deployment(_ object: JSONValue) -> [KubeStatus.Cause] {
        var causes: [KubeStatus.Cause] = []
        guard let selector = object[path: ["spec", "selector"]], selector != .emptyObject else {
            return [.init(reason: "FieldValueRequired", message: "Required value", field: "spec.selector")]
        }
        let labels = object[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        if !LabelSelector(object: selector).matches(labels) {
            causes.append(.init(
                reason: "FieldValueInvalid", message: "Invalid value: map[string]string{...}: `selector` does not match template `labels`",
                field: "spec.template.metadata.labels"))
        }
        if let replicas = object[path: ["spec", "replicas"]]?.int, replicas < 0 {
            causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \(replicas): must be greater than or equal to 0", field: "spec.replicas"))
        }
        causes += podSpec(object[path: ["spec", "template", "spec"]] ?? .emptyObject, field: "spec.template.spec")
        return causes
    }
}
