import Foundation
import KubeModel

/// Finds and resolves kubeconfig files the way kubectl does.
///
/// - `explicitPath` (`--kubeconfig`) means that file only;
/// - else `KUBECONFIG`, a `:`-separated list where the first file to set a value or map key wins
///   and entries are never merged field by field (missing files are skipped);
/// - else `~/.kube/config`;
/// - else, inside a pod, the in-cluster service account.
///
/// Relative paths inside a file resolve against that file's directory.
public struct KubeConfigLoader: Sendable {
    /// The environment (for `KUBECONFIG`, proxies, in-cluster variables). Injected for tests.
    public var environment: [String: String]
    public var homeDirectory: String
    /// Where the in-cluster service-account files live.
    public var serviceAccountDirectory: String

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String? = nil,
        serviceAccountDirectory: String = InClusterConfig.defaultServiceAccountDirectory
    ) {
        self.environment = environment
        self.homeDirectory = homeDirectory ?? environment["HOME"] ?? NSHomeDirectory()
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// Resolves the connection for `context` (or the current context), with `namespace` overriding the context's.
    public func load(explicitPath: String? = nil, context: String? = nil, namespace: String? = nil) throws -> ClusterConnectionConfig {
        let paths = try configPaths(explicitPath: explicitPath)
        if paths.isEmpty {
            if environment["KUBERNETES_SERVICE_HOST"] != nil, context == nil {
                var config = try InClusterConfig.load(environment: environment, directory: serviceAccountDirectory)
                if let namespace, !namespace.isEmpty { config.namespace = namespace }
                return config
            }
            throw KubeConfigError.noConfiguration(searched: searchedLocations(explicitPath: explicitPath))
        }
        let files = try paths.map(KubeConfigFile.load(path:))
        return try resolve(files: files, context: context, namespace: namespace)
    }

    /// The files that would be read, in precedence order.
    public func configPaths(explicitPath: String?) throws -> [String] {
        if let explicitPath, !explicitPath.isEmpty {
            let path = absolute(explicitPath)
            guard FileManager.default.fileExists(atPath: path) else {
                throw KubeConfigError.unreadableFile(path: path, reason: "no such file")
            }
            return [path]
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            return list.split(separator: ":").map { absolute(String($0)) }
                .filter { FileManager.default.fileExists(atPath: $0) && seen.insert($0).inserted }
        }
        let home = homeDirectory + "/.kube/config"
        return FileManager.default.fileExists(atPath: home) ? [home] : []
    }

    /// Merges already parsed files and resolves one context; exposed for tests.
    func resolve(files: [KubeConfigFile], context requested: String?, namespace override: String?) throws -> ClusterConnectionConfig {
        let fileList = files.map(\.path)
        let merged = MergedKubeConfig(files: files)
        let requestedName = requested?.isEmpty == false ? requested : nil
        if requestedName == nil, merged.contexts.isEmpty {
            throw KubeConfigError.noContexts(files: fileList)
        }
        guard let contextName = requestedName ?? merged.currentContext else {
            throw KubeConfigError.noCurrentContext(files: fileList, available: merged.contexts.keys.sorted())
        }
        guard let (context, _) = merged.contexts[contextName] else {
            throw KubeConfigError.unknownEntry(kind: "context", name: contextName, files: fileList, available: merged.contexts.keys.sorted())
        }
        guard let clusterName = context["cluster"].flatMap(scalarString), let (cluster, clusterFile) = merged.clusters[clusterName] else {
            let name = context["cluster"].flatMap(scalarString) ?? ""
            throw KubeConfigError.unknownEntry(kind: "cluster", name: name.isEmpty ? "(none, in context \(contextName))" : name,
                                               files: fileList, available: merged.clusters.keys.sorted())
        }
        let userName = context["user"].flatMap(scalarString).flatMap { $0.isEmpty ? nil : $0 }
        var user: JSONValue = .emptyObject
        var userFile = clusterFile
        if let userName {
            guard let (entry, file) = merged.users[userName] else {
                throw KubeConfigError.unknownEntry(kind: "user", name: userName, files: fileList, available: merged.users.keys.sorted())
            }
            user = entry
            userFile = file
        }

        let clusterReader = EntryReader(entry: cluster, entryName: "cluster \"\(clusterName)\"", file: clusterFile)
        let serverText = clusterReader.string("server") ?? ""
        guard let server = ServerEndpoint(url: serverText) else {
            throw KubeConfigError.invalidServer(cluster: clusterName, server: serverText, file: clusterFile.path)
        }
        var tls = TLSSettings()
        tls.certificateAuthorityPEM = try clusterReader.dataOrFile("certificate-authority")
        tls.insecureSkipTLSVerify = clusterReader.bool("insecure-skip-tls-verify")
        tls.serverName = clusterReader.string("tls-server-name")

        let userReader = EntryReader(entry: user, entryName: "user \"\(userName ?? "")\"", file: userFile)
        tls.clientCertificatePEM = try userReader.dataOrFile("client-certificate")
        tls.clientKeyPEM = try userReader.dataOrFile("client-key")
        let auth = try authMethod(userReader, cluster: clusterReader, server: server, tls: tls)

        var impersonation = Impersonation()
        impersonation.user = userReader.string("as")
        impersonation.uid = userReader.string("as-uid")
        impersonation.groups = (user["as-groups"]?.array ?? []).compactMap(scalarString)
        for (key, values) in user["as-user-extra"]?.object ?? [:] {
            impersonation.extra[key] = (values.array ?? []).compactMap(scalarString)
        }

        let namespace = [override, context["namespace"].flatMap(scalarString)].compactMap { $0 }.first { !$0.isEmpty } ?? "default"
        let proxy = try ProxySelection.proxy(for: server, proxyURL: clusterReader.string("proxy-url"), environment: environment, file: clusterFile.path)
        return ClusterConnectionConfig(
            server: server, contextName: contextName, clusterName: clusterName, userName: userName,
            namespace: namespace, tls: tls, auth: auth, impersonation: impersonation, proxy: proxy,
            source: fileList.joined(separator: ":"))
    }

    /// Picks one auth method; kubectl rejects several, swapdev takes the first in a fixed order.
    private func authMethod(_ user: EntryReader, cluster: EntryReader, server: ServerEndpoint, tls: TLSSettings) throws -> AuthMethod {
        if let token = user.string("token"), !token.isEmpty { return .token(token) }
        if let tokenFile = user.string("tokenFile"), !tokenFile.isEmpty { return .tokenFile(path: user.resolvePath(tokenFile)) }
        if let username = user.string("username"), !username.isEmpty {
            return .basic(username: username, password: user.string("password") ?? "")
        }
        if let exec = user.entry["exec"], exec.object != nil {
            return .exec(try ExecPluginConfig(exec: exec, reader: user, cluster: cluster, server: server, tls: tls))
        }
        if user.entry["auth-provider"] != nil {
            throw KubeConfigError.unsupported(field: "auth-provider", entry: user.entryName, file: user.file.path)
        }
        return .none
    }

    private func absolute(_ path: String) -> String {
        var path = path
        if path == "~" || path.hasPrefix("~/") { path = homeDirectory + path.dropFirst() }
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    private func searchedLocations(explicitPath: String?) -> [String] {
        if let list = environment["KUBECONFIG"], !list.isEmpty { return ["KUBECONFIG=\(list)"] }
        return [homeDirectory + "/.kube/config", "in-cluster service account"]
    }
}

/// The union of several files under kubectl's "first one wins, never field by field" rule.
struct MergedKubeConfig {
    var clusters: [String: (JSONValue, KubeConfigFile)] = [:]
    var users: [String: (JSONValue, KubeConfigFile)] = [:]
    var contexts: [String: (JSONValue, KubeConfigFile)] = [:]
    var currentContext: String?

    init(files: [KubeConfigFile]) {
        for file in files {
            for (name, entry) in file.clusters where clusters[name] == nil { clusters[name] = (entry, file) }
            for (name, entry) in file.users where users[name] == nil { users[name] = (entry, file) }
            for (name, entry) in file.contexts where contexts[name] == nil { contexts[name] = (entry, file) }
            if currentContext == nil { currentContext = file.currentContext }
        }
    }
}
