import Foundation
import KubeModel
import SandboxRuntime

/// Keeps an Endpoints object per Service (ready pod IPs in `addresses`, unready in
/// `notReadyAddresses`, terminating pods in neither) and pushes the service table to the runtime.
actor EndpointsController {
    private let registry: Registry
    private let runtime: any PodRuntime
    /// Where the `kubernetes` Service points: the sandbox API itself.
    private let apiEndpoint: ServiceRoute.Endpoint
    private var lastRoutes: [ServiceRoute]?

    init(registry: Registry, runtime: any PodRuntime, apiPort: Int) {
        self.registry = registry
        self.runtime = runtime
        self.apiEndpoint = ServiceRoute.Endpoint(ip: "127.0.0.1", port: apiPort)
    }

    func handle(_ event: StoreEvent) async {
        switch event.resource {
        case ResourceCatalog.pods.key, ResourceCatalog.services.key:
            await resync()
        default:
            return
        }
    }

    /// Recomputes every Endpoints object and the runtime's service table; returns once the
    /// runtime has the new table.
    func resync() async {
        var routes: [ServiceRoute] = []
        let services = registry.list(ResourceCatalog.services, namespace: nil).items
        var podsByNamespace: [String: [JSONValue]] = [:]
        for service in services {
            let namespace = service.namespace ?? "default"
            let name = service.name ?? ""
            if podsByNamespace[namespace] == nil {
                podsByNamespace[namespace] = registry.list(ResourceCatalog.pods, namespace: namespace).items
            }
            let isAPI = namespace == "default" && name == "kubernetes"
            let subsets = isAPI ? apiSubsets(service) : Self.subsets(service: service, pods: podsByNamespace[namespace] ?? [])
            if service[path: ["spec", "selector"]] != nil || isAPI {
                writeEndpoints(service: service, subsets: subsets)
            }
            if let clusterIP = service[path: ["spec", "clusterIP"]]?.string, !clusterIP.isEmpty, clusterIP != "None" {
                routes.append(route(service: service, clusterIP: clusterIP, subsets: subsets, isAPI: isAPI))
            }
        }
        let serviceKeys = Set(services.map { "\($0.namespace ?? "")/\($0.name ?? "")" })
        for endpoints in registry.list(ResourceCatalog.endpoints, namespace: nil).items
        where !serviceKeys.contains("\(endpoints.namespace ?? "")/\(endpoints.name ?? "")") {
            _ = try? registry.delete(ResourceCatalog.endpoints, namespace: endpoints.namespace, name: endpoints.name ?? "")
        }
        routes.sort { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        if routes != lastRoutes {
            lastRoutes = routes
            await runtime.updateServices(routes)
        }
    }

    private func apiSubsets(_ service: JSONValue) -> JSONValue {
        [["addresses": [["ip": .string(apiEndpoint.ip)]], "ports": [["name": "https", "port": .int(Int64(apiEndpoint.port)), "protocol": "TCP"]]]]
    }

    private func route(service: JSONValue, clusterIP: String, subsets: JSONValue, isAPI: Bool) -> ServiceRoute {
        let ports: [ServiceRoute.Port] = (service[path: ["spec", "ports"]]?.array ?? []).compactMap { port in
            guard let number = port["port"]?.int else { return nil }
            if isAPI { return ServiceRoute.Port(port: number, endpoints: [apiEndpoint]) }
            let portName = port["name"]?.string ?? ""
            var endpoints: [ServiceRoute.Endpoint] = []
            for subset in subsets.array ?? [] {
                guard let target = (subset["ports"]?.array ?? []).first(where: { ($0["name"]?.string ?? "") == portName })?["port"]?.int else { continue }
                for address in subset["addresses"]?.array ?? [] {
                    if let ip = address["ip"]?.string { endpoints.append(.init(ip: ip, port: target)) }
                }
            }
            return ServiceRoute.Port(port: number, endpoints: endpoints.sorted { ($0.ip, $0.port) < ($1.ip, $1.port) })
        }
        return ServiceRoute(namespace: service.namespace ?? "default", name: service.name ?? "", clusterIP: clusterIP, ports: ports)
    }

    /// Endpoints subsets for a Service: one subset per distinct resolved port set.
    static func subsets(service: JSONValue, pods: [JSONValue]) -> JSONValue {
        guard let selectorMap = service[path: ["spec", "selector"]]?.stringMap, !selectorMap.isEmpty else { return [] }
        let selector = LabelSelector(matchLabels: selectorMap)
        let servicePorts = service[path: ["spec", "ports"]]?.array ?? []
        var groups: [[JSONValue]: (ready: [JSONValue], notReady: [JSONValue])] = [:]
        var order: [[JSONValue]] = []
        for pod in pods where selector.matches(pod.labels) {
            guard pod[path: ["metadata", "deletionTimestamp"]] == nil,
                  let ip = pod[path: ["status", "podIP"]]?.string, !ip.isEmpty,
                  pod[path: ["status", "phase"]]?.string != "Succeeded", pod[path: ["status", "phase"]]?.string != "Failed"
            else { continue }
            let ports: [JSONValue] = servicePorts.compactMap { port in
                guard let target = resolveTargetPort(port["targetPort"] ?? port["port"] ?? .null, pod: pod) else { return nil }
                var entry: JSONValue = ["port": .int(Int64(target)), "protocol": port["protocol"] ?? "TCP"]
                if let name = port["name"]?.string, !name.isEmpty { entry["name"] = .string(name) }
                return entry
            }
            let ready = (pod[path: ["status", "conditions"]]?.array ?? []).contains { $0["type"]?.string == "Ready" && $0["status"]?.string == "True" }
            let address: JSONValue = [
                "ip": .string(ip), "nodeName": .string(SandboxNode.name),
                "targetRef": ["kind": "Pod", "name": .string(pod.name ?? ""), "namespace": .string(pod.namespace ?? ""), "uid": .string(pod.uid ?? "")],
            ]
            if groups[ports] == nil { order.append(ports) }
            if ready { groups[ports, default: ([], [])].ready.append(address) } else { groups[ports, default: ([], [])].notReady.append(address) }
        }
        return .array(order.compactMap { ports in
            guard let group = groups[ports] else { return nil }
            var subset: JSONValue = ["ports": .array(ports)]
            if !group.ready.isEmpty { subset["addresses"] = .array(group.ready) }
            if !group.notReady.isEmpty { subset["notReadyAddresses"] = .array(group.notReady) }
            return subset
        })
    }

    /// A Service `targetPort`, a number or the name of a container port of `pod`.
    static func resolveTargetPort(_ target: JSONValue, pod: JSONValue) -> Int? {
        if let number = target.int { return number }
        guard let name = target.string else { return nil }
        if let number = Int(name) { return number }
        for container in pod[path: ["spec", "containers"]]?.array ?? [] {
            for port in container["ports"]?.array ?? [] where port["name"]?.string == name {
                return port["containerPort"]?.int
            }
        }
        return nil
    }

    private func writeEndpoints(service: JSONValue, subsets: JSONValue) {
        let namespace = service.namespace ?? "default"
        let name = service.name ?? ""
        let existing = try? registry.get(ResourceCatalog.endpoints, namespace: namespace, name: name)
        var labels = service.labels
        labels["service.kubernetes.io/headless"] = service[path: ["spec", "clusterIP"]]?.string == "None" ? "" : nil
        if let existing {
            guard existing["subsets"] != subsets || existing.labels != labels else { return }
            var updated = existing
            updated["subsets"] = subsets
            updated.labels = labels
            updated.resourceVersion = nil
            _ = try? registry.update(ResourceCatalog.endpoints, namespace: namespace, name: name, body: updated)
        } else {
            var endpoints: JSONValue = ["metadata": ["name": .string(name)], "subsets": subsets]
            endpoints.labels = labels
            _ = try? registry.create(ResourceCatalog.endpoints, namespace: namespace, body: endpoints)
        }
    }
}
