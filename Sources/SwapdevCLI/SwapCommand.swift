import ArgumentParser
import Foundation
import KubeClient
import Logging
import SwapEngine
import SwapPlan
import SyncCore

/// `swapdev swap DEPLOYMENT[:CONTAINER] … [--run CMD ARG...]`: replace a container with a local process.
struct SwapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Swap a Deployment's container for a local process; restore it exactly on exit.",
        discussion: """
            Cluster traffic for the container's ports reaches the local process through an SSH tunnel over a
            port-forward; the process gets the container's environment and a copy of its volumes under
            $SWAPDEV_ROOT. Without --run the swap stays up until Ctrl-C (run your process elsewhere, e.g.
            from an IDE with --env-file). With --watch, a change below the watched paths restarts the
            local command and the swap stays up. Settings come from swapdev.yaml in the working directory
            (or -f FILE; its `swap:` section wins over the top level); flags override them.
            Example: swapdev swap my-app:go --watch --run go run main.go
            """)

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "DEPLOYMENT or DEPLOYMENT:CONTAINER (default: `target` of swapdev.yaml), then with --watch the paths to watch.")
    var positionals: [String] = []

    @Option(name: .shortAndLong, help: "The config file (default: ./swapdev.yaml when it exists).")
    var file: String?

    @Flag(help: "Restart the local command (its whole process group) when files change below the PATHs given after the target (default: the current directory, or `watch:` of swapdev.yaml); the tunnels stay up.")
    var watch = false

    @Flag(help: "With --watch: poll every second instead of using inotify (network filesystems).")
    var poll = false

    @Option(name: .customLong("expose"), help: "[LOCAL:]REMOTE: also forward pod port REMOTE (number or name) to local port LOCAL.")
    var exposes: [String] = []

    @Option(name: .customLong("to-pod"), help: "PORT: a local listener on 127.0.0.1:PORT reaching PORT in the pod.")
    var toPod: [String] = []

    @Option(help: "Write the container's environment as a dotenv file (mode 0600, removed when the swap ends).")
    var envFile: String?

    @Option(help: "Write the container's environment as JSON (mode 0600, removed when the swap ends).")
    var envJSON: String?

    @Option(help: "Copy the container's volumes below this directory (default: a private temp dir), exported as SWAPDEV_ROOT.")
    var mount: String?

    @Option(help: "The proxy image (default: $SWAPDEV_PROXY_IMAGE, else `proxy-image` of swapdev.yaml, else \(SwapOptions.defaultProxyImage())).")
    var proxyImage: String?

    @Option(help: "Limit for each wait, e.g. 90s, 2m (default 2m).")
    var timeout: String = "2m"

    @Option(help: "Dead-man switch: when swapdev stops renewing its heartbeat this long (killed, asleep, offline), the proxy restores the original; e.g. 10m, 90s (default 10m).")
    var restoreAfter: String = "10m"

    @Flag(help: "Swap despite an HPA or KEDA ScaledObject (paused for the swap), Argo CD/Flux, 0 replicas or missing permissions.")
    var force = false

    @Flag(help: "Print only warnings and errors.")
    var quiet = false

    @Option(name: .customLong("run"), parsing: .remaining, help: "CMD ARG...: the local command; all remaining arguments are its.")
    var command: [String] = []

    func validate() throws {
        // `--run` with nothing after it parses as no command, which would keep the swap up until Ctrl-C.
        if command.isEmpty, CommandLine.arguments.last == "--run" {
            throw ValidationError("--run needs a command: --run CMD ARG... (leave out --run to keep the swap up until Ctrl-C)")
        }
        guard DurationParser.parse(timeout) != nil else {
            throw ValidationError("invalid --timeout \"\(timeout)\": use e.g. 90s, 2m or 1m30s")
        }
        guard let restore = DurationParser.parse(restoreAfter), restore >= .seconds(5) else {
            throw ValidationError("invalid --restore-after \"\(restoreAfter)\": use e.g. 10m or 90s (at least 5s)")
        }
        _ = try resolve()
    }

    /// swapdev.yaml (its `swap:` section over the top level) under the flags: flags win.
    func resolve() throws -> SwapOptions {
        do {
            let config = try ProjectConfig.load(file: file).resolved(for: .swap)
            guard let targetText = positionals.first ?? config.target else {
                throw ValidationError("no target: pass DEPLOYMENT[:CONTAINER] or set `target:` in swapdev.yaml")
            }
            let watchPaths = Array(positionals.dropFirst())
            if !watchPaths.isEmpty, !watch {
                throw ValidationError("unexpected argument '\(watchPaths[0])': only one DEPLOYMENT[:CONTAINER] is swapped; to watch paths write --watch \(watchPaths.joined(separator: " "))")
            }
            let mappings = exposes.isEmpty
                ? config.ports.map { PortMapping(local: $0.local, remote: .number($0.remote)) }
                : try exposes.map { try PortMapping(parsing: $0) }
            let run = command.isEmpty ? config.run : command
            var options = SwapOptions(
                target: try SwapTarget(parsing: targetText), namespace: cluster.namespace ?? config.namespace,
                exposes: mappings, toPod: try toPod.map { try PortMapping.parsePort($0) },
                envFile: envFile, envJSON: envJSON, mountDirectory: mount,
                proxyImage: proxyImage ?? ProcessInfo.processInfo.environment["SWAPDEV_PROXY_IMAGE"] ?? config.proxyImage
                    ?? SwapOptions.defaultProxyImage(),
                timeout: DurationParser.parse(timeout) ?? .seconds(120), command: run)
            options.restoreAfter = DurationParser.parse(restoreAfter) ?? .seconds(600)
            options.force = force
            options.environmentOverrides = config.env
            if watch {
                guard run != nil else {
                    throw ValidationError("--watch restarts the local command: give it with --run CMD ARG... (or `run:` in swapdev.yaml)")
                }
                let paths = watchPaths.isEmpty ? (config.watch.isEmpty ? ["."] : config.watch) : watchPaths
                let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                options.reload = LocalReload(paths: paths.map { URL(fileURLWithPath: $0, relativeTo: cwd).standardizedFileURL },
                                             ignore: config.ignore,
                                             mode: poll ? .polling(interval: .seconds(1)) : .automatic)
            }
            return options
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
            clusterOptions.context = try ProjectConfig.load(file: file).resolved(for: .swap).context
        }
        let client = try clusterOptions.makeClient()
        let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: quiet),
                                  logger: Logger(label: "swapdev.swap"))
        let code: Int32
        do {
            try await ClusterOptions.requireNamespace(options.namespace ?? client.namespace, client: client)
            code = try await session.run()
        } catch {
            await client.shutdown()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await client.shutdown()
        if code != 0 { throw ExitCode(code) }
    }
}

/// `90s`, `2m`, `1m30s`, `1h`, or plain seconds.
enum DurationParser {
    static func parse(_ text: String) -> Duration? {
        if let seconds = Double(text), seconds > 0 { return .milliseconds(Int64(seconds * 1000)) }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return .milliseconds(Int64(total * 1000))
    }
}
