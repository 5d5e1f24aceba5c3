import Foundation
import KubeModel

/// `fieldRef.fieldPath` values the downward API supports for environment variables.
enum FieldPath {
    static func value(of path: String, in pod: JSONValue) throws -> String {
        switch path {
        case "metadata.name": return pod.name ?? ""
        case "metadata.namespace": return pod.namespace ?? "default"
        case "metadata.uid": return pod.uid ?? ""
        case "spec.nodeName": return pod[path: ["spec", "nodeName"]]?.string ?? ""
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.string ?? "default"
        case "status.hostIP": return pod[path: ["status", "hostIP"]]?.string ?? ""
        case "status.podIP": return pod[path: ["status", "podIP"]]?.string ?? ""
        case "status.hostIPs": return ips(pod[path: ["status", "hostIPs"]], fallback: pod[path: ["status", "hostIP"]])
        case "status.podIPs": return ips(pod[path: ["status", "podIPs"]], fallback: pod[path: ["status", "podIP"]])
        default:
            if let key = bracketedKey(path, prefix: "metadata.labels") {
                return pod.labels[key] ?? ""
            }
            if let key = bracketedKey(path, prefix: "metadata.annotations") {
                return pod.annotations[key] ?? ""
            }
            throw ContainerEnvironmentError.unsupportedFieldPath(path)
        }
    }

    private static func ips(_ list: JSONValue?, fallback: JSONValue?) -> String {
        let addresses = (list?.array ?? []).compactMap { $0["ip"]?.string }
        if addresses.isEmpty { return fallback?.string ?? "" }
        return addresses.joined(separator: ",")
    }

    /// `metadata.labels['app']` → `app`.
    private static func bracketedKey(_ path: String, prefix: String) -> String? {
        guard path.hasPrefix(prefix + "["), path.hasSuffix("]") else { return nil }
        var key = path.dropFirst(prefix.count + 1).dropLast()
        if key.count >= 2, let first = key.first, first == "'" || first == "\"", key.last == first {
            key = key.dropFirst().dropLast()
        }
        return String(key)
    }
}

/// `resourceFieldRef`: a container's requests or limits, as `ceil(value / divisor)`.
enum ResourceFieldReference {
    static func value(_ reference: JSONValue, pod: JSONValue, container: JSONValue, allocatable: NodeAllocatable) throws -> String {
        let resource = reference["resource"]?.string ?? ""
        var target = container
        if let name = reference["containerName"]?.string, !name.isEmpty,
           let named = (pod[path: ["spec", "containers"]]?.array ?? []).first(where: { $0["name"]?.string == name })
        {
            target = named
        }
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == "limits" || parts[0] == "requests" else {
            throw ContainerEnvironmentError.unsupportedResource(resource)
        }
        let (kind, name) = (parts[0], parts[1])
        let divisor = Self.quantity(reference["divisor"]) ?? Quantity(value: 1)
        guard divisor.value > 0 else { throw ContainerEnvironmentError.unsupportedResource(resource) }

        var amount = Self.quantity(target[path: ["resources", kind, name]])
        if amount == nil, kind == "requests" {
            // An unset request defaults to the limit, as the API server's defaulting does.
            amount = Self.quantity(target[path: ["resources", "limits", name]])
        }
        let value: Double
        if let amount {
            value = amount.value
        } else {
            switch name {
            case "cpu": value = kind == "limits" ? allocatable.cpuCores : 0
            case "memory": value = kind == "limits" ? allocatable.memoryBytes : 0
            case "ephemeral-storage": value = kind == "limits" ? allocatable.ephemeralStorageBytes : 0
            default:
                guard name.hasPrefix("hugepages-") else { throw ContainerEnvironmentError.unsupportedResource(resource) }
                value = 0
            }
        }
        if name == "cpu" {
            // CPU is computed in millicores so that 250m with divisor 1 gives 1, not 0.
            let millis = (value * 1000).rounded(.up)
            let divisorMillis = divisor.value * 1000
            return String(Int64((millis / divisorMillis).rounded(.up)))
        }
        return String(Int64((value / divisor.value).rounded(.up)))
    }

    private static func quantity(_ json: JSONValue?) -> Quantity? {
        switch json {
        case .string(let text)?: return Quantity(text)
        case .int(let number)?: return Quantity(value: Double(number))
        case .double(let number)?: return Quantity(value: number)
        default: return nil
        }
    }
}
