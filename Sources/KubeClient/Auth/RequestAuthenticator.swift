import Foundation

/// Produces the auth headers of each request and the client identity of each new connection,
/// from a ``ClusterConnectionConfig``'s auth method.
///
/// Token files are re-read when their modification time or size changes (rotating service-account
/// tokens); exec plugins are cached by ``ExecCredentialPlugin``.
actor RequestAuthenticator {
    let config: ClusterConnectionConfig
    let plugin: ExecCredentialPlugin?
    private var tokenFileCache: (stamp: String, token: String)?

    init(config: ClusterConnectionConfig, environment: [String: String]) {
        self.config = config
        if case .exec(let execConfig) = config.auth {
            plugin = ExecCredentialPlugin(config: execConfig, environment: environment)
        } else {
            plugin = nil
        }
    }

    /// Whether a 401 might be cured by fetching credentials again.
    nonisolated var canRefresh: Bool {
        switch config.auth {
        case .exec, .tokenFile: return true
        default: return false
        }
    }

    /// `Authorization` and `Impersonate-*` headers for the next request.
    func headers() async throws -> [(String, String)] {
        var headers: [(String, String)] = []
        switch config.auth {
        case .none: break
        case .token(let token): headers.append(("Authorization", "Bearer \(token)"))
        case .tokenFile(let path): headers.append(("Authorization", "Bearer \(try readTokenFile(path))"))
        case .basic(let username, let password):
            headers.append(("Authorization", "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()))
        case .exec:
            if let token = try await plugin?.credential().token { headers.append(("Authorization", "Bearer \(token)")) }
        }
        return headers + config.impersonation.headers
    }

    /// The client certificate and key for a new TLS connection: an exec plugin's, else the kubeconfig's.
    func clientIdentity() async throws -> (certificate: Data, key: Data)? {
        if let plugin, let credential = try? await plugin.credential(), let cert = credential.clientCertificatePEM, let key = credential.clientKeyPEM {
            return (cert, key)
        }
        if let cert = config.tls.clientCertificatePEM, let key = config.tls.clientKeyPEM { return (cert, key) }
        return nil
    }

    /// Forgets cached credentials after a 401.
    func invalidate() async {
        tokenFileCache = nil
        await plugin?.invalidate()
    }

    private func readTokenFile(_ path: String) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let stamp = "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\((attributes?[.size] as? NSNumber)?.intValue ?? -1)"
        if let cached = tokenFileCache, cached.stamp == stamp { return cached.token }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError.referencedFileUnreadable(field: "tokenFile", path: path, file: config.source)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        tokenFileCache = (stamp, token)
        return token
    }
}
