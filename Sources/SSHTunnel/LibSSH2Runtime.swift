import CLibSSH2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Process-wide libssh2 setup, done once before the first session thread starts.
enum LibSSH2Runtime {
    /// `libssh2_init` is not thread-safe and must run before any session exists; a `static let`
    /// runs exactly once. SIGPIPE is ignored because a spliced local socket can be closed by its
    /// peer while we write (MSG_NOSIGNAL only covers libssh2's own socket).
    static let initialized: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return libssh2_init(0) == 0
    }()

    /// Whether this libssh2 build offers ssh-ed25519 (1.9+ with OpenSSL 1.1.1+ does).
    static let supportsEd25519: Bool = {
        _ = initialized
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else { return false }
        defer { libssh2_session_free(session) }
        var algs: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs)
        guard count > 0, let list = algs else { return false }
        defer { libssh2_free(session, list) }
        for index in 0..<Int(count) {
            if let name = list[index], String(cString: name) == "ssh-ed25519" { return true }
        }
        return false
    }()
}
