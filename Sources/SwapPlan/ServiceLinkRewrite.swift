import KubeEnvironment
import KubeModel

/// One TCP port of a Service that the local process should reach through the tunnel.
public struct ServicePortTarget: Sendable, Hashable {
    /// The Service's name, e.g. `redis-cache`.
    public var service: String
    public var clusterIP: String
    public var port: Int

    public init(service: String, clusterIP: String, port: Int) {
        self.service = service
        self.clusterIP = clusterIP
        self.port = port
    }
}

/// Rewrites service-link variables (`FOO_SERVICE_HOST`, `FOO_PORT_6379_TCP_ADDR`, …) so that
/// they point at local listeners that tunnel to the Service: the ClusterIP is not routable
/// from the laptop, 127.0.0.1:<local port> is.
public enum ServiceLinkRewrite {
    /// The Service ports the environment links to: TCP ports of Services whose
    /// `<PREFIX>_SERVICE_HOST` is present in `environment` with the Service's ClusterIP.
    public static func targets(environment: [EnvironmentVariable], services: [JSONValue]) -> [ServicePortTarget] {
        var values: [String: String] = [:]
        for variable in environment { values[variable.name] = variable.value }
        var result: [ServicePortTarget] = []
        for service in services {
            guard let name = service.name, let clusterIP = service[path: ["spec", "clusterIP"]]?.string,
                  values["\(prefix(name))_SERVICE_HOST"] == clusterIP
            else { continue }
            for port in service[path: ["spec", "ports"]]?.array ?? [] {
                guard let number = port["port"]?.int, (port["protocol"]?.string ?? "TCP") == "TCP" else { continue }
                let target = ServicePortTarget(service: name, clusterIP: clusterIP, port: number)
                if !result.contains(target) { result.append(target) }
            }
        }
        return result
    }

    /// `environment` with each linked Service's variables pointing at `localPorts[target]`.
    ///
    /// Names keep the Service's port (`FOO_PORT_6379_TCP_PORT`) because that is what code looks
    /// up; only values change. Variables of Services without a local port stay as they are.
    public static func rewrite(
        environment: [EnvironmentVariable], localPorts: [ServicePortTarget: Int]
    ) -> [EnvironmentVariable] {
        var replacements: [String: String] = [:]
        let byService = Dictionary(grouping: localPorts.keys, by: \.service)
        for (service, targets) in byService {
            let p = prefix(service)
            replacements["\(p)_SERVICE_HOST"] = "127.0.0.1"
            for target in targets {
                guard let local = localPorts[target] else { continue }
                let base = "\(p)_PORT_\(target.port)_TCP"
                replacements[base] = "tcp://127.0.0.1:\(local)"
                replacements["\(base)_PORT"] = String(local)
                replacements["\(base)_ADDR"] = "127.0.0.1"
            }
        }
        // FOO_SERVICE_PORT, FOO_SERVICE_PORT_<NAME> and FOO_PORT hold a port number or URL of
        // one of the targets; map them by value.
        var result: [EnvironmentVariable] = []
        for variable in environment {
            var value = replacements[variable.name] ?? variable.value
            if replacements[variable.name] == nil, let service = serviceOwning(variable.name, in: byService) {
                let targets = byService[service] ?? []
                if variable.name.hasPrefix("\(prefix(service))_SERVICE_PORT"),
                   let port = Int(variable.value), let target = targets.first(where: { $0.port == port }),
                   let local = localPorts[target]
                {
                    value = String(local)
                } else if variable.name == "\(prefix(service))_PORT",
                          let target = targets.first(where: { variable.value == "tcp://\($0.clusterIP):\($0.port)" }),
                          let local = localPorts[target]
                {
                    value = "tcp://127.0.0.1:\(local)"
                }
            }
            result.append(EnvironmentVariable(name: variable.name, value: value))
        }
        return result
    }

    /// The kubelet's variable prefix for a Service name.
    public static func prefix(_ service: String) -> String {
        service.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    private static func serviceOwning(_ name: String, in services: [String: [ServicePortTarget]]) -> String? {
        services.keys.first { name.hasPrefix(prefix($0) + "_") }
    }
}
