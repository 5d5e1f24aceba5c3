import Foundation
import SSHTunnel
import SwapPlan
import SwapdevTesting
import Testing

/// Secrets stay private: files only the user can read, and a proxy that accepts only the key
/// made for its swap.
@Suite("secrets stay private", .serialized, .timeLimit(.minutes(1)))
struct SecretModeTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    @Test func envFilesAreWrittenOwnerOnlyEvenOverAWorldReadableFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-modes-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("app.env").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644])
        let previous = umask(0)
        defer { umask(previous) }
        try EnvironmentFile.save("PASSWORD=s3cret\n", to: path)
        #expect(Self.mode(path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "PASSWORD=s3cret\n")
        // No temporary copy is left next to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["app.env"])
    }

    @Test func theProxyKeepsItsStateOwnerOnlyAndAcceptsOnlyTheSwapsKey() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd"), "needs OpenSSH's sshd: apt-get install openssh-server")
        let key = try SSHKeyPair.generate(id: "swap-a")
        let launcher = try await SSHDLauncher.start(authorizedKey: key.publicKeyLine, environment: ["PASSWORD": "s3cret"])
        do {
            let state = launcher.stateDirectory.path
            #expect(Self.mode(state) == 0o700)
            #expect(Self.mode(state + "/env") == 0o600)
            #expect(Self.mode(state + "/authorized_keys") == 0o600)
            #expect(Self.mode(state + "/ssh_host_ed25519_key") == 0o600)
            let authorized = try String(contentsOfFile: state + "/authorized_keys", encoding: .utf8)
            #expect(authorized == key.publicKeyLine + "\n", "only the swap's key may log in")

            let session = try await SSHSession.connect(host: "127.0.0.1", port: launcher.port, username: launcher.username, key: key,
                                                       hostKey: .sha256Fingerprint(launcher.hostKeyFingerprint))
            await session.close()
            let stranger = try SSHKeyPair.generate(id: "swap-b")
            await #expect(throws: SSHTunnelError.self, "another swap's key is refused") {
                let other = try await SSHSession.connect(host: "127.0.0.1", port: launcher.port, username: launcher.username, key: stranger,
                                                         hostKey: .sha256Fingerprint(launcher.hostKeyFingerprint))
                await other.close()
            }
        } catch {
            Issue.record("\(error)\n\(launcher.output)")
        }
        await launcher.stop()
    }
}
