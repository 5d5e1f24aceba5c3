import Foundation
import SandboxRuntime

/// A setup step of the sandbox failed; the message says which file or tool and what to do.
public struct SandboxSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// The sandbox's own CA and server certificate, made with the `openssl` command-line tool.
struct CertificateAuthority: Sendable {
    var caCertificatePath: String
    var serverCertificatePath: String
    var serverKeyPath: String

    /// SANs of the server certificate: every name a client on the host or in a pod may use.
    static func subjectAltNames(network: SandboxNetwork) -> [String] {
        [
            "IP:127.0.0.1", "DNS:localhost", "IP:\(network.kubernetesServiceIP)", "DNS:kubernetes", "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local", "IP:\(network.gatewayAddress)",
        ]
    }

    /// Creates (or reuses, when all files exist) `ca.crt`, `ca.key`, `server.crt`, `server.key` in `directory`.
    static func prepare(in directory: URL, network: SandboxNetwork) throws -> CertificateAuthority {
        let ca = directory.appendingPathComponent("ca.crt").path
        let caKey = directory.appendingPathComponent("ca.key").path
        let cert = directory.appendingPathComponent("server.crt").path
        let key = directory.appendingPathComponent("server.key").path
        let manager = FileManager.default
        if [ca, caKey, cert, key].allSatisfy(manager.fileExists(atPath:)) {
            return CertificateAuthority(caCertificatePath: ca, serverCertificatePath: cert, serverKeyPath: key)
        }
        let csr = directory.appendingPathComponent("server.csr").path
        let ext = directory.appendingPathComponent("server.ext").path
        let extText = """
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectAltName=\(subjectAltNames(network: network).joined(separator: ","))

            """
        do { try extText.write(toFile: ext, atomically: true, encoding: .utf8) } catch {
            throw SandboxSetupError("cannot write \(ext): \(error); check that the sandbox directory is writable")
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", caKey, "-out", ca, "-days", "3650", "-subj", "/CN=swapdev-sandbox-ca",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", key, "-out", csr, "-subj", "/CN=kube-apiserver"])
        try openssl(["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial",
                     "-out", cert, "-days", "3650", "-extfile", ext])
        try? manager.removeItem(atPath: csr)
        return CertificateAuthority(caCertificatePath: ca, serverCertificatePath: cert, serverKeyPath: key)
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw SandboxSetupError("cannot run /usr/bin/openssl (\(error)); install it with apt-get install openssl")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw SandboxSetupError("openssl \(arguments.first ?? "") failed with status \(process.terminationStatus): \(text)")
        }
    }
}
