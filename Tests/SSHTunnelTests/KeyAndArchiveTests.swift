import Foundation
import Testing
@testable import SSHTunnel

@Suite("Keys, fingerprints and archives")
struct KeyAndArchiveTests {
    /// ssh-keygen must read the private key back and derive the same public key line.
    @Test(arguments: [SSHKeyPair.Algorithm.ed25519, .ecdsaP256])
    func privateKeyRoundTripsThroughSSHKeygen(algorithm: SSHKeyPair.Algorithm) throws {
        let key = try SSHKeyPair.generate(algorithm: algorithm, id: "test")
        #expect(key.privateKeyOpenSSH.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
        #expect(key.publicKeyLine.hasPrefix(algorithm.rawValue + " AAAA"))
        #expect(key.publicKeyLine.hasSuffix(" swapdev-test"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try key.privateKeyOpenSSH.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let output = try run("/usr/bin/ssh-keygen", ["-y", "-f", file.path])
        let derived = output.split(separator: " ").prefix(2).joined(separator: " ")
        let line = key.publicKeyLine.split(separator: " ").prefix(2).joined(separator: " ")
        #expect(derived == line)
    }

    @Test func defaultAlgorithmIsEd25519OnThisLibssh2() throws {
        #expect(try SSHKeyPair.generate().algorithm == .ed25519)
    }

    @Test func fingerprintValidation() throws {
        try HostKeyPolicy.sha256Fingerprint("SHA256:j/6IDppesbiQer3BSRts/p4zD0UjNoFgUDZC11Iyk3I").validate()
        #expect(throws: SSHTunnelError.self) { try HostKeyPolicy.sha256Fingerprint("MD5:aa:bb").validate() }
        #expect(throws: SSHTunnelError.self) { try HostKeyPolicy.sha256Fingerprint("SHA256:short").validate() }
        let digest = [UInt8](repeating: 7, count: 32)
        #expect(HostKeyPolicy.fingerprint(ofSHA256: digest).hasPrefix("SHA256:"))
        #expect(!HostKeyPolicy.fingerprint(ofSHA256: digest).hasSuffix("="))
    }

    @Test func shellQuoting() {
        #expect(SSHSession.shellQuote("a b") == "'a b'")
        #expect(SSHSession.shellQuote("it's") == "'it'\\''s'")
    }

    /// A Kubernetes-style secret volume (timestamped dir, `..data` link, per-key links) survives
    /// GNU tar → TarReader → TarExtractor with 0700 dirs, 0600 files and relative links.
    @Test func extractsKubernetesVolumeLayout() throws {
        let source = try temporaryDirectory()
        let target = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: source)
            try? FileManager.default.removeItem(at: target)
        }
        let stamp = source.appendingPathComponent("..2024_01_01_00_00_00.123")
        try FileManager.default.createDirectory(at: stamp.appendingPathComponent("nested/deeper"), withIntermediateDirectories: true)
        try Data("s3cret".utf8).write(to: stamp.appendingPathComponent("password"))
        try Data("deep".utf8).write(to: stamp.appendingPathComponent("nested/deeper/" + String(repeating: "x", count: 150)))
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("..data").path, withDestinationPath: stamp.lastPathComponent)
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("password").path, withDestinationPath: "..data/password")
        let archive = try runData("/bin/tar", ["-C", source.path, "-cf", "-", "."])
        let written = try TarExtractor(root: target).extract(TarReader.entries(of: archive))
        #expect(written.contains("password"))
        #expect(try String(contentsOf: target.appendingPathComponent("password"), encoding: .utf8) == "s3cret")
        let long = target.appendingPathComponent(stamp.lastPathComponent + "/nested/deeper/" + String(repeating: "x", count: 150))
        #expect(try String(contentsOf: long, encoding: .utf8) == "deep")
        let fileMode = try FileManager.default.attributesOfItem(atPath: long.path)[.posixPermissions] as? Int
        let dirMode = try FileManager.default.attributesOfItem(atPath: long.deletingLastPathComponent().path)[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(dirMode == 0o700)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("password").path) == "..data/password")
    }

    @Test func rejectsEscapingMembers() throws {
        let target = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: target) }
        let bad = [TarEntry(path: "../evil", kind: .file, contents: Data())]
        #expect(throws: SSHTunnelError.self) { try TarExtractor(root: target).extract(bad) }
        let link = [TarEntry(path: "a/link", kind: .symlink("../../etc/passwd"), contents: Data())]
        #expect(throws: SSHTunnelError.self) { try TarExtractor(root: target).extract(link) }
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func runData(_ path: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}

func run(_ path: String, _ arguments: [String]) throws -> String {
    String(decoding: try runData(path, arguments), as: UTF8.self)
}
