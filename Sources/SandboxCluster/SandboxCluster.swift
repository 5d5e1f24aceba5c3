import Foundation
import KubeModel
import NIOSSL
import SandboxRuntime

/// Settings of one sandbox API server.
public struct SandboxConfiguration: Sendable {
    /// Holds the CA, server certificate and `kubeconfig`; created when missing.
    public var directory: URL
    /// 0 picks a free port.
    public var port: Int
    /// The admin bearer token; a random one when `nil`.
    public var token: String?
    /// Plain HTTP instead of HTTPS (tests that need no TLS); the kubeconfig still says https.
    public var plainHTTP: Bool
    /// The addresses of this sandbox's pods and Services (must match the runtime's).
    public var network: SandboxNetwork

    public init(directory: URL, port: Int = 0, token: String? = nil, plainHTTP: Bool = false, network: SandboxNetwork = .standard) {
        self.directory = directory
        self.port = port
        self.token = token
        self.plainHTTP = plainHTTP
        self.network = network
    }
}

/// The sandbox's API server: an in-memory stand-in for the Kubernetes API whose pods run on a
/// ``PodRuntime``. It is a test stand-in, not Kubernetes; docs/sandbox.md lists what it does.
///
/// ```swift
/// let cluster = try await SandboxCluster.start(SandboxConfiguration(directory: dir), runtime: runtime)
/// print(cluster.kubeconfigPath)   // for kubectl --kubeconfig
/// await cluster.shutdown()
/// ```
public final class SandboxCluster: Sendable {
    /// The HTTPS port on 127.0.0.1.
    public let port: Int
    /// `DIR/kubeconfig`, written once the server accepts requests.
    public let kubeconfigPath: String
    /// The admin bearer token in the kubeconfig.
    public let token: String
    /// PEM of the CA that signed the server certificate.
    public let caCertificate: Data

    private let server: HTTPServer
    private let controllers: ControllerManager
    private let runtime: any PodRuntime
    let registry: Registry
    /// The request handler, for in-process tests that skip HTTP.
    let router: APIRouter

    private init(port: Int, kubeconfigPath: String, token: String, caCertificate: Data, server: HTTPServer,
                 controllers: ControllerManager, runtime: any PodRuntime, registry: Registry, router: APIRouter) {
        self.router = router
        self.port = port
        self.kubeconfigPath = kubeconfigPath
        self.token = token
        self.caCertificate = caCertificate
        self.server = server
        self.controllers = controllers
        self.runtime = runtime
        self.registry = registry
    }

    /// Prepares certificates, seeds the store (namespaces, `kubernetes` Service), starts the
    /// controllers and the HTTPS listener, then writes `DIR/kubeconfig`.
    public static func start(_ configuration: SandboxConfiguration, runtime: any PodRuntime) async throws -> SandboxCluster {
        let directory = configuration.directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SandboxSetupError("cannot create the sandbox directory \(directory.path): \(error)")
        }
        // openssl runs as a subprocess; wait for it on a GCD thread, not a cooperative one.
        let authority = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CertificateAuthority, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try CertificateAuthority.prepare(in: directory, network: configuration.network) })
            }
        }
        guard let caPEM = FileManager.default.contents(atPath: authority.caCertificatePath) else {
            throw SandboxSetupError("cannot read \(authority.caCertificatePath); delete the sandbox directory's *.crt/*.key files and start again")
        }
        let token = configuration.token ?? ObjectIdentity.randomToken()
        let authenticator = TokenAuthenticator(adminToken: token)
        let tokens = ServiceAccountTokens(authenticator: authenticator, caCertificate: caPEM)
        let store = ObjectStore()
        SandboxNode.hostIP = configuration.network.gatewayAddress
        let registry = Registry(store: store, tokens: tokens, clusterIPs: ClusterIPAllocator(network: configuration.network))
        let router = APIRouter(registry: registry, authenticator: authenticator, streams: PodStreams(registry: registry, runtime: runtime))

        let tls: NIOSSLContext?
        if configuration.plainHTTP {
            tls = nil
        } else {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(authority.serverCertificatePath)
                let key = try NIOSSLPrivateKey(file: authority.serverKeyPath, format: .pem)
                var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
                // HTTP/1.1 only: WebSocket upgrades and chunked watches need it.
                tlsConfiguration.applicationProtocols = ["http/1.1"]
                tls = try NIOSSLContext(configuration: tlsConfiguration)
            } catch {
                throw SandboxSetupError("cannot load \(authority.serverCertificatePath) / \(authority.serverKeyPath): \(error); delete them to regenerate")
            }
        }
        let server: HTTPServer
        do {
            server = try await HTTPServer(host: "127.0.0.1", port: configuration.port, tls: tls, service: router)
        } catch {
            throw SandboxSetupError("cannot listen on 127.0.0.1:\(configuration.port): \(error); pick another --port or 0")
        }
        try seed(registry, network: configuration.network)
        let builder = LaunchSpecBuilder(registry: registry, caCertificate: caPEM)
        let controllers = ControllerManager(registry: registry, runtime: runtime, builder: builder, tokens: tokens, apiPort: server.port)
        try controllers.start(store: store, runtime: runtime)

        let kubeconfig = directory.appendingPathComponent("kubeconfig")
        try KubeconfigWriter.write(to: kubeconfig, port: server.port, caPEM: caPEM, token: token)
        return SandboxCluster(
            port: server.port, kubeconfigPath: kubeconfig.path, token: token, caCertificate: caPEM,
            server: server, controllers: controllers, runtime: runtime, registry: registry, router: router)
    }

    /// What every cluster starts with.
    private static func seed(_ registry: Registry, network: SandboxNetwork) throws {
        for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            try registry.create(ResourceCatalog.namespaces, namespace: nil, body: ["metadata": ["name": .string(namespace)]])
        }
        try registry.create(ResourceCatalog.services, namespace: "default", body: [
            "metadata": ["name": "kubernetes", "labels": ["component": "apiserver", "provider": "kubernetes"]],
            "spec": ["clusterIP": .string(network.kubernetesServiceIP), "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443]]],
        ])
    }

    /// What a restart of a real API server looks like to its clients: the listener closes and
    /// every open connection is cut (watches, exec and port-forward streams, idle keep-alive
    /// connections), new connections are refused for `downtime`, then the same port serves again.
    ///
    /// Everything etcd would keep stays: the objects, the resourceVersion counter and the watch
    /// history, so a watch resumed from an earlier resourceVersion gets the changes it missed
    /// (or 410 Expired once that version has left the history, as after an etcd compaction).
    /// What runs on nodes keeps running: pods, and the controllers, which talk to the store
    /// in-process (a real kube-controller-manager would re-list and carry on the same way).
    /// Returns once the server serves again.
    public func restartAPIServer(downtime: Duration) async throws {
        await server.stopServing()
        // Not cancellable: a server left down would be worse than a late return.
        try? await Task.sleep(for: downtime)
        do {
            try await server.resumeServing()
        } catch {
            throw SandboxSetupError("cannot listen on 127.0.0.1:\(port) again after the restart: \(error); another process took the port")
        }
    }

    /// Stops the listener and the controllers, then every pod (`runtime.shutdown()`).
    public func shutdown() async {
        await server.shutdown()
        await controllers.stop()
        await runtime.shutdown()
    }
}
