import KubeModel

/// The Docker-link style variables the kubelet gives every container for each Service
/// (`pkg/kubelet/envvars/envvars.go`): `FOO_SERVICE_HOST`, `FOO_SERVICE_PORT`,
/// `FOO_SERVICE_PORT_<NAME>`, `FOO_PORT`, and per port `FOO_PORT_<P>_<PROTO>{,_PROTO,_PORT,_ADDR}`.
public enum ServiceLinks {
    /// Variables for one Service; empty for headless (`clusterIP: None`) or ExternalName Services.
    public static func variables(for service: JSONValue) -> [EnvironmentVariable] {
        guard let name = service.name,
              let clusterIP = service[path: ["spec", "clusterIP"]]?.string,
              !clusterIP.isEmpty, clusterIP != "None",
              let ports = service[path: ["spec", "ports"]]?.array, let first = ports.first,
              let firstPort = first["port"]?.int
        else { return [] }

        let prefix = name.uppercased().replacingOccurrences(of: "-", with: "_")
        let host = clusterIP.contains(":") ? "[\(clusterIP)]" : clusterIP
        var result: [EnvironmentVariable] = [
            .init(name: "\(prefix)_SERVICE_HOST", value: clusterIP),
            .init(name: "\(prefix)_SERVICE_PORT", value: String(firstPort)),
        ]
        for port in ports {
            if let portName = port["name"]?.string, !portName.isEmpty, let number = port["port"]?.int {
                let suffix = portName.uppercased().replacingOccurrences(of: "-", with: "_")
                result.append(.init(name: "\(prefix)_SERVICE_PORT_\(suffix)", value: String(number)))
            }
        }
        let firstProtocol = (first["protocol"]?.string ?? "TCP").lowercased()
        result.append(.init(name: "\(prefix)_PORT", value: "\(firstProtocol)://\(host):\(firstPort)"))
        for port in ports {
            guard let number = port["port"]?.int else { continue }
            let proto = port["protocol"]?.string ?? "TCP"
            let base = "\(prefix)_PORT_\(number)_\(proto.uppercased())"
            result.append(.init(name: base, value: "\(proto.lowercased())://\(host):\(number)"))
            result.append(.init(name: "\(base)_PROTO", value: proto.lowercased()))
            result.append(.init(name: "\(base)_PORT", value: String(number)))
            result.append(.init(name: "\(base)_ADDR", value: clusterIP))
        }
        return result
    }
}
