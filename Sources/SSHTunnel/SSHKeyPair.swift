import Crypto
import Foundation

/// A key made for one swap: generated in memory, never written to disk by swapdev.
///
/// The private half is an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`) handed
/// to libssh2 from memory; the public half is an `authorized_keys` line the proxy receives in
/// `SWAPDEV_AUTHORIZED_KEY`.
public struct SSHKeyPair: Sendable {
    /// The key algorithm actually used.
    public enum Algorithm: String, Sendable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
    }

    /// Which algorithm was chosen.
    public let algorithm: Algorithm
    /// The private key in OpenSSH format, unencrypted.
    public let privateKeyOpenSSH: String
    /// `<algorithm> <base64 blob> <comment>`, for authorized_keys.
    public let publicKeyLine: String
    /// The comment at the end of the public key line (`swapdev-<id>`).
    public let comment: String

    /// Generates a key: ed25519 when this libssh2 can use it, ECDSA P-256 otherwise.
    /// - Parameter id: goes into the comment `swapdev-<id>`; a random id when nil.
    public static func generate(id: String? = nil) throws -> SSHKeyPair {
        let algorithm: Algorithm = LibSSH2Runtime.supportsEd25519 ? .ed25519 : .ecdsaP256
        return try generate(algorithm: algorithm, id: id)
    }

    /// Generates a key of the given algorithm.
    public static func generate(algorithm: Algorithm, id: String? = nil) throws -> SSHKeyPair {
        let comment = "swapdev-\(id ?? UUID().uuidString.prefix(8).lowercased())"
        switch algorithm {
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            let publicKey = [UInt8](key.publicKey.rawRepresentation)
            let seed = [UInt8](key.rawRepresentation)
            guard publicKey.count == 32, seed.count == 32 else {
                throw SSHTunnelError.keyGenerationFailed(reason: "unexpected ed25519 key sizes")
            }
            var publicBlob = SSHWireWriter()
            publicBlob.string("ssh-ed25519")
            publicBlob.bytes(publicKey)
            var privateFields = SSHWireWriter()
            privateFields.string("ssh-ed25519")
            privateFields.bytes(publicKey)
            privateFields.bytes(seed + publicKey)
            return SSHKeyPair(
                algorithm: .ed25519,
                privateKeyOpenSSH: OpenSSHPrivateKey.encode(publicBlob: publicBlob.data, privateFields: privateFields.data, comment: comment),
                publicKeyLine: "ssh-ed25519 \(Data(publicBlob.data).base64EncodedString()) \(comment)",
                comment: comment
            )
        case .ecdsaP256:
            let key = P256.Signing.PrivateKey()
            let point = [UInt8](key.publicKey.x963Representation)
            let scalar = [UInt8](key.rawRepresentation)
            var publicBlob = SSHWireWriter()
            publicBlob.string("ecdsa-sha2-nistp256")
            publicBlob.string("nistp256")
            publicBlob.bytes(point)
            var privateFields = SSHWireWriter()
            privateFields.string("ecdsa-sha2-nistp256")
            privateFields.string("nistp256")
            privateFields.bytes(point)
            privateFields.mpint(scalar)
            return SSHKeyPair(
                algorithm: .ecdsaP256,
                privateKeyOpenSSH: OpenSSHPrivateKey.encode(publicBlob: publicBlob.data, privateFields: privateFields.data, comment: comment),
                publicKeyLine: "ecdsa-sha2-nistp256 \(Data(publicBlob.data).base64EncodedString()) \(comment)",
                comment: comment
            )
        }
    }
}

/// SSH wire encoding (RFC 4251 §5) of the few types a key file needs.
struct SSHWireWriter {
    private(set) var data: [UInt8] = []

    mutating func uint32(_ value: UInt32) {
        data += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    mutating func bytes(_ value: [UInt8]) {
        uint32(UInt32(value.count))
        data += value
    }

    mutating func string(_ value: String) { bytes(Array(value.utf8)) }

    /// A positive mpint: leading zeros stripped, a zero byte added when the top bit is set.
    mutating func mpint(_ magnitude: [UInt8]) {
        var trimmed = Array(magnitude.drop(while: { $0 == 0 }))
        if let first = trimmed.first, first & 0x80 != 0 { trimmed.insert(0, at: 0) }
        bytes(trimmed)
    }

    mutating func raw(_ value: [UInt8]) { data += value }
}

/// The `openssh-key-v1` container (OpenSSH's PROTOCOL.key), unencrypted.
enum OpenSSHPrivateKey {
    static func encode(publicBlob: [UInt8], privateFields: [UInt8], comment: String) -> String {
        var section = SSHWireWriter()
        // The two check integers only detect a wrong passphrase; any equal pair will do.
        let check = UInt32.random(in: 0...UInt32.max)
        section.uint32(check)
        section.uint32(check)
        section.raw(privateFields)
        section.string(comment)
        // Pad to the cipher block size ("none" uses 8) with 1, 2, 3, …
        var pad: UInt8 = 1
        while section.data.count % 8 != 0 {
            section.raw([pad])
            pad += 1
        }
        var file = SSHWireWriter()
        file.raw(Array("openssh-key-v1".utf8) + [0])
        file.string("none")
        file.string("none")
        file.string("")
        file.uint32(1)
        file.bytes(publicBlob)
        file.bytes(section.data)
        let base64 = Data(file.data).base64EncodedString()
        var lines = ["-----BEGIN OPENSSH PRIVATE KEY-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 70, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END OPENSSH PRIVATE KEY-----")
        return lines.joined(separator: "\n") + "\n"
    }
}
