import Foundation

/// How the server's host key is checked. There is no "accept anything": the proxy prints its
/// fingerprint in its log (`swapdev-proxy: host key SHA256:…`) and the session pins it.
public struct HostKeyPolicy: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case sha256(String)
    }

    let kind: Kind

    /// Accept only a host key whose SHA256 fingerprint is `fingerprint`, in `ssh-keygen -lf`
    /// form: `SHA256:` and base64 without padding.
    public static func sha256Fingerprint(_ fingerprint: String) -> HostKeyPolicy {
        HostKeyPolicy(kind: .sha256(fingerprint.trimmingCharacters(in: .whitespaces)))
    }

    /// Throws `invalidFingerprint` when the pinned value cannot be a SHA256 fingerprint.
    func validate() throws {
        switch kind {
        case let .sha256(value):
            let body = value.hasPrefix("SHA256:") ? String(value.dropFirst(7)) : ""
            guard body.count == 43, Data(base64Encoded: body + "=") != nil else {
                throw SSHTunnelError.invalidFingerprint(value)
            }
        }
    }

    /// Checks the raw SHA256 digest of the host key the server presented.
    func check(presentedSHA256 digest: [UInt8]) throws {
        let actual = Self.fingerprint(ofSHA256: digest)
        switch kind {
        case let .sha256(expected):
            guard expected == actual else {
                throw SSHTunnelError.hostKeyMismatch(expected: expected, actual: actual)
            }
        }
    }

    /// `SHA256:` + base64 without padding, as `ssh-keygen -lf` prints it.
    static func fingerprint(ofSHA256 digest: [UInt8]) -> String {
        var base64 = Data(digest).base64EncodedString()
        while base64.hasSuffix("=") { base64.removeLast() }
        return "SHA256:" + base64
    }
}
