import KubeClient
import KubeModel
import SwapPlan

/// What swapdev learns before it changes anything: the Deployment, the container, the ports.
struct SwapPreflight {
    var deployment: JSONValue
    var container: String
    var containerSpec: JSONValue
    var inbound: [InboundForward]
    var outbound: [OutboundForward]

    /// Reads and checks the Deployment; nothing in the cluster changes. `warn` gets one line per
    /// thing the user should know that is no reason to stop (the default prints it as the phase
    /// reporter prints warnings).
    static func run(client: KubeClient, namespace: String, options: SwapOptions,
                    warn: (String) -> Void = { PhaseReporter(quiet: true).warning($0) }) async throws -> SwapPreflight {
        let deployment = try await client.get(.deployments, namespace: namespace, name: options.target.deployment)
        if let record = try SwapRecord(deployment: deployment) {
            throw SwapPlanError.alreadySwapped(deployment: options.target.deployment, record: record)
        }
        let container = try options.target.selectContainer(in: deployment)
        let spec = deployment[path: ["spec", "template", "spec"]] ?? .emptyObject
        let containerSpec = (spec["containers"]?.array ?? []).first { $0["name"]?.string == container } ?? .emptyObject
        let inbound = try ForwardPlan.inbound(container: containerSpec, exposes: options.exposes)
        if inbound.isEmpty { warn(ForwardPlan.noInboundWarning(deployment: options.target.deployment, container: container)) }
        let outbound = ForwardPlan.outbound(podSpec: spec, targetContainer: container, toPod: options.toPod)
        return SwapPreflight(deployment: deployment, container: container, containerSpec: containerSpec,
                             inbound: inbound, outbound: outbound)
    }
}
