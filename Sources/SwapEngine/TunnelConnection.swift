import KubeClient
import Logging
import SSHTunnel
import SwapPlan

/// Opens the SSH session to the proxy's sshd over a Kubernetes port-forward.
///
/// Nothing listens on a local port for it: the port-forward is a socketpair whose other end
/// the client pumps through a WebSocket, and libssh2 runs over that fd.
struct TunnelConnection {
    let client: KubeClient
    let namespace: String
    let pod: String
    /// The proxy container: the pod may have sidecars, and reading a log needs the name then.
    let container: String
    let key: SSHKeyPair
    let fingerprint: String
    let users: [String]
    let logger: Logger

    /// Connects, trying each login user in turn (`swapdev` in the real image, `root` where the
    /// sandbox runs the host's sshd); host-key or transport failures are not retried.
    func connect() async throws -> (session: SSHSession, user: String) {
        var lastError: (any Error)?
        var transportRetries = 2
        var users = self.users[...]
        while let user = users.first {
            let socket = try await client.openPortForwardSocket(namespace: namespace, pod: pod, port: ProxyPodBuilder.sshPort)
            do {
                let session = try await SSHSession.connect(
                    socket: socket, username: user, key: key, hostKey: .sha256Fingerprint(fingerprint), keepalive: .seconds(10))
                logger.debug("SSH session to \(pod) as \(user)")
                return (session, user)
            } catch let error as SSHTunnelError {
                lastError = error
                switch error {
                case .authenticationFailed:
                    users = users.dropFirst()
                case .handshakeFailed where transportRetries > 0, .disconnected where transportRetries > 0,
                     .sessionClosed where transportRetries > 0:
                    // A loaded node's sshd can miss the banner deadline: the stream, not the
                    // server, failed; a fresh port-forward usually works. Host keys are never retried.
                    transportRetries -= 1
                    try await Task.sleep(for: .milliseconds(500))
                default:
                    throw SwapError.sshFailed(pod: pod, reason: error.description)
                }
            }
        }
        throw SwapError.sshFailed(pod: pod, reason: lastError.map { "\($0)" } ?? "no login user to try")
    }
}
