import Foundation
import KubeModel

/// Reads fields of one kubeconfig entry, resolving paths against the file that holds the entry.
struct EntryReader {
    var entry: JSONValue
    /// e.g. `user "admin"`, for messages.
    var entryName: String
    var file: KubeConfigFile

    func string(_ key: String) -> String? { entry[key].flatMap(scalarString) }

    func bool(_ key: String) -> Bool {
        switch entry[key] {
        case .bool(let value): return value
        case .string(let value): return value.lowercased() == "true"
        default: return false
        }
    }

    /// An absolute path; relative ones are relative to this entry's file.
    func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return ((file.directory as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    /// `KEY-data` (base64, wins) or the contents of the file at `KEY`; `nil` when neither is set.
    func dataOrFile(_ key: String) throws -> Data? {
        if let encoded = string(key + "-data"), !encoded.isEmpty {
            let compact = encoded.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else {
                throw KubeConfigError.invalidBase64(field: key + "-data", entry: entryName, file: file.path)
            }
            return data
        }
        guard let path = string(key), !path.isEmpty else { return nil }
        let resolved = resolvePath(path)
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw KubeConfigError.referencedFileUnreadable(field: key, path: resolved, file: file.path)
        }
        return data
    }
}

extension ExecPluginConfig {
    /// Reads a `users[].user.exec` stanza.
    init(exec: JSONValue, reader: EntryReader, cluster: EntryReader, server: ServerEndpoint, tls: TLSSettings) throws {
        let execReader = EntryReader(entry: exec, entryName: reader.entryName, file: reader.file)
        guard let command = execReader.string("command"), !command.isEmpty else {
            throw KubeConfigError.invalidYAML(path: reader.file.path, reason: "exec of \(reader.entryName) has no command")
        }
        let apiVersion = execReader.string("apiVersion") ?? ""
        guard apiVersion == "client.authentication.k8s.io/v1" || apiVersion == "client.authentication.k8s.io/v1beta1" else {
            throw KubeConfigError.invalidYAML(
                path: reader.file.path,
                reason: "exec apiVersion \"\(apiVersion)\" of \(reader.entryName) is not client.authentication.k8s.io/v1 or v1beta1 (v1alpha1 was removed in Kubernetes 1.24)")
        }
        var mode = InteractiveMode.ifAvailable
        if let text = execReader.string("interactiveMode"), !text.isEmpty {
            guard let parsed = InteractiveMode(rawValue: text) else {
                throw KubeConfigError.invalidYAML(path: reader.file.path, reason: "exec interactiveMode \"\(text)\" of \(reader.entryName) is not Never, IfAvailable or Always")
            }
            mode = parsed
        } else if apiVersion.hasSuffix("/v1") {
            throw KubeConfigError.invalidYAML(path: reader.file.path, reason: "exec of \(reader.entryName) needs interactiveMode (required by client.authentication.k8s.io/v1)")
        }
        let provide = execReader.bool("provideClusterInfo")
        var clusterInfo: JSONValue? = nil
        if provide {
            var info: JSONValue = ["server": .string(server.description)]
            if let ca = tls.certificateAuthorityPEM { info["certificate-authority-data"] = .string(ca.base64EncodedString()) }
            if let name = tls.serverName { info["tls-server-name"] = .string(name) }
            if tls.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = true }
            if let proxy = cluster.string("proxy-url") { info["proxy-url"] = .string(proxy) }
            // The cluster extension named client.authentication.k8s.io/exec is passed as `config`.
            for extensionEntry in cluster.entry["extensions"]?.array ?? [] where extensionEntry["name"]?.string == "client.authentication.k8s.io/exec" {
                info["config"] = extensionEntry["extension"]
            }
            clusterInfo = info
        }
        // A command with a slash is a path (relative to the kubeconfig); a bare name is looked up in PATH.
        let resolvedCommand = command.contains("/") ? execReader.resolvePath(command) : command
        self.init(
            apiVersion: apiVersion, command: resolvedCommand,
            args: (exec["args"]?.array ?? []).compactMap(scalarString),
            env: (exec["env"]?.array ?? []).compactMap { item in
                guard let name = item["name"].flatMap(scalarString) else { return nil }
                return EnvVar(name: name, value: item["value"].flatMap(scalarString) ?? "")
            },
            interactiveMode: mode, provideClusterInfo: provide,
            installHint: execReader.string("installHint"), clusterInfo: clusterInfo)
    }
}
