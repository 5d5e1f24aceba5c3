import Foundation
import KubeModel

/// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which
/// `kubectl get` uses for its columns.
enum TableConverter {
    static func wantsTable(_ request: APIRequest) -> Bool {
        (request.header("accept") ?? "").contains("as=Table")
    }

    private struct Column {
        var name: String
        var type = "string"
        var format = ""
        var value: (JSONValue) -> JSONValue
    }

    static func table(type: ResourceType, list: JSONValue) -> JSONValue {
        let columns = self.columns(for: type)
        let rows: [JSONValue] = (list["items"]?.array ?? []).map { item in
            var object = item
            object["apiVersion"] = .string(type.api.apiVersion)
            object["kind"] = .string(type.api.kind)
            return ["cells": .array(columns.map { $0.value(item) }), "object": object]
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": ["resourceVersion": list[path: ["metadata", "resourceVersion"]] ?? ""],
            "columnDefinitions": .array(columns.map { column in
                ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format), "description": "", "priority": 0]
            }),
            "rows": .array(rows),
        ]
    }

    private static func columns(for type: ResourceType) -> [Column] {
        let name = Column(name: "Name", format: "name") { .string($0.name ?? "") }
        let age = Column(name: "Age") { .string(Self.age($0[path: ["metadata", "creationTimestamp"]]?.string)) }
        switch type.key {
        case ResourceCatalog.pods.key:
            return [
                name,
                Column(name: "Ready") { pod in
                    let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
                    let total = pod[path: ["spec", "containers"]]?.array?.count ?? 0
                    return .string("\(statuses.filter { $0["ready"]?.bool == true }.count)/\(total)")
                },
                Column(name: "Status") { .string(Self.podStatus($0)) },
                Column(name: "Restarts", type: "string") { pod in
                    let restarts = (pod[path: ["status", "containerStatuses"]]?.array ?? []).reduce(0) { $0 + ($1["restartCount"]?.int ?? 0) }
                    return .string(String(restarts))
                },
                age,
            ]
        case ResourceCatalog.deployments.key:
            return [
                name,
                Column(name: "Ready") { .string("\($0[path: ["status", "readyReplicas"]]?.int ?? 0)/\($0[path: ["spec", "replicas"]]?.int ?? 0)") },
                Column(name: "Up-to-date", type: "integer") { .int(Int64($0[path: ["status", "updatedReplicas"]]?.int ?? 0)) },
                Column(name: "Available", type: "integer") { .int(Int64($0[path: ["status", "availableReplicas"]]?.int ?? 0)) },
                age,
            ]
        case ResourceCatalog.services.key:
            return [
                name,
                Column(name: "Type") { $0[path: ["spec", "type"]] ?? "ClusterIP" },
                Column(name: "Cluster-IP") { $0[path: ["spec", "clusterIP"]] ?? "<none>" },
                Column(name: "External-IP") { _ in "<none>" },
                Column(name: "Port(s)") { service in
                    .string((service[path: ["spec", "ports"]]?.array ?? []).map {
                        "\($0["port"]?.int ?? 0)/\($0["protocol"]?.string ?? "TCP")"
                    }.joined(separator: ","))
                },
                age,
            ]
        case ResourceCatalog.namespaces.key:
            return [name, Column(name: "Status") { $0[path: ["status", "phase"]] ?? "Active" }, age]
        case ResourceCatalog.configMaps.key:
            return [name, Column(name: "Data", type: "integer") { .int(Int64($0["data"]?.object?.count ?? 0)) }, age]
        case ResourceCatalog.secrets.key:
            return [name, Column(name: "Type") { $0["type"] ?? "Opaque" },
                    Column(name: "Data", type: "integer") { .int(Int64($0["data"]?.object?.count ?? 0)) }, age]
        case ResourceCatalog.endpoints.key:
            return [name, Column(name: "Endpoints") { endpoints in
                let addresses = (endpoints["subsets"]?.array ?? []).flatMap { subset in
                    (subset["addresses"]?.array ?? []).flatMap { address in
                        (subset["ports"]?.array ?? []).map { "\(address["ip"]?.string ?? ""):\($0["port"]?.int ?? 0)" }
                    }
                }
                return .string(addresses.isEmpty ? "<none>" : addresses.joined(separator: ","))
            }, age]
        default:
            return [name, age]
        }
    }

    /// The STATUS column as kubectl shows it: a waiting reason, Terminating, or the phase.
    static func podStatus(_ pod: JSONValue) -> String {
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
        for status in pod[path: ["status", "containerStatuses"]]?.array ?? [] {
            if let reason = status[path: ["state", "waiting", "reason"]]?.string, !reason.isEmpty { return reason }
            if let reason = status[path: ["state", "terminated", "reason"]]?.string, !reason.isEmpty { return reason }
        }
        return pod[path: ["status", "phase"]]?.string ?? "Pending"
    }

    static func age(_ timestamp: String?) -> String {
        guard let timestamp, let date = ObjectIdentity.parseTimestamp(timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}
