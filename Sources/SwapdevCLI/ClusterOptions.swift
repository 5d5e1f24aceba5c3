import ArgumentParser
import KubeClient
import Logging
import SwapPlan

/// Options every command that talks to a cluster shares.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: current-context).")
    var context: String?

    @Option(name: .shortAndLong, help: "The namespace (default: the context's namespace, else \"default\").")
    var namespace: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning

    /// A namespace that cannot exist fails before any request is made.
    func validate() throws {
        if let namespace {
            do {
                try SwapTarget.validateNamespace(namespace)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    /// Sets up logging and builds a client from the kubeconfig.
    func makeClient() throws -> KubeClient {
        LoggingSetup.bootstrap(level: logLevel)
        let config = try KubeConfigLoader().load(explicitPath: kubeconfig, context: context, namespace: namespace)
        return KubeClient(config: config, logger: Logger(label: "swapdev"))
    }

    /// Throws ``NamespaceNotFound`` when `namespace` does not exist.
    ///
    /// Listing in a missing namespace is no error for the API server (an empty list), so without
    /// this a typo in `-n` reads as "nothing here". Users who may not read namespaces (403) get
    /// no error from this check: namespaced RBAC is common, and the command itself will say what
    /// is wrong, if anything. Any other failure is thrown: swallowing it let `status -n typo`
    /// answer "no active swaps" with exit 0 when the check itself failed.
    static func requireNamespace(_ namespace: String, client: KubeClient) async throws {
        do {
            _ = try await client.get(.namespaces, name: namespace)
        } catch KubeError.notFound {
            throw NamespaceNotFound(namespace: namespace, context: client.config.contextName)
        } catch KubeError.forbidden {
            return
        }
    }
}

/// `-n NAME` names a namespace the cluster does not have.
struct NamespaceNotFound: Error, CustomStringConvertible {
    var namespace: String
    var context: String?

    var description: String {
        let cluster = context.map { " in context \($0)" } ?? ""
        return "namespace \"\(namespace)\" does not exist\(cluster); check -n (list them with `kubectl get namespaces`)"
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Bootstraps swift-log once for the process, writing to stderr.
enum LoggingSetup {
    nonisolated(unsafe) private static var done = false

    static func bootstrap(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
