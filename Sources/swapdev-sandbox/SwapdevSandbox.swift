import ArgumentParser
import Foundation
import Logging
import SandboxCluster
import SandboxRuntime

#if canImport(Glibc)
import Glibc
#endif

/// `swapdev-sandbox`: a local stand-in for the Kubernetes API with process-backed pods.
@main
struct SwapdevSandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swapdev-sandbox",
        abstract: "A local test stand-in for the Kubernetes API whose pods are processes in network namespaces (not Kubernetes).",
        subcommands: [Serve.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the sandbox API on 127.0.0.1 until SIGTERM or SIGINT.")

    @Option(name: .long, help: "Directory for the CA, certificates, runtime state and the kubeconfig.")
    var dir: String

    @Option(name: .long, help: "Port on 127.0.0.1; 0 picks a free one (the kubeconfig says which).")
    var port: Int = 0

    @Option(name: .long, help: "Bearer token clients must send; a random one when omitted.")
    var token: String?

    @Option(name: .long, help: "The repository's proxy-image directory (default: found from the current directory or the executable).")
    var proxyImageDir: String?

    @Option(name: .long, help: "Network slot 0-\(SandboxNetwork.slotCount - 1) (bridge swapdevN, its own pod and Service ranges); default: the first one no other sandbox holds.")
    var networkSlot: Int?

    @Option(name: .long, help: "Seconds the API server stays down when SIGUSR1 restarts it (connections cut, new ones refused, state kept).")
    var restartDowntime: Double = 5

    func validate() throws {
        guard restartDowntime >= 0, restartDowntime <= 3600 else {
            throw ValidationError("--restart-downtime \(restartDowntime) must be 0…3600 seconds")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port; use 0 to pick a free one") }
        if let networkSlot, !(0..<SandboxNetwork.slotCount).contains(networkSlot) {
            throw ValidationError("--network-slot \(networkSlot) is out of range; use 0-\(SandboxNetwork.slotCount - 1) or leave it out")
        }
    }

    func run() async throws {
        guard geteuid() == 0 else {
            FileHandle.standardError.write(Data("swapdev-sandbox: needs root (network namespaces, mounts); run it with sudo\n".utf8))
            throw ExitCode(1)
        }
        var logger = Logger(label: "swapdev-sandbox")
        logger.logLevel = ProcessInfo.processInfo.environment["SWAPDEV_SANDBOX_DEBUG"] == nil ? .notice : .debug
        let directory = URL(fileURLWithPath: dir).standardizedFileURL
        let slot: NetworkSlotLock
        do {
            slot = try NetworkSlotLock.acquire(requested: networkSlot)
        } catch {
            FileHandle.standardError.write(Data("swapdev-sandbox: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let network = SandboxNetwork.slot(slot.index)
        let runtime: ProcessPodRuntime
        do {
            runtime = try ProcessPodRuntime(
                stateDirectory: directory.appendingPathComponent("runtime"),
                proxyImageDirectory: proxyImageDirectory(), network: network, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("swapdev-sandbox: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let cluster: SandboxCluster
        do {
            cluster = try await SandboxCluster.start(SandboxConfiguration(directory: directory, port: port, token: token, network: network), runtime: runtime)
        } catch {
            await runtime.shutdown()
            FileHandle.standardError.write(Data("swapdev-sandbox: \(error)\n".utf8))
            throw ExitCode(1)
        }
        // Unbuffered write: the line must reach a log file before anything else happens.
        FileHandle.standardOutput.write(Data("swapdev-sandbox: serving https://127.0.0.1:\(cluster.port); kubeconfig \(cluster.kubeconfigPath)\n".utf8))
        await serveUntilTerminated(cluster)
        FileHandle.standardOutput.write(Data("swapdev-sandbox: stopping\n".utf8))
        await cluster.shutdown()
        slot.release()
    }

    /// `--proxy-image-dir`, else `proxy-image` in the current directory or above the executable.
    private func proxyImageDirectory() -> URL? {
        if let proxyImageDir { return URL(fileURLWithPath: proxyImageDir) }
        let manager = FileManager.default
        let cwd = URL(fileURLWithPath: manager.currentDirectoryPath).appendingPathComponent("proxy-image")
        if manager.fileExists(atPath: cwd.path) { return cwd }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("proxy-image")
            if manager.fileExists(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// Returns on the first SIGTERM or SIGINT. SIGUSR1 restarts the API server (see
    /// `SandboxCluster.restartAPIServer`) for `--restart-downtime` seconds; a SIGUSR1 during a
    /// restart is ignored.
    private func serveUntilTerminated(_ cluster: SandboxCluster) async {
        let signals = [SIGTERM, SIGINT, SIGUSR1]
        for number in signals { signal(number, SIG_IGN) }
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let sources = signals.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        let restarting = RestartFlag()
        let downtime = Duration.milliseconds(Int64(restartDowntime * 1000))
        for await number in stream {
            guard number == SIGUSR1 else { break }
            guard restarting.begin() else { continue }
            Task {
                Self.say("API server restarting: connections closed, refusing new ones for \(restartDowntime)s")
                do {
                    try await cluster.restartAPIServer(downtime: downtime)
                    Self.say("API server serving again on 127.0.0.1:\(cluster.port)")
                } catch {
                    Self.say("\(error)")
                }
                restarting.end()
            }
        }
        for source in sources { source.cancel() }
    }

    /// One unbuffered line on standard output (tests and scripts read the log as it is written).
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data("swapdev-sandbox: \(line)\n".utf8))
    }
}

/// Whether an API server restart is under way.
private final class RestartFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var active = false

    /// `false` when one is already under way.
    func begin() -> Bool {
        lock.withLock {
            if active { return false }
            active = true
            return true
        }
    }

    func end() { lock.withLock { active = false } }
}
