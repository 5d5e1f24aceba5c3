import Foundation
import KubeEnvironment
import KubeModel
import SandboxRuntime

/// Materializes pod volumes: configMap, secret, projected (service-account token, configMap,
/// secret, downwardAPI), downwardAPI; emptyDir stays empty. Other volume types become emptyDirs.
extension LaunchSpecBuilder {
    func volumeSpec(_ volume: JSONValue, pod: JSONValue) throws -> VolumeSpec {
        let name = volume["name"]?.string ?? ""
        let namespace = pod.namespace ?? "default"
        let mode = UInt16(clamping: volume["configMap"]?["defaultMode"]?.int ?? volume["secret"]?["defaultMode"]?.int
            ?? volume["projected"]?["defaultMode"]?.int ?? volume["downwardAPI"]?["defaultMode"]?.int ?? 0o644)
        if let source = volume["configMap"] {
            return VolumeSpec(name: name, source: .files(try configMapFiles(source, namespace: namespace), mode: mode))
        }
        if let source = volume["secret"] {
            return VolumeSpec(name: name, source: .files(try secretFiles(source, namespace: namespace), mode: mode))
        }
        if let source = volume["downwardAPI"] {
            return VolumeSpec(name: name, source: .files(try downwardFiles(source, pod: pod), mode: mode))
        }
        if let projected = volume["projected"] {
            var files: [String: Data] = [:]
            for source in projected["sources"]?.array ?? [] {
                if let token = source["serviceAccountToken"] {
                    files[token["path"]?.string ?? "token"] = Data(serviceAccountToken(pod: pod).utf8)
                } else if let configMap = source["configMap"] {
                    files.merge(try configMapFiles(configMap, namespace: namespace)) { _, new in new }
                } else if let secret = source["secret"] {
                    files.merge(try secretFiles(secret, namespace: namespace)) { _, new in new }
                } else if let downward = source["downwardAPI"] {
                    files.merge(try downwardFiles(downward, pod: pod)) { _, new in new }
                }
            }
            return VolumeSpec(name: name, source: .files(files, mode: mode))
        }
        return VolumeSpec(name: name, source: .emptyDir)
    }

    /// The token of the pod's service account, from its token secret.
    func serviceAccountToken(pod: JSONValue) -> String {
        let namespace = pod.namespace ?? "default"
        let account = pod[path: ["spec", "serviceAccountName"]]?.string ?? "default"
        let secret = try? registry.get(ResourceCatalog.secrets, namespace: namespace, name: ServiceAccountTokens.secretName(account))
        return secret?[path: ["data", "token"]]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private func configMapFiles(_ source: JSONValue, namespace: String) throws -> [String: Data] {
        let name = source["name"]?.string ?? ""
        guard let configMap = try? registry.get(ResourceCatalog.configMaps, namespace: namespace, name: name) else {
            if source["optional"]?.bool == true { return [:] }
            throw ContainerStartProblem(container: "", reason: "CreateContainerConfigError", message: "configmap \"\(name)\" not found (volume source)")
        }
        var all: [String: Data] = [:]
        for (key, value) in configMap["data"]?.stringMap ?? [:] { all[key] = Data(value.utf8) }
        for (key, value) in configMap["binaryData"]?.stringMap ?? [:] { all[key] = Data(base64Encoded: value) ?? Data() }
        return try select(all, items: source["items"], kind: "configmap", name: name)
    }

    private func secretFiles(_ source: JSONValue, namespace: String) throws -> [String: Data] {
        let name = source["secretName"]?.string ?? source["name"]?.string ?? ""
        guard let secret = try? registry.get(ResourceCatalog.secrets, namespace: namespace, name: name) else {
            if source["optional"]?.bool == true { return [:] }
            throw ContainerStartProblem(container: "", reason: "CreateContainerConfigError", message: "secret \"\(name)\" not found (volume source)")
        }
        var all: [String: Data] = [:]
        for (key, value) in secret["data"]?.stringMap ?? [:] { all[key] = Data(base64Encoded: value) ?? Data() }
        return try select(all, items: source["items"], kind: "secret", name: name)
    }

    private func select(_ all: [String: Data], items: JSONValue?, kind: String, name: String) throws -> [String: Data] {
        guard let items = items?.array else { return all }
        var files: [String: Data] = [:]
        for item in items {
            guard let key = item["key"]?.string, let path = item["path"]?.string else { continue }
            guard let data = all[key] else {
                throw ContainerStartProblem(container: "", reason: "CreateContainerConfigError", message: "couldn't find key \(key) in \(kind) \"\(name)\"")
            }
            files[path] = data
        }
        return files
    }

    private func downwardFiles(_ source: JSONValue, pod: JSONValue) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for item in source["items"]?.array ?? [] {
            guard let path = item["path"]?.string, let fieldPath = item[path: ["fieldRef", "fieldPath"]]?.string else { continue }
            let value: String
            switch fieldPath {
            case "metadata.labels": value = pod.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: "\n")
            case "metadata.annotations": value = pod.annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: "\n")
            default:
                guard let resolved = Self.downwardValue(fieldPath, pod: pod) else {
                    throw ContainerStartProblem(container: "", reason: "CreateContainerConfigError", message: "unsupported downwardAPI fieldPath \(fieldPath)")
                }
                value = resolved
            }
            files[path] = Data(value.utf8)
        }
        return files
    }

    /// The downward API fields a volume can show.
    static func downwardValue(_ fieldPath: String, pod: JSONValue) -> String? {
        for (prefix, map) in [("metadata.labels['", pod.labels), ("metadata.annotations['", pod.annotations)] where fieldPath.hasPrefix(prefix) {
            return map[String(fieldPath.dropFirst(prefix.count).dropLast(2))] ?? ""
        }
        switch fieldPath {
        case "metadata.name": return pod.name ?? ""
        case "metadata.namespace": return pod.namespace ?? ""
        case "metadata.uid": return pod.uid ?? ""
        case "spec.nodeName": return pod[path: ["spec", "nodeName"]]?.string ?? ""
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.string ?? ""
        case "status.podIP": return pod[path: ["status", "podIP"]]?.string ?? ""
        case "status.hostIP": return pod[path: ["status", "hostIP"]]?.string ?? ""
        default: return nil
        }
    }
}
