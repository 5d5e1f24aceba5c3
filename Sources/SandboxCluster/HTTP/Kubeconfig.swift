import Foundation

/// Writes the kubeconfig a client uses to reach the sandbox.
enum KubeconfigWriter {
    static func contents(port: Int, caPEM: Data, token: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: swapdev-sandbox
          cluster:
            server: https://127.0.0.1:\(port)
            certificate-authority-data: \(caPEM.base64EncodedString())
        users:
        - name: swapdev-sandbox-admin
          user:
            token: \(token)
        contexts:
        - name: swapdev-sandbox
          context:
            cluster: swapdev-sandbox
            user: swapdev-sandbox-admin
            namespace: default
        current-context: swapdev-sandbox
        preferences: {}

        """
    }

    /// Writes to a temporary file and renames it, so a reader never sees half a kubeconfig.
    static func write(to path: URL, port: Int, caPEM: Data, token: String) throws {
        let temporary = path.deletingLastPathComponent().appendingPathComponent(".kubeconfig.\(getpid()).tmp")
        do {
            try Data(contents(port: port, caPEM: caPEM, token: token).utf8).write(to: temporary)
            chmod(temporary.path, 0o600)
            if rename(temporary.path, path.path) != 0 {
                throw SandboxSetupError("cannot rename \(temporary.path) to \(path.path): errno \(errno)")
            }
        } catch let error as SandboxSetupError {
            throw error
        } catch {
            throw SandboxSetupError("cannot write \(temporary.path): \(error); check that the sandbox directory is writable")
        }
    }
}
