import Foundation

/// Reading files from the pod. Both use exec channels (`cat`, `tar c`) rather than SFTP: the
/// proxy image has a shell and tar anyway, the host's sshd in the sandbox needs no sftp-server,
/// and it keeps all channel handling in one state machine.
extension SSHSession {
    /// Reads one file from the pod.
    /// - Throws: `remoteCommandFailed` when the file cannot be read (missing, permissions).
    public func readFile(_ path: String) async throws -> Data {
        let command = "cat -- \(Self.shellQuote(path))"
        let result = try await exec(command)
        guard result.exitCode == 0 else {
            throw SSHTunnelError.remoteCommandFailed(command: command, exitCode: result.exitCode,
                                                     stderr: String(decoding: result.stderr, as: UTF8.self))
        }
        return result.stdout
    }

    /// Copies the remote directory `remote` (recursively) into the local directory `local`,
    /// keeping the relative layout: directories 0700, files 0600, relative symlinks that stay
    /// inside the copy (Kubernetes' `..data` layout of secret and configMap volumes) kept as links.
    /// - Returns: the relative paths written, files and links only.
    @discardableResult
    public func copyDirectory(remote: String, to local: URL) async throws -> [String] {
        let command = "tar -C \(Self.shellQuote(remote)) -cf - ."
        let result = try await exec(command)
        guard result.exitCode == 0 else {
            throw SSHTunnelError.remoteCommandFailed(command: command, exitCode: result.exitCode,
                                                     stderr: String(decoding: result.stderr, as: UTF8.self))
        }
        let entries = try TarReader.entries(of: result.stdout)
        return try TarExtractor(root: local).extract(entries)
    }

    /// Single-quotes a string for POSIX sh.
    static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
