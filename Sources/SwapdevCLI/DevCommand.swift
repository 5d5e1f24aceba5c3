import ArgumentParser
import DevLoop
import Foundation
import KubeClient
import LocalProcess
import Logging
import SwapPlan
import SyncCore

/// `swapdev dev [DEPLOYMENT[:CONTAINER]]`: a dev copy of the workload that follows local edits.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a dev copy of a Deployment's pod, sync local files into it and restart its process on every change.",
        discussion: """
            Settings come from swapdev.yaml in the working directory (or -f FILE); flags override them, and
            `swapdev dev` with no arguments uses the file alone. The original is scaled to 0 while the dev pod
            runs and restored exactly on exit (after a crash: swapdev restore DEPLOYMENT).
            Example: swapdev dev my-app:web --sync .:/app --run python3 app.py
            """)

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "DEPLOYMENT or DEPLOYMENT:CONTAINER (default: `target` of swapdev.yaml).")
    var target: String?

    @Option(name: .shortAndLong, help: "The config file (default: ./swapdev.yaml when it exists).")
    var file: String?

    @Option(name: .customLong("sync"), help: "LOCAL:REMOTE: mirror a local directory into the container (repeatable).")
    var syncRules: [String] = []

    @Option(help: "Run the dev pod with this image instead of the container's.")
    var image: String?

    @Flag(name: .customLong("no-restart"), help: "Do not restart the process after a sync (the app reloads itself).")
    var noRestart = false

    @Option(name: .customLong("port-forward"), help: "[LOCAL:]REMOTE: forward a container port to localhost (repeatable).")
    var portForwards: [String] = []

    @Flag(name: .customLong("no-logs"), help: "Do not stream the container's log.")
    var noLogs = false

    @Flag(help: "Keep the container's probes (removed by default so restarts do not get the pod killed).")
    var keepProbes = false

    @Flag(help: "Watch by polling instead of inotify.")
    var poll = false

    @Option(name: .customLong("run"), parsing: .remaining, help: "CMD ARG...: the command to run in the container; all remaining arguments are its.")
    var command: [String] = []

    /// Merges swapdev.yaml and flags; flags win.
    func resolve() throws -> DevOptions {
        let cwd = FileManager.default.currentDirectoryPath
        let config = try ProjectConfig.load(file: file).resolved(for: .dev)
        guard let targetText = target ?? config.target else {
            throw ValidationError("no target: pass DEPLOYMENT[:CONTAINER] or set `target:` in swapdev.yaml")
        }
        let rules = syncRules.isEmpty ? config.sync : try syncRules.map { try SyncRule(parsing: $0) }
        let ports = portForwards.isEmpty ? config.ports : try portForwards.map { try PortForwardSpec(parsing: $0) }
        return DevOptions(
            target: try SwapTarget(parsing: targetText), namespace: cluster.namespace ?? config.namespace,
            syncRules: rules, image: image ?? config.image, run: command.isEmpty ? config.run : command,
            restart: noRestart ? false : (config.restart ?? true), portForwards: ports,
            logs: noLogs ? false : (config.logs ?? true), environment: config.env, ignore: config.ignore,
            keepProbes: keepProbes, watchMode: poll ? .polling(interval: .seconds(1)) : .automatic,
            workingDirectory: URL(fileURLWithPath: cwd))
    }

    func validate() throws {
        if command.isEmpty, CommandLine.arguments.last == "--run" {
            throw ValidationError("--run needs a command: --run CMD ARG... (leave out --run to use `run:` of swapdev.yaml or the container's own command)")
        }
        do {
            _ = try resolve()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let options = try resolve()
        var clusterOptions = cluster
        if clusterOptions.context == nil {
            clusterOptions.context = try ProjectConfig.load(file: file).resolved(for: .dev).context
        }
        let client = try clusterOptions.makeClient()
        let session = DevSession(client: client, options: options, logger: Logger(label: "swapdev.dev")) { event in
            FileHandle.standardError.write(Data("\(event)\n".utf8))
        }
        let trap = SignalTrap()
        let namespace = options.namespace ?? client.namespace
        let task = Task {
            try await ClusterOptions.requireNamespace(namespace, client: client)
            try await session.run()
        }
        let watcher = Task {
            for await _ in trap.signals {
                task.cancel()
                break
            }
        }
        defer { trap.cancel() }
        do {
            try await task.value
        } catch {
            watcher.cancel()
            await client.shutdown()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        watcher.cancel()
        await client.shutdown()
    }
}
