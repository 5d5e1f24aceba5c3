import Foundation

/// Who presented a bearer token.
struct AuthenticatedUser: Sendable, Equatable {
    var username: String
    var groups: [String]
}

/// Accepts the admin token and every service account's token.
///
/// Kept apart from the store behind its own lock because the WebSocket upgrade path checks
/// tokens synchronously on the event loop.
final class TokenAuthenticator: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [String: AuthenticatedUser] = [:]
    /// `nil` disables authentication (no `--token` given and none generated).
    let adminToken: String?

    init(adminToken: String?) {
        self.adminToken = adminToken
        if let adminToken {
            tokens[adminToken] = AuthenticatedUser(username: "sandbox-admin", groups: ["system:masters", "system:authenticated"])
        }
    }

    func register(token: String, namespace: String, serviceAccount: String) {
        lock.withLock {
            tokens[token] = AuthenticatedUser(
                username: "system:serviceaccount:\(namespace):\(serviceAccount)",
                groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
        }
    }

    func unregister(token: String) {
        lock.withLock { _ = tokens.removeValue(forKey: token) }
    }

    /// The user for an `Authorization` header value; `nil` when it must be refused.
    func authenticate(authorization: String?) -> AuthenticatedUser? {
        guard adminToken != nil else { return AuthenticatedUser(username: "sandbox-admin", groups: ["system:masters"]) }
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let token = authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)
        return lock.withLock { tokens[token] }
    }
}
