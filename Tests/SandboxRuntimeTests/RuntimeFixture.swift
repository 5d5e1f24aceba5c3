import Foundation
import Logging
import SystemSupport
import Testing
@testable import SandboxRuntime

/// A runtime on its own bridge and address ranges (so a live sandbox on the machine is not
/// disturbed), plus helpers to wait for statuses, exec and fetch URLs.
final class RuntimeFixture: Sendable {
    static let network = SandboxNetwork(bridgeName: "swrt0", podPrefix: "10.247", servicePrefix: "10.127",
                                        namePrefix: "swrt-", vethPrefix: "swrtv")
    let runtime: ProcessPodRuntime
    let stateDirectory: URL
    let proxyImageDirectory: URL
    /// An environment entry every test container carries, so leftover processes can be found.
    let marker: String
    let statuses: StatusLog

    init(restartBackoff: Duration = .milliseconds(300)) throws {
        try #require(geteuid() == 0, "SandboxRuntime tests create network namespaces and mounts: run them as root (sudo swift test)")
        for tool in ["ip", "nsenter", "unshare", "curl", "python3", "getent"] {
            try #require(HostProcess.resolve(tool, searchPath: nil) != nil, "\(tool) is missing: run scripts/install-deps.sh")
        }
        let id = UUID().uuidString.prefix(8).lowercased()
        stateDirectory = URL(fileURLWithPath: "/tmp/swrt-\(id)")
        proxyImageDirectory = URL(fileURLWithPath: "/tmp/swrt-proxy-\(id)")
        marker = "SWRT_TEST_RUN=\(id)"
        var logger = Logger(label: "swrt")
        logger.logLevel = .warning
        runtime = try ProcessPodRuntime(
            stateDirectory: stateDirectory, proxyImageDirectory: proxyImageDirectory, network: Self.network,
            restartBackoff: restartBackoff, maxRestartBackoff: .seconds(2), logger: logger)
        statuses = StatusLog(runtime.statusUpdates)
    }

    /// Strings that identify this fixture's host objects in ``HostLeftovers/matching(_:)``.
    var ownNames: [String] { ["swrt", "10.247.", "10.127.", stateDirectory.path] }

    func shutdown() async {
        await runtime.shutdown()
        try? FileManager.default.removeItem(at: proxyImageDirectory)
    }

    func container(
        _ name: String, _ argv: [String], env: [(name: String, value: String)] = [], workingDirectory: String? = nil,
        mounts: [VolumeMountSpec] = [], image: String = "busybox:1.36",
        readiness: ProbeSpec? = nil, liveness: ProbeSpec? = nil, startup: ProbeSpec? = nil
    ) -> ContainerLaunchSpec {
        let markerParts = marker.split(separator: "=", maxSplits: 1).map(String.init)
        let environment = [(name: "PATH", value: "/usr/local/bin:/usr/bin:/bin"), (name: markerParts[0], value: markerParts[1])] + env
        return ContainerLaunchSpec(
            name: name, image: image, argv: argv, workingDirectory: workingDirectory, environment: environment,
            volumeMounts: mounts, readinessProbe: readiness, livenessProbe: liveness, startupProbe: startup)
    }

    func pod(_ name: String, namespace: String = "default", _ containers: [ContainerLaunchSpec], volumes: [VolumeSpec] = []) -> PodLaunchSpec {
        PodLaunchSpec(uid: UUID().uuidString, namespace: namespace, name: name, hostname: name, containers: containers,
                      volumes: volumes, terminationGracePeriod: .seconds(2))
    }

    /// Waits until the pod's latest status satisfies `condition`.
    @discardableResult
    func waitFor(_ uid: String, within limit: Duration = .seconds(10), _ what: String,
                 _ condition: @Sendable (PodRuntimeStatus) -> Bool) async throws -> PodRuntimeStatus {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let status = statuses.latest(uid), condition(status) { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out after \(limit) waiting for \(what); last status: \(String(describing: statuses.latest(uid)))")
        throw FixtureError.timeout(what)
    }

    func waitReady(_ uid: String, within limit: Duration = .seconds(10)) async throws {
        try await waitFor(uid, within: limit, "pod ready") { $0.containers.allSatisfy(\.ready) && !$0.containers.isEmpty }
    }

    /// Runs `argv` in the container and collects its output, bounded by `limit`.
    func exec(_ uid: String, _ container: String, _ argv: [String], stdin: [UInt8]? = nil, tty: Bool = false,
              within limit: Duration = .seconds(10)) async throws -> (code: Int32, stdout: String, stderr: String) {
        let session = try await runtime.exec(podUID: uid, container: container, argv: argv, tty: tty, stdin: stdin != nil)
        if let stdin {
            try await session.writeStdin(stdin)
            await session.closeStdin()
        }
        let collect = Task { () -> (String, String) in
            var out: [UInt8] = []
            var err: [UInt8] = []
            for await (channel, bytes) in session.output {
                if channel == .stderr { err += bytes } else { out += bytes }
            }
            return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
        let watchdog = Task {
            try await Task.sleep(for: limit)
            await session.terminate()
        }
        let code = await session.waitForExit()
        let (out, err) = await collect.value
        watchdog.cancel()
        return (code, out, err)
    }

    /// All log bytes of a container so far.
    func logs(_ uid: String, _ container: String, previous: Bool = false) async throws -> String {
        var bytes: [UInt8] = []
        for await chunk in try await runtime.logs(podUID: uid, container: container, follow: false, previous: previous, tailLines: nil) {
            bytes += chunk
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func waitForLog(_ uid: String, _ container: String, containing text: String, within limit: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + limit
        var last = ""
        while ContinuousClock.now < deadline {
            last = (try? await logs(uid, container)) ?? ""
            if last.contains(text) { return last }
            try await Task.sleep(for: .milliseconds(30))
        }
        Issue.record("log of \(container) never contained \(text): \(last)")
        throw FixtureError.timeout("log text \(text)")
    }
}

enum FixtureError: Error { case timeout(String) }

/// Keeps the latest status of each pod and every container state ever seen.
final class StatusLog: Sendable {
    private let latestByUID = Locked<[String: PodRuntimeStatus]>([:])
    private let waitingReasons = Locked<[String: Set<String>]>([:])
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<PodRuntimeStatus>) {
        let latest = latestByUID
        let reasons = waitingReasons
        task = Task {
            for await status in stream {
                latest.withLock { $0[status.uid] = status }
                for container in status.containers {
                    if case .waiting(let reason, _) = container.state {
                        reasons.withLock { _ = $0[status.uid, default: []].insert(reason) }
                    }
                }
            }
        }
    }

    func latest(_ uid: String) -> PodRuntimeStatus? { latestByUID.current[uid] }
    func reasonsSeen(_ uid: String) -> Set<String> { waitingReasons.current[uid] ?? [] }
}

/// Runs a host tool (curl) with a deadline; returns exit code and stdout.
func host(_ argv: [String]) async -> (code: Int32, output: String) {
    await onDedicatedThread("host-tool") {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HostProcess.resolve(argv[0], searchPath: nil) ?? argv[0])
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension ProbeSpec {
    static func fast(_ action: Action, failureThreshold: Int = 1) -> ProbeSpec {
        var probe = ProbeSpec(action: action)
        probe.period = .milliseconds(200)
        probe.timeout = .milliseconds(500)
        probe.failureThreshold = failureThreshold
        return probe
    }
}
