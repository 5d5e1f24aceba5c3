import Foundation
import KubeModel

/// One environment variable of a container.
public struct EnvironmentVariable: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name)=\(value)" }
}

/// The cluster objects a container's environment may draw from.
public struct EnvironmentSources: Sendable {
    /// ConfigMaps of the pod's namespace, by name.
    public var configMaps: [String: JSONValue]
    /// Secrets of the pod's namespace, by name.
    public var secrets: [String: JSONValue]
    /// Services of the pod's namespace (linked only when `enableServiceLinks` is not false).
    public var services: [JSONValue]
    /// The `kubernetes` Service of namespace `default`, always linked.
    public var kubernetesService: JSONValue?
    /// What `resourceFieldRef` reports for a limit the container does not set.
    public var nodeAllocatable: NodeAllocatable

    public init(
        configMaps: [String: JSONValue] = [:], secrets: [String: JSONValue] = [:], services: [JSONValue] = [],
        kubernetesService: JSONValue? = nil, nodeAllocatable: NodeAllocatable = .init()
    ) {
        self.configMaps = configMaps
        self.secrets = secrets
        self.services = services
        self.kubernetesService = kubernetesService
        self.nodeAllocatable = nodeAllocatable
    }
}

/// A node's allocatable resources, the kubelet's default for unset limits.
public struct NodeAllocatable: Sendable, Hashable {
    public var cpuCores: Double
    public var memoryBytes: Double
    public var ephemeralStorageBytes: Double

    public init(cpuCores: Double = 2, memoryBytes: Double = 8 * 1_073_741_824, ephemeralStorageBytes: Double = 100 * 1_073_741_824) {
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.ephemeralStorageBytes = ephemeralStorageBytes
    }
}

/// Why a container's environment cannot be computed — the kubelet's `CreateContainerConfigError`.
public enum ContainerEnvironmentError: Error, Sendable, Hashable, CustomStringConvertible {
    case configMapNotFound(name: String)
    case secretNotFound(name: String)
    case keyNotFound(kind: String, name: String, key: String)
    case unsupportedFieldPath(String)
    case unsupportedResource(String)
    case containerNotFound(String)
    case secretValueNotText(secret: String, key: String)

    public var description: String {
        switch self {
        case .configMapNotFound(let name):
            return "configmap \"\(name)\" not found (create it, or mark the reference optional: true)"
        case .secretNotFound(let name):
            return "secret \"\(name)\" not found (create it, or mark the reference optional: true)"
        case .keyNotFound(let kind, let name, let key):
            return "couldn't find key \(key) in \(kind) \"\(name)\" (add the key, or mark the reference optional: true)"
        case .unsupportedFieldPath(let path):
            return "unsupported fieldRef fieldPath \(path)"
        case .unsupportedResource(let resource):
            return "unsupported resourceFieldRef resource \(resource)"
        case .containerNotFound(let name):
            return "container \(name) not found in the pod spec"
        case .secretValueNotText(let secret, let key):
            return "secret \"\(secret)\" key \(key) is binary and cannot be an environment variable (mount it as a volume instead)"
        }
    }
}

/// The kubelet's `makeEnvironmentVariables`: a container's environment from its pod spec and the
/// objects it references. One function, used by the swap engine (to check what the proxy
/// reports) and by the sandbox (to start containers), so both follow the same rules.
public enum ContainerEnvironment {
    /// Computes the environment of `containerName` in `pod`.
    ///
    /// Order: envFrom and env in declaration order (a later entry with the same name replaces the
    /// value in place), then service-link variables not already set, sorted by name.
    public static func resolve(pod: JSONValue, containerName: String, sources: EnvironmentSources) throws -> [EnvironmentVariable] {
        let containers = (pod[path: ["spec", "containers"]]?.array ?? []) + (pod[path: ["spec", "initContainers"]]?.array ?? [])
        guard let container = containers.first(where: { $0["name"]?.string == containerName }) else {
            throw ContainerEnvironmentError.containerNotFound(containerName)
        }
        return try resolve(pod: pod, container: container, sources: sources)
    }

    /// Computes the environment of `container` (an element of the pod's `spec.containers`).
    public static func resolve(pod: JSONValue, container: JSONValue, sources: EnvironmentSources) throws -> [EnvironmentVariable] {
        let serviceVariables = serviceLinkVariables(pod: pod, sources: sources)
        var serviceMap: [String: String] = [:]
        for variable in serviceVariables { serviceMap[variable.name] = variable.value }

        var environment = OrderedEnvironment()
        for source in container["envFrom"]?.array ?? [] {
            try addEnvFrom(source, to: &environment, sources: sources)
        }
        for entry in container["env"]?.array ?? [] {
            guard let name = entry["name"]?.string else { continue }
            if let value = entry["value"]?.string, !value.isEmpty {
                let expanded = VariableExpansion.expand(value) { environment[$0] ?? serviceMap[$0] }
                environment[name] = expanded
            } else if let valueFrom = entry["valueFrom"] {
                if let value = try resolveValueFrom(valueFrom, pod: pod, container: container, sources: sources) {
                    environment[name] = value
                }
            } else {
                environment[name] = ""
            }
        }
        for variable in serviceVariables.sorted(by: { $0.name < $1.name }) where environment[variable.name] == nil {
            environment[variable.name] = variable.value
        }
        return environment.variables
    }

