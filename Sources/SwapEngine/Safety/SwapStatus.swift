import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// How a swap looks from the cluster.
public enum SwapHealth: String, Sendable, Hashable, CaseIterable {
    case healthy
    /// No heartbeat for more than three beats: swapdev is gone, asleep, or cut off.
    case staleHeartbeat = "stale heartbeat"
    /// The record is there but its proxy pod is not: traffic has nowhere to go.
    case proxyMissing = "proxy missing"
    /// The annotations cannot be read; `swapdev restore` or kubectl annotate fixes it.
    case malformed
}

/// One active swap, as `swapdev status` shows it.
public struct SwapStatusEntry: Sendable, Hashable {
    public var namespace: String
    public var deployment: String
    public var container: String
    public var owner: String
    public var swapID: String
    public var startedAt: Date?
    public var heartbeat: Date?
    public var proxyPod: String
    public var health: SwapHealth
    /// Why, in a few words (`heartbeat 3m old`, the malformed annotation, …).
    public var detail: String

    /// The entry as JSON for `-o json`.
    public func json(now: Date) -> JSONValue {
        var value: JSONValue = [
            "namespace": .string(namespace), "deployment": .string(deployment), "container": .string(container),
            "owner": .string(owner), "swapID": .string(swapID), "proxyPod": .string(proxyPod),
            "health": .string(health.rawValue), "detail": .string(detail),
        ]
        if let startedAt {
            value["startedAt"] = .string(RFC3339.string(from: startedAt))
            value["ageSeconds"] = .int(Int64(max(0, now.timeIntervalSince(startedAt))))
        }
        if let heartbeat {
            value["heartbeat"] = .string(RFC3339.string(from: heartbeat))
            value["heartbeatAgeSeconds"] = .int(Int64(max(0, now.timeIntervalSince(heartbeat))))
        }
        return value
    }
}

/// `swapdev status`: every swap recorded on a Deployment, with its health.
public enum SwapStatus {
    /// A heartbeat older than this is stale: three beats at the longest interval (30 s).
    public static let staleAfter: TimeInterval = 90

    /// The entries for Deployments and the pods labelled `swapdev.dev/swap` (pure).
    public static func entries(deployments: [JSONValue], proxyPods: [JSONValue], now: Date,
                               staleAfter: TimeInterval = SwapStatus.staleAfter) -> [SwapStatusEntry]
    {
        var result: [SwapStatusEntry] = []
        for deployment in deployments where deployment.annotations[SwapRecord.Key.id] != nil {
            let namespace = deployment.namespace ?? ""
            let name = deployment.name ?? "?"
            let annotations = deployment.annotations
            let record: SwapRecord?
            do {
                record = try SwapRecord(deployment: deployment)
            } catch {
                result.append(SwapStatusEntry(
                    namespace: namespace, deployment: name, container: annotations[SwapRecord.Key.container] ?? "",
                    owner: annotations[SwapRecord.Key.owner] ?? "unknown", swapID: annotations[SwapRecord.Key.id] ?? "",
                    startedAt: nil, heartbeat: nil, proxyPod: annotations[SwapRecord.Key.proxyPod] ?? "",
                    health: .malformed, detail: "\(error)"))
                continue
            }
            guard let record else { continue }
            let podExists = proxyPods.contains { pod in
                pod.namespace == deployment.namespace && pod.labels[SwapRecord.swapLabel] == record.id
                    && pod[path: ["metadata", "deletionTimestamp"]] == nil
            }
            let age = now.timeIntervalSince(record.heartbeat)
            // A swap that recorded its --restore-after beats faster; three missed beats are stale.
            let threshold = annotations[DeadManPlan.restoreAfterAnnotation].flatMap(Double.init)
                .map { min(staleAfter, 3 * min(max($0 / 6, 1), 30)) } ?? staleAfter
            let health: SwapHealth
            let detail: String
            if age > threshold {
                health = .staleHeartbeat
                detail = "last heartbeat \(GuardText.age(age)) ago"
            } else if !podExists {
                health = .proxyMissing
                detail = "proxy pod \(record.proxyPod) does not exist"
            } else {
                health = .healthy
                detail = "heartbeat \(GuardText.age(age)) ago"
            }
            result.append(SwapStatusEntry(
                namespace: namespace, deployment: name, container: record.container, owner: record.owner,
                swapID: record.id, startedAt: record.startedAt, heartbeat: record.heartbeat, proxyPod: record.proxyPod,
                health: health, detail: detail))
        }
        return result.sorted { ($0.namespace, $0.deployment) < ($1.namespace, $1.deployment) }
    }

    /// Reads the swaps of `namespace` (`""`: every namespace).
    public static func fetch(client: KubeClient, namespace: String) async throws -> [SwapStatusEntry] {
        async let deployments = client.list(.deployments, namespace: namespace).items
        async let pods = client.list(.pods, namespace: namespace, labelSelector: SwapRecord.swapLabel).items
        return entries(deployments: try await deployments, proxyPods: try await pods, now: Date())
    }

    /// The table `swapdev status` prints; one line saying so when there is no swap.
    public static func table(_ entries: [SwapStatusEntry], now: Date, showNamespace: Bool) -> String {
        guard !entries.isEmpty else { return "no active swaps" }
        var rows: [[String]] = [(showNamespace ? ["NAMESPACE"] : []) + ["DEPLOYMENT", "CONTAINER", "OWNER", "AGE", "HEARTBEAT", "HEALTH"]]
        for entry in entries {
            let age = entry.startedAt.map { GuardText.age(now.timeIntervalSince($0)) } ?? "?"
            let beat = entry.heartbeat.map { GuardText.age(now.timeIntervalSince($0)) + " ago" } ?? "?"
            let health = entry.health == .healthy ? entry.health.rawValue : "\(entry.health.rawValue) (\(entry.detail))"
            rows.append((showNamespace ? [entry.namespace] : []) + [entry.deployment, entry.container, entry.owner, age, beat, health])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "   ")
        }.joined(separator: "\n")
    }
}
