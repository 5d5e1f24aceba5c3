import Foundation
import KubeModel

/// Everything needed to talk to one cluster as one user: the result of resolving a kubeconfig
/// (or the in-cluster service account) exactly as kubectl would.
///
/// Paths are already absolute and `-data` fields already decoded, so the value is self-contained.
public struct ClusterConnectionConfig: Sendable, Hashable {
    /// The API server endpoint.
    public var server: ServerEndpoint
    /// The context used, `nil` for in-cluster configuration.
    public var contextName: String?
    /// The cluster entry used.
    public var clusterName: String?
    /// The user entry used (kubeconfig name, not the authenticated identity).
    public var userName: String?
    /// The default namespace: `--namespace`, else the context's, else `default`.
    public var namespace: String
    public var tls: TLSSettings
    public var auth: AuthMethod
    public var impersonation: Impersonation
    /// HTTP CONNECT proxy to go through, already filtered by `NO_PROXY`.
    public var proxy: ProxyEndpoint?
    /// Where the configuration came from (file list or `in-cluster`), for error messages.
    public var source: String

    public init(
        server: ServerEndpoint, contextName: String? = nil, clusterName: String? = nil, userName: String? = nil,
        namespace: String = "default", tls: TLSSettings = TLSSettings(), auth: AuthMethod = .none,
        impersonation: Impersonation = Impersonation(), proxy: ProxyEndpoint? = nil, source: String = "explicit"
    ) {
        self.server = server
        self.contextName = contextName
        self.clusterName = clusterName
        self.userName = userName
        self.namespace = namespace
        self.tls = tls
        self.auth = auth
        self.impersonation = impersonation
        self.proxy = proxy
        self.source = source
    }
}

/// `scheme://host:port/basePath` of an API server.
public struct ServerEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var useTLS: Bool
    public var host: String
    public var port: Int
    /// Path prefix (e.g. `/k8s/clusters/c-1` behind Rancher), empty for none; never ends in `/`.
    public var basePath: String

    public init(useTLS: Bool, host: String, port: Int, basePath: String = "") {
        self.useTLS = useTLS
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses a kubeconfig `server` value; `nil` when it is not an http(s) URL with a host.
    public init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty
        else { return nil }
        self.useTLS = scheme == "https"
        // URLComponents keeps IPv6 brackets in `host` on some platforms; sockets want them stripped.
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? (useTLS ? 443 : 80)
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        self.basePath = path
    }

    /// The URL as a string, e.g. `https://127.0.0.1:6443`.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(useTLS ? "https" : "http")://\(hostPart):\(port)\(basePath)"
    }
}

/// TLS material and policy for the connection to the API server.
public struct TLSSettings: Sendable, Hashable {
    /// PEM bundle of trusted CAs; `nil` means the system trust store.
    public var certificateAuthorityPEM: Data?
    public var insecureSkipTLSVerify: Bool
    /// Name to send as SNI and verify the certificate against, instead of the server's host.
    public var serverName: String?
    /// PEM client certificate chain (mutual TLS).
    public var clientCertificatePEM: Data?
    /// PEM private key for ``clientCertificatePEM``.
    public var clientKeyPEM: Data?

    public init(
        certificateAuthorityPEM: Data? = nil, insecureSkipTLSVerify: Bool = false, serverName: String? = nil,
        clientCertificatePEM: Data? = nil, clientKeyPEM: Data? = nil
    ) {
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.serverName = serverName
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }
}

/// How requests are authenticated (besides a client certificate, which lives in ``TLSSettings``).
public enum AuthMethod: Sendable, Hashable {
    case none
    /// A fixed bearer token.
    case token(String)
    /// A bearer token read from a file, re-read when the file changes (rotated service-account tokens).
    case tokenFile(path: String)
    /// HTTP basic auth.
    case basic(username: String, password: String)
    /// An exec credential plugin (EKS `aws eks get-token`, GKE `gke-gcloud-auth-plugin`, …).
    case exec(ExecPluginConfig)

    /// A short name for logs and `doctor`.
    public var kindName: String {
        switch self {
        case .none: return "none"
        case .token: return "token"
        case .tokenFile: return "tokenFile"
        case .basic: return "basic"
        case .exec(let config): return "exec (\(config.command))"
        }
    }
}

/// The `users[].user.exec` stanza of a kubeconfig, with `command` already resolved against the file.
public struct ExecPluginConfig: Sendable, Hashable {
    public struct EnvVar: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `Never`, `IfAvailable`, `Always`.
    public enum InteractiveMode: String, Sendable, Hashable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    public var apiVersion: String
    public var command: String
    public var args: [String]
    public var env: [EnvVar]
    public var interactiveMode: InteractiveMode
    public var provideClusterInfo: Bool
    public var installHint: String?
    /// `spec.cluster` for `KUBERNETES_EXEC_INFO` when ``provideClusterInfo`` is set.
    public var clusterInfo: JSONValue?

    public init(
        apiVersion: String, command: String, args: [String] = [], env: [EnvVar] = [],
        interactiveMode: InteractiveMode = .ifAvailable, provideClusterInfo: Bool = false,
        installHint: String? = nil, clusterInfo: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.interactiveMode = interactiveMode
        self.provideClusterInfo = provideClusterInfo
        self.installHint = installHint
        self.clusterInfo = clusterInfo
    }
}

/// Impersonation settings (`as`, `as-uid`, `as-groups`, `as-user-extra`).
public struct Impersonation: Sendable, Hashable {
    public var user: String?
    public var uid: String?
    public var groups: [String]
    public var extra: [String: [String]]

    public init(user: String? = nil, uid: String? = nil, groups: [String] = [], extra: [String: [String]] = [:]) {
        self.user = user
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// The `Impersonate-*` request headers, in a stable order.
    public var headers: [(String, String)] {
        var result: [(String, String)] = []
        if let user { result.append(("Impersonate-User", user)) }
        if let uid { result.append(("Impersonate-Uid", uid)) }
        for group in groups { result.append(("Impersonate-Group", group)) }
        for key in extra.keys.sorted() {
            // Header names are case-insensitive, so keys are percent-encoded as client-go does.
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-!#$&'*+.^_`|~"))) ?? key
            for value in extra[key] ?? [] { result.append(("Impersonate-Extra-\(encoded)", value)) }
        }
        return result
    }
}

/// An HTTP proxy reached with `CONNECT`.
public struct ProxyEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// `Proxy-Authorization` value from user:password in the proxy URL.
    public var authorization: String?

    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }
}