    /// Service-link variables for the pod: the `kubernetes` Service always, the namespace's
    /// Services unless `enableServiceLinks: false`. Later duplicates do not replace earlier ones.
    public static func serviceLinkVariables(pod: JSONValue, sources: EnvironmentSources) -> [EnvironmentVariable] {
        var services: [JSONValue] = []
        if pod[path: ["spec", "enableServiceLinks"]]?.bool != false {
            services += sources.services
        }
        if let kubernetes = sources.kubernetesService {
            services.removeAll { $0.name == "kubernetes" && ($0.namespace ?? "default") == "default" }
            services.append(kubernetes)
        }
        var seen = Set<String>()
        var result: [EnvironmentVariable] = []
        for service in services {
            for variable in ServiceLinks.variables(for: service) where seen.insert(variable.name).inserted {
                result.append(variable)
            }
        }
        return result
    }

    private static func addEnvFrom(_ source: JSONValue, to environment: inout OrderedEnvironment, sources: EnvironmentSources) throws {
        let prefix = source["prefix"]?.string ?? ""
        if let reference = source["configMapRef"] {
            let name = reference["name"]?.string ?? ""
            guard let configMap = sources.configMaps[name] else {
                if reference["optional"]?.bool == true { return }
                throw ContainerEnvironmentError.configMapNotFound(name: name)
            }
            for (key, value) in (configMap["data"]?.stringMap ?? [:]).sorted(by: { $0.key < $1.key }) {
                environment[prefix + key] = value
            }
        } else if let reference = source["secretRef"] {
            let name = reference["name"]?.string ?? ""
            guard let secret = sources.secrets[name] else {
                if reference["optional"]?.bool == true { return }
                throw ContainerEnvironmentError.secretNotFound(name: name)
            }
            for key in (secret["data"]?.object ?? [:]).keys.sorted() {
                if let value = try secretValue(secret, name: name, key: key) {
                    environment[prefix + key] = value
                }
            }
        }
    }

    private static func resolveValueFrom(_ valueFrom: JSONValue, pod: JSONValue, container: JSONValue, sources: EnvironmentSources) throws -> String? {
        if let reference = valueFrom["configMapKeyRef"] {
            let name = reference["name"]?.string ?? ""
            let key = reference["key"]?.string ?? ""
            let optional = reference["optional"]?.bool == true
            guard let configMap = sources.configMaps[name] else {
                if optional { return nil }
                throw ContainerEnvironmentError.configMapNotFound(name: name)
            }
            guard let value = configMap[path: ["data", key]]?.string else {
                if optional { return nil }
                throw ContainerEnvironmentError.keyNotFound(kind: "configmap", name: name, key: key)
            }
            return value
        }
        if let reference = valueFrom["secretKeyRef"] {
            let name = reference["name"]?.string ?? ""
            let key = reference["key"]?.string ?? ""
            let optional = reference["optional"]?.bool == true
            guard let secret = sources.secrets[name] else {
                if optional { return nil }
                throw ContainerEnvironmentError.secretNotFound(name: name)
            }
            guard let value = try secretValue(secret, name: name, key: key) else {
                if optional { return nil }
                throw ContainerEnvironmentError.keyNotFound(kind: "secret", name: name, key: key)
            }
            return value
        }
        if let fieldRef = valueFrom["fieldRef"] {
            return try FieldPath.value(of: fieldRef["fieldPath"]?.string ?? "", in: pod)
        }
        if let resourceRef = valueFrom["resourceFieldRef"] {
            return try ResourceFieldReference.value(resourceRef, pod: pod, container: container, allocatable: sources.nodeAllocatable)
        }
        return nil
    }

    /// A Secret's decoded value (`data` is base64); `nil` when the key is absent.
    private static func secretValue(_ secret: JSONValue, name: String, key: String) throws -> String? {
        if let encoded = secret[path: ["data", key]]?.string {
            guard let bytes = Data(base64Encoded: encoded) else { return nil }
            guard let text = String(data: bytes, encoding: .utf8), !text.contains("\0") else {
                throw ContainerEnvironmentError.secretValueNotText(secret: name, key: key)
            }
            return text
        }
        // `stringData` is write-only on a real server, but accept it from objects not yet stored.
        return secret[path: ["stringData", key]]?.string
    }
}

/// Variables in first-set order; setting an existing name replaces its value in place.
struct OrderedEnvironment {
    private(set) var variables: [EnvironmentVariable] = []
    private var indexByName: [String: Int] = [:]

    subscript(name: String) -> String? {
        get { indexByName[name].map { variables[$0].value } }
        set {
            guard let newValue else { return }
            if let index = indexByName[name] {
                variables[index].value = newValue
            } else {
                indexByName[name] = variables.count
                variables.append(EnvironmentVariable(name: name, value: newValue))
            }
        }
    }
}
