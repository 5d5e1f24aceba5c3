/// Why a kubeconfig (or the in-cluster configuration) could not be turned into a connection.
///
/// Every description is one line that names the file or entry at fault and says what to do.
public enum KubeConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No kubeconfig file exists at any of the places kubectl would look.
    case noConfiguration(searched: [String])
    /// A file named explicitly (`--kubeconfig`) does not exist or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// A kubeconfig file is not valid YAML or does not have the kubeconfig shape.
    case invalidYAML(path: String, reason: String)
    /// The files define no context at all (an empty or half-written kubeconfig).
    case noContexts(files: [String])
    /// Neither `--context` nor `current-context` picks a context; `available` are the defined ones.
    case noCurrentContext(files: [String], available: [String])
    /// The selected context, cluster or user is not defined in any file; `available` are the
    /// names of that kind that are, so a typo is one glance away from its fix.
    case unknownEntry(kind: String, name: String, files: [String], available: [String])
    /// The cluster entry has no usable `server`.
    case invalidServer(cluster: String, server: String, file: String)
    /// A file referenced from a kubeconfig entry (certificate, key, token file) cannot be read.
    case referencedFileUnreadable(field: String, path: String, file: String)
    /// A `-data` field is not valid base64.
    case invalidBase64(field: String, entry: String, file: String)
    /// A PEM certificate or key could not be parsed.
    case invalidPEM(field: String, entry: String, reason: String)
    /// An exec credential plugin could not be started, failed, or printed something unusable.
    case execPluginFailed(command: String, reason: String, hint: String?)
    /// The in-cluster service account files or environment are incomplete.
    case inCluster(reason: String)
    /// A setting swapdev does not support (e.g. a legacy `auth-provider`).
    case unsupported(field: String, entry: String, file: String)

    public var description: String {
        switch self {
        case .noConfiguration(let searched):
            return "no kubeconfig found (looked at \(searched.joined(separator: ", "))); pass --kubeconfig FILE or set KUBECONFIG"
        case .unreadableFile(let path, let reason):
            return "cannot read kubeconfig \(path): \(reason); check the path given by --kubeconfig or KUBECONFIG"
        case .invalidYAML(let path, let reason):
            return "kubeconfig \(path) is not valid: \(reason); fix the file or point --kubeconfig elsewhere"
        case .noContexts(let files):
            return "kubeconfig \(files.joined(separator: ":")) defines no contexts; point --kubeconfig or KUBECONFIG at your cluster's kubeconfig, or add one with `kubectl config set-context`"
        case .noCurrentContext(let files, let available):
            return "no current-context set in \(files.joined(separator: ":")); pass --context NAME or run `kubectl config use-context NAME` (available: \(Self.list(available)))"
        case .unknownEntry(let kind, let name, let files, let available):
            let fix = kind == "context" ? "pass one of them with --context" : "fix the context's \(kind) field in the kubeconfig"
            return "\(kind) \"\(name)\" is not defined in \(files.joined(separator: ":")) (available: \(Self.list(available))); \(fix)"
        case .invalidServer(let cluster, let server, let file):
            return "cluster \"\(cluster)\" in \(file) has an unusable server \"\(server)\"; set clusters[].cluster.server to https://HOST:PORT"
        case .referencedFileUnreadable(let field, let path, let file):
            return "\(field) \(path) (referenced from \(file)) cannot be read; fix the path or use \(field)-data"
        case .invalidBase64(let field, let entry, let file):
            return "\(field) of \(entry) in \(file) is not valid base64; re-encode it with `base64 -w0`"
        case .invalidPEM(let field, let entry, let reason):
            return "\(field) of \(entry) is not a usable PEM (\(reason)); check the certificate/key"
        case .execPluginFailed(let command, let reason, let hint):
            return "credential plugin \(command) failed: \(reason)" + (hint.map { "; \($0)" } ?? "; check that it is installed and you are logged in")
        case .inCluster(let reason):
            return "in-cluster configuration unusable: \(reason); mount the service account token or pass --kubeconfig"
        case .unsupported(let field, let entry, let file):
            return "\(field) of \(entry) in \(file) is not supported by swapdev; use an exec plugin, token or client certificate instead"
        }
    }

    /// Names for an "available:" list: sorted, at most ten, `none` when empty.
    static func list(_ names: [String]) -> String {
        guard !names.isEmpty else { return "none" }
        let sorted = names.sorted()
        let shown = sorted.prefix(10).joined(separator: ", ")
        return sorted.count > 10 ? "\(shown), … \(sorted.count - 10) more" : shown
    }
}
