import Foundation
import KubeModel

/// One kubeconfig file as written: named clusters, users and contexts, plus `current-context`.
struct KubeConfigFile: Sendable {
    /// Absolute path of the file.
    var path: String
    var clusters: [String: JSONValue] = [:]
    var users: [String: JSONValue] = [:]
    var contexts: [String: JSONValue] = [:]
    var currentContext: String?

    /// The directory relative paths inside this file are resolved against.
    var directory: String { (path as NSString).deletingLastPathComponent }

    /// Reads and parses `path`.
    static func load(path: String) throws -> KubeConfigFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KubeConfigError.unreadableFile(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw KubeConfigError.unreadableFile(path: path, reason: "it is a directory, not a file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KubeConfigError.unreadableFile(path: path, reason: "permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KubeConfigError.invalidYAML(path: path, reason: "not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses kubeconfig YAML text that came from `path`.
    static func parse(_ text: String, path: String) throws -> KubeConfigFile {
        let document: JSONValue
        do {
            document = try YAMLDocument.parse(text)
        } catch {
            let reason = String(describing: error).split(separator: "\n").first.map(String.init) ?? "YAML error"
            throw KubeConfigError.invalidYAML(path: path, reason: reason)
        }
        if document.isNull { return KubeConfigFile(path: path) }
        guard document.object != nil else {
            throw KubeConfigError.invalidYAML(path: path, reason: "top level is not a mapping")
        }
        var file = KubeConfigFile(path: path)
        file.clusters = try namedEntries(document, list: "clusters", field: "cluster", path: path)
        file.users = try namedEntries(document, list: "users", field: "user", path: path)
        file.contexts = try namedEntries(document, list: "contexts", field: "context", path: path)
        if let current = document["current-context"]?.string, !current.isEmpty { file.currentContext = current }
        return file
    }

    /// `clusters: [{name: x, cluster: {...}}]` → `["x": {...}]`; the first entry of a name wins.
    private static func namedEntries(_ document: JSONValue, list: String, field: String, path: String) throws -> [String: JSONValue] {
        guard let value = document[list], !value.isNull else { return [:] }
        guard let entries = value.array else {
            throw KubeConfigError.invalidYAML(path: path, reason: "`\(list)` is not a list")
        }
        var result: [String: JSONValue] = [:]
        for entry in entries {
            guard let name = entry["name"].flatMap(scalarString) else {
                throw KubeConfigError.invalidYAML(path: path, reason: "an entry of `\(list)` has no name")
            }
            if result[name] == nil { result[name] = entry[field] ?? .emptyObject }
        }
        return result
    }
}

/// A scalar read as text, whatever YAML type it was given (`port: 6443`, `insecure: true`).
func scalarString(_ value: JSONValue) -> String? {
    switch value {
    case .string(let string): return string
    case .int(let int): return String(int)
    case .bool(let bool): return bool ? "true" : "false"
    case .double(let double): return String(double)
    default: return nil
    }
}
