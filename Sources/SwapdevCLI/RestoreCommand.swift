import ArgumentParser
import Foundation
import KubeClient
import SwapEngine
import SwapPlan

/// `swapdev restore [DEPLOYMENT | --all] [-n NS]`: undo any swap left behind, by anyone, from any machine.
struct RestoreSwapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Undo swaps left behind: scale the original back, delete the proxy pod and the swap's objects, remove the annotations.",
        discussion: """
            Works from what the cluster records, so it undoes a swap made by anyone on any machine, \
            at whatever phase its swapdev died. Idempotent: running it again changes nothing. \
            Prints every change it made.
            """)

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The swapped Deployment (omit with --all).")
    var deployment: String?

    @Flag(help: "Restore every swap in the namespace (with -A: in every namespace).")
    var all = false

    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "With --all: every namespace.")
    var allNamespaces = false

    @Option(help: "Limit for each wait, e.g. 90s, 2m (default 2m).")
    var timeout: String = "2m"

    @Flag(help: "Print only warnings, errors and changes.")
    var quiet = false

    func validate() throws {
        if all == (deployment != nil) {
            throw ValidationError("name one DEPLOYMENT or pass --all")
        }
        if allNamespaces && !all { throw ValidationError("-A needs --all") }
        if let deployment {
            do {
                try SwapTarget.validateDeploymentName(deployment)
            } catch {
                throw ValidationError(error.description)
            }
        }
        guard DurationParser.parse(timeout) != nil else {
            throw ValidationError("invalid --timeout \"\(timeout)\": use e.g. 90s, 2m or 1m30s")
        }
    }

    func run() async throws {
        let client = try cluster.makeClient()
        let namespace = cluster.namespace ?? client.namespace
        let repair = SwapRepair(client: client, timeout: DurationParser.parse(timeout) ?? .seconds(120),
                                reporter: PhaseReporter(quiet: quiet))
        let changes: [String]
        do {
            if let deployment {
                do {
                    changes = try await repair.restore(deployment: deployment, namespace: namespace)
                } catch KubeError.notFound(let status) {
                    // Say which is missing: the namespace (a typo in -n) or the Deployment.
                    try await ClusterOptions.requireNamespace(namespace, client: client)
                    throw KubeError.notFound(status)
                }
            } else {
                // "Nothing to restore in namespace nope" would hide a typo in -n.
                if !allNamespaces { try await ClusterOptions.requireNamespace(namespace, client: client) }
                changes = try await repair.restoreAll(namespace: allNamespaces ? "" : namespace)
            }
        } catch {
            await client.shutdown()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await client.shutdown()
        if changes.isEmpty {
            let scope = deployment.map { "deployment \(namespace)/\($0)" } ?? (allNamespaces ? "any namespace" : "namespace \(namespace)")
            print("nothing to restore in \(scope): no swap recorded and nothing left behind")
        } else {
            for change in changes { print("restored: \(change)") }
        }
    }
}
