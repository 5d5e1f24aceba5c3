import ArgumentParser
import KubeClient
import Logging

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

    /// Sets up logging and builds a client from the kubeconfig.
    func makeClient() throws -> KubeClient {
        LoggingSetup.bootstrap(level: logLevel)
        let config = try KubeConfigLoader().load(explicitPath: kubeconfig, context: context, namespace: namespace)
        return KubeClient(config: config, logger: Logger(label: "swapdev"))
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
