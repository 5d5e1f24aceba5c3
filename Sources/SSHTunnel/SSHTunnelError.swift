/// Everything that can go wrong in the SSH layer. Each description is one line that names the
/// object involved and says what to do.
public enum SSHTunnelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection to the SSH server could not be made.
    case connectFailed(host: String, port: Int, reason: String)
    /// The SSH handshake (banner, key exchange) failed.
    case handshakeFailed(reason: String)
    /// The server's host key does not match the fingerprint the proxy announced.
    case hostKeyMismatch(expected: String, actual: String)
    /// The server refused the key.
    case authenticationFailed(username: String, reason: String)
    /// The server refused a remote forward (usually: the port is already in use in the pod).
    case remoteForwardRefused(bindHost: String, port: Int)
    /// A channel (direct-tcpip or session) could not be opened.
    case channelOpenFailed(what: String, reason: String)
    /// A local listener for a local forward could not be created.
    case localListenFailed(port: Int, reason: String)
    /// A command run over an exec channel exited non-zero.
    case remoteCommandFailed(command: String, exitCode: Int32, stderr: String)
    /// The session died: the peer closed the connection, the socket failed, or keepalives went unanswered.
    case disconnected(reason: String)
    /// The session was closed with `close()` before the operation finished.
    case sessionClosed
    /// A key could not be generated or encoded.
    case keyGenerationFailed(reason: String)
    /// The host-key fingerprint given is not of the form `SHA256:<base64 without padding>`.
    case invalidFingerprint(String)
    /// An archive read from the pod is malformed or unsafe (absolute path, `..`).
    case invalidArchive(reason: String)
    /// A local file operation failed.
    case localFileError(path: String, reason: String)

    public var description: String {
        switch self {
        case let .connectFailed(host, port, reason):
            return "cannot connect to SSH server \(host):\(port): \(reason); check that the proxy is running and the port is right"
        case let .handshakeFailed(reason):
            return "SSH handshake failed: \(reason); check that the other end is the swapdev proxy's sshd"
        case let .hostKeyMismatch(expected, actual):
            return "SSH host key mismatch: the proxy announced \(expected) but the server presented \(actual); someone may be intercepting the connection, or the proxy pod was replaced — re-run the swap"
        case let .authenticationFailed(username, reason):
            return "SSH authentication as '\(username)' failed: \(reason); check that the proxy got this swap's public key (SWAPDEV_AUTHORIZED_KEY)"
        case let .remoteForwardRefused(bindHost, port):
            return "the proxy refused to listen on \(bindHost):\(port); the port is probably already in use in the pod (another container or process) — free it or choose another port"
        case let .channelOpenFailed(what, reason):
            return "cannot open SSH channel to \(what): \(reason); check that the target is reachable from the proxy pod"
        case let .localListenFailed(port, reason):
            return "cannot listen on 127.0.0.1:\(port): \(reason); choose another local port or free this one"
        case let .remoteCommandFailed(command, exitCode, stderr):
            let detail = stderr.split(separator: "\n").first.map(String.init) ?? ""
            return "command '\(command)' in the proxy exited with \(exitCode)\(detail.isEmpty ? "" : ": \(detail)"); check the path and the proxy user's permissions"
        case let .disconnected(reason):
            return "SSH session to the proxy ended: \(reason); reconnect (swapdev does this by itself when it can)"
        case .sessionClosed:
            return "the SSH session was closed before the operation finished; open a new session"
        case let .keyGenerationFailed(reason):
            return "cannot make the swap's SSH key: \(reason); this is a bug in swapdev, please report it"
        case let .invalidFingerprint(value):
            return "invalid host key fingerprint '\(value)'; expected 'SHA256:' followed by unpadded base64, as printed by ssh-keygen -lf"
        case let .invalidArchive(reason):
            return "the archive read from the proxy is invalid: \(reason); check the remote directory"
        case let .localFileError(path, reason):
            return "cannot write \(path): \(reason); check the local directory's permissions and free space"
        }
    }
}
