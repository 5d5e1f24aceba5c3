import KubeModel

/// One remote forward: connections to `remotePort` in the pod reach `localPort` on 127.0.0.1.
public struct InboundForward: Sendable, Hashable, CustomStringConvertible {
    public var remotePort: Int
    public var localPort: Int
    /// The container port's name, when it has one.
    public var name: String?

    public init(remotePort: Int, localPort: Int, name: String? = nil) {
        self.remotePort = remotePort
        self.localPort = localPort
        self.name = name
    }

    public var description: String {
        let label = name.map { " (\($0))" } ?? ""
        return "pod :\(remotePort)\(label) → 127.0.0.1:\(localPort)"
    }
}

/// One local listener for the local process: 127.0.0.1:`localPort` reaches `remoteHost:remotePort`
/// as seen from inside the pod.
public struct OutboundForward: Sendable, Hashable, CustomStringConvertible {
    public var localPort: Int
    public var remoteHost: String
    public var remotePort: Int
    /// Why it exists, for the summary: a sibling container's name, `--to-pod`, or a Service.
    public var purpose: String

    public init(localPort: Int, remoteHost: String, remotePort: Int, purpose: String) {
        self.localPort = localPort
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.purpose = purpose
    }

    public var description: String { "127.0.0.1:\(localPort) → \(remoteHost):\(remotePort) (\(purpose))" }
}

/// Which ports a swap forwards in each direction.
public enum ForwardPlan {
    /// Remote forwards for every TCP port the target container declares (named ones too) plus each
    /// `--expose`; an `--expose` for a declared port replaces that port's local side.
    public static func inbound(container: JSONValue, exposes: [PortMapping]) throws(SwapPlanError) -> [InboundForward] {
        let containerName = container["name"]?.string ?? "?"
        var forwards: [InboundForward] = []
        for port in container["ports"]?.array ?? [] {
            guard let number = port["containerPort"]?.int, (port["protocol"]?.string ?? "TCP") == "TCP" else { continue }
            guard !forwards.contains(where: { $0.remotePort == number }) else { continue }
            forwards.append(InboundForward(remotePort: number, localPort: number, name: port["name"]?.string))
        }
        for mapping in exposes {
            let remote: Int
            var name: String?
            switch mapping.remote {
            case .number(let number):
                remote = number
            case .name(let wanted):
                let declared = (container["ports"]?.array ?? []).filter { $0["name"]?.string != nil }
                guard let port = declared.first(where: { $0["name"]?.string == wanted }), let number = port["containerPort"]?.int else {
                    throw .unknownNamedPort(name: wanted, container: containerName,
                                            available: declared.compactMap { $0["name"]?.string })
                }
                remote = number
                name = wanted
            }
            let local = mapping.local ?? remote
            if let index = forwards.firstIndex(where: { $0.remotePort == remote }) {
                forwards[index].localPort = local
            } else {
                forwards.append(InboundForward(remotePort: remote, localPort: local, name: name))
            }
        }
        return forwards
    }

    /// The warning for a swap with no inbound forward: the container declares no TCP port and no
    /// `--expose` was given. Not an error — a queue worker or cron-like consumer swaps for its
    /// environment, volumes and outbound access — but the user must know that nothing from the
    /// cluster reaches the local process, and how to change that.
    public static func noInboundWarning(deployment: String, container: String) -> String {
        "container \(container) of deployment \(deployment) declares no ports, so no cluster traffic reaches the local process "
            + "(env, volumes and outbound access still work); to receive traffic on a port, pass --expose [LOCAL:]PORT"
    }

    /// Local listeners for the TCP ports declared by the pod's other containers (they share the
    /// pod's localhost, so the local process finds them where the app would) and for each
    /// `--to-pod` port.
    public static func outbound(podSpec: JSONValue, targetContainer: String, toPod: [Int]) -> [OutboundForward] {
        var forwards: [OutboundForward] = []
        var seen = Set<Int>()
        for container in podSpec["containers"]?.array ?? [] {
            guard let name = container["name"]?.string, name != targetContainer else { continue }
            for port in container["ports"]?.array ?? [] {
                guard let number = port["containerPort"]?.int, (port["protocol"]?.string ?? "TCP") == "TCP",
                      seen.insert(number).inserted else { continue }
                forwards.append(OutboundForward(localPort: number, remoteHost: "127.0.0.1", remotePort: number,
                                                purpose: "container \(name)"))
            }
        }
        for port in toPod where seen.insert(port).inserted {
            forwards.append(OutboundForward(localPort: port, remoteHost: "127.0.0.1", remotePort: port, purpose: "--to-pod"))
        }
        return forwards
    }
}
