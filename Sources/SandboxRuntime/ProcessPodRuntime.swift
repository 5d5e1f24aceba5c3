import Foundation
import KubeModel
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The sandbox's pod runtime: pods are host processes in their own network, mount and UTS
/// namespaces (Linux, root only).
///
/// ```swift
/// let runtime = try ProcessPodRuntime(
///     stateDirectory: dir.appendingPathComponent("runtime"),
///     proxyImageDirectory: repo.appendingPathComponent("proxy-image"),
///     logger: logger)
/// let podIP = try await runtime.startPod(spec)
/// for await status in runtime.statusUpdates { … }
/// await runtime.shutdown()
/// ```
///
/// - Each pod gets a network namespace `swapdev-<tag>` joined to the host bridge `swapdev0`
///   by a veth pair, an address in 10.244.0.0/16 (gateway 10.244.0.1, the host), and routes
///   only to the pod and Service ranges.
/// - Containers run their argv with exactly the given environment, through `nsenter`, in the
///   pod's namespaces; logs go to one file per container instance.
/// - ClusterIPs are /32 addresses on the bridge, served by a userspace proxy in this process.
/// - The host is set up lazily (first pod or service update) and restored by ``shutdown()``.
///
/// See docs/sandbox-runtime.md for the whole picture and what is faked.
public actor ProcessPodRuntime: PodRuntime {
    public nonisolated let statusUpdates: AsyncStream<PodRuntimeStatus>
    private let continuation: AsyncStream<PodRuntimeStatus>.Continuation
    private let stateDirectory: URL
    private let proxyImageDirectory: URL?
    private let network: HostNetwork
    private let mountPoints = MountPointRegistry()
    private let proxy: ServiceProxy
    private let logger: Logger
    private let nsenterPath: String
    private let restartBackoff: Duration
    private let maxRestartBackoff: Duration
    private var pods: [String: PodHandle] = [:]
    private var services: [ServiceRoute] = []
    private var hostSetup: Task<Void, any Error>?
    private var isShutDown = false

    /// Creates the runtime; nothing on the host changes until the first pod or Service.
    ///
    /// - Parameters:
    ///   - stateDirectory: where pod files (volumes, `/etc` views, logs) and namespace handles
    ///     live; created if missing, emptied by ``shutdown()``. Pods never see it.
    ///   - proxyImageDirectory: the repository's `proxy-image/`, whose `entrypoint.sh` runs
    ///     containers of the `…/swapdev-proxy` image; `nil` makes such containers fail to start.
    ///   - network: bridge name and address ranges; ``SandboxNetwork/standard`` unless testing.
    ///   - restartBackoff: first restart delay of a crashed container, doubled per crash.
    ///   - maxRestartBackoff: cap of the restart delay.
    /// - Throws: ``SandboxRuntimeError/notRoot(uid:)`` unless run as root,
    ///   ``SandboxRuntimeError/toolMissing(_:)`` when `ip`, `nsenter`, `unshare` or `mount` is absent.
    public init(
        stateDirectory: URL, proxyImageDirectory: URL?, network: SandboxNetwork = .standard,
        restartBackoff: Duration = .seconds(1), maxRestartBackoff: Duration = .seconds(10), logger: Logger
    ) throws {
        guard geteuid() == 0 else { throw SandboxRuntimeError.notRoot(uid: geteuid()) }
        for tool in ["ip", "unshare", "mount", "umount"] where HostProcess.resolve(tool, searchPath: nil) == nil {
            throw SandboxRuntimeError.toolMissing(tool)
        }
        guard let nsenter = HostProcess.resolve("nsenter", searchPath: nil) else { throw SandboxRuntimeError.toolMissing("nsenter") }
        for folder in ["pods", "ns"] {
            let path = stateDirectory.appendingPathComponent(folder)
            do { try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true) } catch {
                throw SandboxRuntimeError.fileError(path: path.path, reason: "\(error)")
            }
        }
        let (stream, continuation) = AsyncStream<PodRuntimeStatus>.makeStream(bufferingPolicy: .unbounded)
        self.statusUpdates = stream
        self.continuation = continuation
        self.stateDirectory = stateDirectory
        self.proxyImageDirectory = proxyImageDirectory
        self.network = HostNetwork(network: network, stateDirectory: stateDirectory)
        self.proxy = ServiceProxy(logger: logger)
        self.logger = logger
        self.nsenterPath = nsenter
        self.restartBackoff = restartBackoff
        self.maxRestartBackoff = maxRestartBackoff
    }

    /// The pod's IP once it is set up; containers start in the background.
    public func startPod(_ spec: PodLaunchSpec) async throws -> String {
        guard !isShutDown else { throw PodRuntimeError.hostSetupFailed("the pod runtime is shut down; pod \(spec.namespace)/\(spec.name) was not started") }
        if let existing = pods[spec.uid] { return existing.ip }
        try await ensureHost()
        let ip = try await network.addPod(uid: spec.uid)
        let filesystem = PodFilesystem(stateDirectory: stateDirectory, uid: spec.uid)
        do {
            try await filesystem.prepare(spec, podIP: ip, services: services, registry: mountPoints)
        } catch {
            await filesystem.tearDown(registry: mountPoints)
            await network.removePod(uid: spec.uid, ip: ip)
            throw error
        }
        let netnsPath = network.netnsPath(uid: spec.uid)
        let pod = PodHandle(spec: spec, ip: ip, filesystem: filesystem, netnsPath: netnsPath, continuation: continuation)
        pod.supervisors = spec.containers.map { container in
            let context = ContainerContext(
                podUID: spec.uid, podName: "\(spec.namespace)/\(spec.name)", podIP: ip, spec: container,
                netnsPath: netnsPath, mountNamespacePath: filesystem.mountNamespacePath,
                utsNamespacePath: filesystem.utsNamespacePath,
                logDirectory: filesystem.root.appendingPathComponent("logs").path, nsenterPath: nsenterPath)
            return ContainerSupervisor(
                context: context, argv: command(for: container), restartBackoff: restartBackoff,
                maxBackoff: maxRestartBackoff, logger: logger,
                onChange: { [weak pod] in pod?.publish() })
        }
        pods[spec.uid] = pod
        pod.publish()
        for supervisor in pod.supervisors { supervisor.start() }
        logger.debug("pod \(spec.namespace)/\(spec.name) started at \(ip)")
        return ip
    }

    public func stopPod(uid: String, gracePeriod: Duration) async {
        guard let pod = pods.removeValue(forKey: uid) else { return }
        await withTaskGroup(of: Void.self) { group in
            for supervisor in pod.supervisors { group.addTask { await supervisor.stop(gracePeriod: gracePeriod) } }
        }
        await pod.killStragglers()
        await pod.filesystem.tearDown(registry: mountPoints)
        await network.removePod(uid: uid, ip: pod.ip)
        pod.publish()
        logger.debug("pod \(pod.spec.namespace)/\(pod.spec.name) stopped")
    }

    public func exec(podUID: String, container: String, argv: [String], tty: Bool, stdin: Bool) async throws -> any ExecSession {
        let supervisor = try supervisor(podUID: podUID, container: container)
        return try ProcessExecSession(context: supervisor.context, argv: argv, tty: tty, stdin: stdin)
    }

    public func connect(podUID: String, port: Int) async throws -> Int32 {
        guard let pod = pods[podUID] else { throw PodRuntimeError.podNotFound(uid: podUID) }
        switch await NamespaceSocket.connectLocalhost(netnsPath: pod.netnsPath, port: port) {
        case .success(let fd):
            return fd
        case .failure(let error) where error.code == ECONNREFUSED || error.code == ETIMEDOUT:
            throw PodRuntimeError.connectionRefused(pod: "\(pod.spec.namespace)/\(pod.spec.name)", port: port)
        case .failure(let error):
            throw PodRuntimeError.hostSetupFailed("connecting to port \(port) in pod \(pod.spec.namespace)/\(pod.spec.name): \(error)")
        }
    }

    public func logs(podUID: String, container: String, follow: Bool, previous: Bool, tailLines: Int?) async throws -> AsyncStream<[UInt8]> {
        let supervisor = try supervisor(podUID: podUID, container: container)
        let instance = supervisor.instance - (previous ? 1 : 0)
        guard instance >= 0 else {
            throw PodRuntimeError.containerNotFound(pod: podName(podUID), container: "\(container) (previous terminated instance)")
        }
        return ContainerLogs.stream(path: supervisor.logPath(instance: instance), tailLines: tailLines, follow: follow && !previous) {
            supervisor.hasEnded(instance: instance)
        }
    }

    public func updateServices(_ routes: [ServiceRoute]) async {
        services = routes
        for pod in pods.values {
            pod.filesystem.updateHosts(podIP: pod.ip, hostname: pod.spec.hostname, namespace: pod.spec.namespace, services: routes)
        }
        guard !isShutDown else { return }
        do { try await ensureHost() } catch {
            logger.error("service proxy not updated: \(error)")
            return
        }
        await network.setServiceAddresses(Set(routes.map(\.clusterIP).filter { !$0.isEmpty && $0 != "None" }))
        await proxy.update(routes)
    }

    public func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        let all = pods
        await withTaskGroup(of: Void.self) { group in
            for (uid, pod) in all {
                group.addTask { await self.stopPod(uid: uid, gracePeriod: min(pod.spec.terminationGracePeriod, .seconds(5))) }
            }
        }
        await proxy.shutdown()
        if hostSetup != nil {
            await network.tearDown()
            _ = try? await HostProcess.run(["umount", stateDirectory.appendingPathComponent("ns").path], allowFailure: true)
        }
        for folder in ["pods", "ns"] { try? FileManager.default.removeItem(at: stateDirectory.appendingPathComponent(folder)) }
        rmdir(stateDirectory.path)
        continuation.finish()
    }

    // MARK: Helpers

    /// Sets up the bridge and the private mount for namespace handles, once.
    private func ensureHost() async throws {
        if hostSetup == nil {
            let network = self.network
            let namespaces = stateDirectory.appendingPathComponent("ns").path
            hostSetup = Task {
                try await network.setUp()
                // Namespace handles must sit on a private mount, or bind-mounting them fails
                // (or propagates) on hosts whose root is shared.
                try await HostProcess.run(["mount", "--bind", namespaces, namespaces])
                try await HostProcess.run(["mount", "--make-private", namespaces])
            }
        }
        do { try await hostSetup?.value } catch {
            throw PodRuntimeError.hostSetupFailed("\(error)")
        }
    }

    private func supervisor(podUID: String, container: String) throws -> ContainerSupervisor {
        guard let pod = pods[podUID] else { throw PodRuntimeError.podNotFound(uid: podUID) }
        guard let supervisor = pod.supervisor(named: container) else {
            throw PodRuntimeError.containerNotFound(pod: "\(pod.spec.namespace)/\(pod.spec.name)", container: container)
        }
        return supervisor
    }

    private func podName(_ uid: String) -> String {
        pods[uid].map { "\($0.spec.namespace)/\($0.spec.name)" } ?? uid
    }

    /// The argv a container really runs: its own, or the proxy image's entrypoint.
    private func command(for container: ContainerLaunchSpec) -> Result<[String], ContainerStartError> {
        // Without `runsImageEntrypoint` a leading `-flag` still marks argv as mere arguments.
        let onlyArguments = container.runsImageEntrypoint || (container.argv.first.map { $0.hasPrefix("-") } ?? true)
        if ProxyImage.matches(container.image) && onlyArguments {
            return ProxyImage.entrypoint(in: proxyImageDirectory, image: container.image).map { $0 + container.argv }
        }
        guard !container.argv.isEmpty else {
            return .failure(ContainerStartError(description:
                "image \(container.image) of container \(container.name) is only recorded by the sandbox, which cannot run its entrypoint: give the container a command"))
        }
        return .success(container.argv)
    }
}
