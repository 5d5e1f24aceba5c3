import ArgumentParser
import Foundation
import KubeClient
import KubeModel
import SwapEngine

/// `swapdev status [-A | -n NS] [-o json]`: every active swap and its health.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List active swaps: deployment, container, owner, age, last heartbeat, health.",
        discussion: """
            Health is "healthy", "stale heartbeat" (the swapping swapdev stopped renewing it: killed, asleep, \
            offline — its dead-man switch restores it after --restore-after) or "proxy missing". \
            Undo any of them with swapdev restore DEPLOYMENT.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List swaps in every namespace.")
    var allNamespaces = false

    @Option(name: .shortAndLong, help: "Output format: table (default) or json.")
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    func run() async throws {
        let client = try cluster.makeClient()
        let namespace = allNamespaces ? "" : (cluster.namespace ?? client.namespace)
        let entries: [SwapStatusEntry]
        do {
            entries = try await SwapStatus.fetch(client: client, namespace: namespace)
            // "No active swaps in namespace nope" would hide a typo in -n.
            if entries.isEmpty, !namespace.isEmpty { try await ClusterOptions.requireNamespace(namespace, client: client) }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let now = Date()
        switch output {
        case .json:
            print(JSONValue.array(entries.map { $0.json(now: now) }).serializedString(pretty: true))
        case .table:
            if entries.isEmpty {
                print(allNamespaces ? "no active swaps in any namespace" : "no active swaps in namespace \(namespace)")
            } else {
                print(SwapStatus.table(entries, now: now, showNamespace: allNamespaces))
            }
        }
    }
}
