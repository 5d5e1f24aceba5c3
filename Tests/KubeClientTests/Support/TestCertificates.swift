import Foundation

/// A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with the `openssl` CLI.
struct TestCertificates {
    let directory: TempDirectory
    var caPath: String { directory.path + "/ca.crt" }
    var serverCertPath: String { directory.path + "/server.crt" }
    var serverKeyPath: String { directory.path + "/server.key" }
    var clientCertPath: String { directory.path + "/client.crt" }
    var clientKeyPath: String { directory.path + "/client.key" }

    struct OpenSSLMissing: Error, CustomStringConvertible {
        var description: String
    }

    static func make() throws -> TestCertificates {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw OpenSSLMissing(description: "/usr/bin/openssl is missing; install it with `apt-get install openssl`")
        }
        let dir = try TempDirectory("kubeclient-certs")
        try dir.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.fixture\nextendedKeyUsage=serverAuth\n")
        try dir.write("client.ext", "extendedKeyUsage=clientAuth\n")
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=fixture-ca"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=fixture-apiserver"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=cert-user/O=developers"],
            ["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2", "-extfile", "client.ext"],
        ]
        for arguments in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw OpenSSLMissing(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed with \(process.terminationStatus)")
            }
        }
        return TestCertificates(directory: dir)
    }

    /// A kubeconfig for `server` with the given user stanza (YAML mapping body, indented 4 spaces).
    func kubeconfig(server: String, user: String, namespace: String = "ns") throws -> String {
        try directory.write("kubeconfig-\(UUID().uuidString.prefix(6))", """
            apiVersion: v1
            kind: Config
            current-context: fixture
            clusters:
            - name: fixture
              cluster:
                server: \(server)
                certificate-authority: ca.crt
            contexts:
            - name: fixture
              context: {cluster: fixture, user: me, namespace: \(namespace)}
            users:
            - name: me
              user:
            \(user)
            """)
    }
}
