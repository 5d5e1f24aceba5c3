import ArgumentParser
import KubeClient

/// `swapdev doctor`: can swapdev work against this cluster, as this user, in this namespace?
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the cluster connection, your identity and every permission swap and dev need.",
        discussion: "Exits 0 only when everything is in place; otherwise prints exactly what is missing.")

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.makeClient()
        defer { Task { await client.shutdown() } }
        let report = try await client.diagnose()
        print("server:     \(report.server) (Kubernetes \(report.serverVersion ?? "unknown"))")
        print("context:    \(report.context ?? "(in-cluster)") from \(report.configSource)")
        print("namespace:  \(report.namespace)")
        print("user:       \(report.user)\(report.groups.isEmpty ? "" : " groups: \(report.groups.joined(separator: ", "))") [auth: \(report.authMethod)]")
        let granted = report.checkedCount - report.missing.count - report.unchecked.count
        print("permissions: \(granted)/\(report.checkedCount) granted in namespace \(report.namespace)")
        for permission in report.missing { print("  missing: \(permission)") }
        for (permission, reason) in report.unchecked { print("  unchecked: \(permission): \(reason)") }
        guard report.isHealthy else {
            print("ask a cluster admin for the missing permissions (e.g. a Role with these verbs bound to \(report.user))")
            throw ExitCode(1)
        }
        print("ok: swapdev has everything it needs")
    }
}
