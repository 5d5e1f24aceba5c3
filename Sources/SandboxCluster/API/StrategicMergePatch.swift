import KubeModel

/// Strategic merge patch for the built-in types the sandbox serves.
///
/// Like a merge patch, except that lists with a merge key (containers by `name`, volumeMounts by
/// `mountPath`, …) merge element by element, and the directives `$patch: delete|replace`,
/// `$retainKeys` and `$deleteFromPrimitiveList/FIELD` are honoured. `$setElementOrder/…` is
/// accepted and ignored: the sandbox keeps the stored order and appends new elements.
enum StrategicMergePatch {
    static func apply(_ patch: JSONValue, to target: JSONValue) throws -> JSONValue {
        guard case .object(let patchMembers) = patch else {
            throw PatchError(message: "strategic merge patch must be a JSON object")
        }
        return mergeObject(target.object ?? [:], patchMembers) ?? .null
    }

    /// The merge key of a list field, or `nil` when the list is replaced as a whole.
    static func mergeKey(field: String, elements: [JSONValue]) -> String? {
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets": return "name"
        case "volumeMounts": return "mountPath"
        case "volumeDevices": return "devicePath"
        case "conditions": return "type"
        case "ownerReferences": return "uid"
        case "hostAliases": return "ip"
        case "ports":
            // Container ports merge by containerPort, Service ports by port.
            return elements.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        default: return nil
        }
    }

    /// Merges `patch` into `target`; `nil` means the patch asked to delete this map.
    private static func mergeObject(_ target: [String: JSONValue], _ patch: [String: JSONValue]) -> JSONValue? {
        switch patch["$patch"]?.string {
        case "delete": return nil
        case "replace": return stripDirectives(.object(patch))
        default: break
        }
        var result = target
        for (key, value) in patch {
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.array ?? []
                if let existing = result[field]?.array { result[field] = .array(existing.filter { !remove.contains($0) }) }
                continue
            }
            if key.hasPrefix("$") { continue }
            if value.isNull {
                result[key] = nil
            } else if case .object(let patchChild) = value {
                if let merged = mergeObject(result[key]?.object ?? [:], patchChild) { result[key] = merged } else { result[key] = nil }
            } else if case .array(let patchElements) = value, let existing = result[key]?.array,
                let mergeKey = mergeKey(field: key, elements: patchElements + existing)
            {
                result[key] = .array(mergeList(existing, patchElements, key: mergeKey))
            } else {
                result[key] = stripDirectives(value)
            }
        }
        if let retain = patch["$retainKeys"]?.array?.compactMap(\.string) {
            let keep = Set(retain)
            result = result.filter { keep.contains($0.key) }
        }
        return .object(result)
    }

    private static func mergeList(_ target: [JSONValue], _ patch: [JSONValue], key: String) -> [JSONValue] {
        if patch.contains(where: { $0["$patch"]?.string == "replace" }) {
            return patch.filter { $0["$patch"] == nil }.map(stripDirectives)
        }
        var result = target
        for element in patch {
            let identity = element[key]
            let index = result.firstIndex { identity != nil && $0[key] == identity }
            if element["$patch"]?.string == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index, case .object(let members) = element {
                result[index] = mergeObject(result[index].object ?? [:], members) ?? result[index]
            } else {
                result.append(stripDirectives(element))
            }
        }
        return result
    }

    private static func stripDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var clean: [String: JSONValue] = [:]
            for (key, member) in members where !key.hasPrefix("$") { clean[key] = stripDirectives(member) }
            return .object(clean)
        case .array(let elements):
            return .array(elements.map(stripDirectives))
        default:
            return value
        }
    }
}
