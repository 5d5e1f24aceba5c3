import ArgumentParser
import Foundation
import KubeClient
import Logging
import SwapEngine
import SwapPlan

/// `swapdev swap DEPLOYMENT[:CONTAINER] … [--run CMD ARG...]`: replace a container with a local process.
struct SwapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Swap a Deployment's container for a local process; restore it exactly on exit.",
        discussion: """
            Cluster traffic for the container's ports reaches the local process through an SSH tunnel over a
            port-forward; the process gets the container's environment and a copy of its volumes under
            $SWAPDEV_ROOT. Without --run the swap stays up until Ctrl-C (run your process elsewhere, e.g.
            from an IDE with --env-file). Example: swapdev swap my-app:go --run go run main.go
            """)

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "DEPLOYMENT or DEPLOYMENT:CONTAINER.")
    var target: String

    @Option(name: .customLong("expose"), help: "[LOCAL:]REMOTE: also forward pod port REMOTE (number or name) to local port LOCAL.")
    var exposes: [String] = []

    @Option(name: .customLong("to-pod"), help: "PORT: a local listener on 127.0.0.1:PORT reaching PORT in the pod.")
    var toPod: [String] = []

    @Option(help: "Write the container's environment as a dotenv file (mode 0600).")
    var envFile: String?

    @Option(help: "Write the container's environment as JSON (mode 0600).")
    var envJSON: String?

    @Option(help: "Copy the container's volumes below this directory (default: a private temp dir), exported as SWAPDEV_ROOT.")
    var mount: String?

    @Option(help: "The proxy image (default: \(SwapOptions.defaultProxyImage())).")
    var proxyImage: String = SwapOptions.defaultProxyImage()

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
        do {
            _ = try SwapTarget(parsing: target)
            for expose in exposes { _ = try PortMapping(parsing: expose) }
            for port in toPod { _ = try PortMapping.parsePort(port) }
        } catch {
            throw ValidationError("\(error)")
        }
        guard DurationParser.parse(timeout) != nil else {
            throw ValidationError("invalid --timeout \"\(timeout)\": use e.g. 90s, 2m or 1m30s")
        }
        guard let restore = DurationParser.parse(restoreAfter), restore >= .seconds(5) else {
            throw ValidationError("invalid --restore-after \"\(restoreAfter)\": use e.g. 10m or 90s (at least 5s)")
        }
    }

    func run() async throws {
        let options: SwapOptions
        do {
            options = SwapOptions(
                target: try SwapTarget(parsing: target), namespace: cluster.namespace,
                exposes: try exposes.map { try PortMapping(parsing: $0) }, toPod: try toPod.map { try PortMapping.parsePort($0) },
                envFile: envFile, envJSON: envJSON, mountDirectory: mount, proxyImage: proxyImage,
                timeout: DurationParser.parse(timeout) ?? .seconds(120), command: command.isEmpty ? nil : command)
        } catch {
            throw ValidationError("\(error)")
        }
        let client = try cluster.makeClient()
        var tuned = options
        tuned.restoreAfter = DurationParser.parse(restoreAfter) ?? .seconds(600)
        tuned.force = force
        let session = SwapSession(client: client, options: tuned, reporter: PhaseReporter(quiet: quiet),
                                  logger: Logger(label: "swapdev.swap"))
        let code: Int32
        do {
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
