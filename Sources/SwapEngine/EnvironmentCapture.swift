import Foundation
import KubeClient
import KubeEnvironment
import KubeModel
import SSHTunnel
import SwapPlan

/// The container's environment as the kubelet computed it, read from the running proxy
/// container (so admission-injected values count), with service links pointed at local forwards.
struct EnvironmentCapture {
    let session: SSHSession
    let client: KubeClient
    let namespace: String
    let pod: String

    /// The variables from the entrypoint's dump, minus the proxy's own `SWAPDEV_*`.
    func containerEnvironment() async throws -> [EnvironmentVariable] {
        let path = ProxyPodBuilder.stateDirectory + "/env"
        let data: Data
        do {
            data = try await session.readFile(path)
        } catch {
            throw SwapError.envDumpMissing(pod: pod, reason: "\(path): \(error)")
        }
        do {
            return EnvironmentDump.appEnvironment(try EnvironmentDump.parse(data))
        } catch {
            throw SwapError.envDumpMissing(pod: pod, reason: "\(error)")
        }
    }

    /// The Services links may point at (the namespace's plus `default/kubernetes`); a read
    /// only, so it can run while the environment is still being read.
    func services() async -> [JSONValue] {
        async let namespaced = try? await client.list(.services, namespace: namespace).items
        async let kubernetes = try? await client.get(.services, namespace: "default", name: "kubernetes")
        var services = await namespaced ?? []
        if let kubernetes = await kubernetes { services.append(kubernetes) }
        return services
    }

    /// The TCP Service ports the environment links to, among `services` (from ``services()``).
    static func linkedServices(_ environment: [EnvironmentVariable], services: [JSONValue]) -> [ServicePortTarget] {
        ServiceLinkRewrite.targets(environment: environment, services: services)
    }
}
