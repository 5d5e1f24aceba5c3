import Foundation
import KubeModel
import Logging

@testable import KubeClient

/// A started fixture server plus a client configured for it through a real kubeconfig file.
struct Fixture {
    let certificates: TestCertificates
    let server: FixtureAPIServer
    let client: KubeClient

    static func start(token: String? = "good-token", userYAML: String? = nil, requireClientCert: Bool = false) async throws -> Fixture {
        let certificates = try TestCertificates.make()
        let server = try await FixtureAPIServer.start(certificates: certificates, token: token, requireClientCert: requireClientCert)
        let user = userYAML ?? "    token: \(token ?? "none")"
        let kubeconfig = try certificates.kubeconfig(server: server.url, user: user)
        let config = try KubeConfigLoader(environment: [:], homeDirectory: "/nonexistent").load(explicitPath: kubeconfig)
        // KUBECLIENT_TRACE=1 prints the client's trace log while debugging a test.
        var logger = Logger(label: "fixture-client", factory: { label in StreamLogHandler.standardError(label: label) })
        logger.logLevel = ProcessInfo.processInfo.environment["KUBECLIENT_TRACE"] == nil ? Logger.Level.warning : Logger.Level.trace
        let client = KubeClient(config: config, environment: ["PATH": "/usr/bin:/bin"], requestTimeout: .seconds(10), logger: logger)
        return Fixture(certificates: certificates, server: server, client: client)
    }

    func stop() async {
        await client.shutdown()
        await server.stop()
        certificates.directory.remove()
    }
}

/// Fails the test instead of hanging when `body` takes longer than `seconds`.
func withTestDeadline<T: Sendable>(_ seconds: Int = 20, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withDeadline(.seconds(seconds), operation: "test body", body)
}
