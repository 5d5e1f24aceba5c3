import Foundation

/// The configuration of a process running inside a pod: the API server from
/// `KUBERNETES_SERVICE_HOST`/`PORT` and the mounted service-account token, CA and namespace.
public enum InClusterConfig {
    /// Where Kubernetes mounts the service account.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Builds the configuration; the token is a ``AuthMethod/tokenFile(path:)`` because bound tokens rotate.
    public static func load(environment: [String: String], directory: String = defaultServiceAccountDirectory) throws -> ClusterConnectionConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let portText = environment["KUBERNETES_SERVICE_PORT"], let port = Int(portText)
        else {
            throw KubeConfigError.inCluster(reason: "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError.inCluster(reason: "\(tokenPath) is missing")
        }
        guard let ca = FileManager.default.contents(atPath: directory + "/ca.crt") else {
            throw KubeConfigError.inCluster(reason: "\(directory)/ca.crt is missing")
        }
        var namespace = environment["POD_NAMESPACE"] ?? ""
        if namespace.isEmpty, let data = FileManager.default.contents(atPath: directory + "/namespace") {
            namespace = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return ClusterConnectionConfig(
            server: ServerEndpoint(useTLS: true, host: host, port: port),
            namespace: namespace.isEmpty ? "default" : namespace,
            tls: TLSSettings(certificateAuthorityPEM: ca),
            auth: .tokenFile(path: tokenPath),
            source: "in-cluster")
    }
}
