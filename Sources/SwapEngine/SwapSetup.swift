import Foundation
import KubeClient
import KubeEnvironment
import KubeModel
import LocalProcess
import SSHTunnel
import SwapPlan

extension SwapSession {
    /// Record → proxy pod → sshd → tunnel → environment, outbound forwards, volumes, env files.
    /// Nothing routes to the proxy yet: it is not Ready until the inbound forwards open.
    func setUp(_ preflight: SwapPreflight, _ running: RunningSwap) async throws {
        let deploymentName = options.target.deployment
        let id = SwapRecord.makeID()
        let key = try SSHKeyPair.generate(id: id)
        let podName = ProxyPodBuilder.podName(deployment: deploymentName, shortID: String(id.prefix(6)))
        let record = SwapRecord(
            id: id, originalReplicas: preflight.deployment[path: ["spec", "replicas"]]?.int ?? 1,
            container: preflight.container, owner: SwapRecord.currentOwner(), startedAt: Date(), proxyPod: podName,
            specFingerprint: RestoreCheck.fingerprint(preflight.deployment))
        state.record = record

        try await reporter.phase("record swap", done: "swap \(id) recorded on deployment \(deploymentName)") {
            do {
                _ = try await client.patch(.deployments, namespace: namespace, name: deploymentName, type: .merge,
                                           patch: safety.recordPatch(record, resourceVersion: preflight.deployment.resourceVersion ?? ""))
            } catch KubeError.conflict {
                throw SwapError.concurrentChange(deployment: deploymentName)
            }
            state.recorded = true
        }
        if let report = running.guardReport { try await safety.pauseAutoscalers(report, record: record) }
        running.heartbeat = startHeartbeat(record)

        let sshd = try await reporter.phase("start proxy pod \(podName)", done: "proxy pod \(podName) running sshd") {
            let pod = try ProxyPodBuilder(deployment: preflight.deployment, container: preflight.container, record: record,
                                          proxyImage: options.proxyImage, authorizedKey: key.publicKeyLine,
                                          inbound: preflight.inbound).build()
            let armed = await safety.prepareDeadMan(running.guardReport ?? GuardReport(findings: [], scaledObjectsToPause: [], deadManAvailable: false),
                                                    record: record, deployment: deploymentName, pod: pod, container: preflight.container)
            let created = try await client.create(.pods, namespace: namespace, object: armed.pod)
            state.proxyPod = podName
            await safety.adopt(armed.deadMan, createdPod: created)
            return try await startup(podName, preflight).waitForSSHD(timeout: options.timeout)
        }

        let tunnel = try await reporter.phase("open tunnel", done: "SSH tunnel to \(podName) open (host key pinned)") {
            let connection = TunnelConnection(client: client, namespace: namespace, pod: podName, container: preflight.container, key: key,
                                              fingerprint: sshd.fingerprint, users: options.proxyUsers, logger: logger)
            let (session, user) = try await connection.connect()
            logger.debug("logged in to the proxy as \(user), host key \(sshd.fingerprint)")
            let tunnel = TunnelKeeper(session: session, connection: connection, client: client, reporter: reporter, logger: logger)
            state.tunnel = tunnel
            return tunnel
        }
        running.watchTunnel = Task { await tunnel.keep(); await self.endIfProxyGone(podName) }
        try await prepareLocalSide(preflight, tunnel: tunnel, podName: podName, livePod: sshd.pod, running: running)
    }

    func startup(_ pod: String, _ preflight: SwapPreflight) -> ProxyStartup {
        ProxyStartup(client: client, namespace: namespace, pod: pod, container: preflight.container, reporter: reporter)
    }

    /// Environment, outbound forwards and proxy, volumes, env files.
    ///
    /// The environment read and the volume copy are exec channels on the same session that
    /// need the tunnel but not each other, so they run at once (the session loop opens one
    /// channel at a time by itself), and the Services the links may point at are listed
    /// meanwhile. Each phase still reports its own line. Errors keep their precedence: the
    /// environment's and the outbound forwards' first, then the volumes'. Leaving this scope
    /// (also by an error) waits for a copy under way, so teardown removes all it wrote.
    private func prepareLocalSide(_ preflight: SwapPreflight, tunnel: TunnelKeeper, podName: String, livePod: JSONValue,
                                  running: RunningSwap) async throws {
        let session = tunnel.current
        let capture = EnvironmentCapture(session: session, client: client, namespace: namespace, pod: podName)
        async let volumes = copyVolumes(session: session, livePod: livePod, container: preflight.container)
        async let serviceList = capture.services()
        let containerEnvironment = try await reporter.phase("read container environment", done: "container environment read") {
            try await capture.containerEnvironment()
        }
        let services = await serviceList

        var outbound: [OutboundForward] = []
        var environment = containerEnvironment
        try await reporter.phase("open outbound forwards", done: "outbound forwards open") {
            for forward in preflight.outbound {
                do {
                    _ = try await tunnel.forwardLocal(listenPort: forward.localPort, remoteHost: forward.remoteHost, remotePort: forward.remotePort)
                    outbound.append(forward)
                } catch {
                    reporter.warning("cannot listen on 127.0.0.1:\(forward.localPort) for \(forward.purpose): \(error)")
                }
            }
            var localPorts: [ServicePortTarget: Int] = [:]
            for target in EnvironmentCapture.linkedServices(containerEnvironment, services: services) {
                do {
                    let local = try await tunnel.forwardLocal(listenPort: 0, remoteHost: target.clusterIP, remotePort: target.port)
                    localPorts[target] = local
                    outbound.append(OutboundForward(localPort: local, remoteHost: target.clusterIP, remotePort: target.port,
                                                    purpose: "service \(target.service)"))
                } catch {
                    reporter.warning("cannot forward service \(target.service):\(target.port): \(error)")
                }
            }
            environment = ServiceLinkRewrite.rewrite(environment: containerEnvironment, localPorts: localPorts)
            if options.outboundProxy {
                state.outboundProxy = try OutboundProxy.start(logger: logger) { socket, host, port, replies in
                    // The current session, so the proxy follows a reconnected tunnel.
                    try await tunnel.current.openDirect(localSocket: socket, remoteHost: host, remotePort: port, replies: replies)
                }
            }
        }

        let (root, copied) = try await volumes

        let proxyVariables = (state.outboundProxy?.environment ?? []).map { EnvironmentVariable(name: $0.0, value: $0.1) }
        let overrides = options.environmentOverrides.sorted { $0.key < $1.key }.map { EnvironmentVariable(name: $0.key, value: $0.value) }
        let variables = LocalEnvironment.containerVariables(environment, root: root.path, extra: proxyVariables + overrides)
        running.environment = LocalEnvironment.merge(local: ProcessInfo.processInfo.environment, variables)
        var files: [String] = []
        if let path = options.envFile {
            try EnvironmentFile.save(EnvironmentFile.dotenv(variables), to: path)
            files.append(path)
            state.addWrittenSecretFile(path)
        }
        if let path = options.envJSON {
            try EnvironmentFile.save(EnvironmentFile.json(variables), to: path)
            files.append(path)
            state.addWrittenSecretFile(path)
        }
        running.summary = SwapSummary(
            deployment: options.target.deployment, namespace: namespace, container: preflight.container, pod: podName,
            inbound: preflight.inbound, outbound: outbound, proxyPort: state.outboundProxy?.port, root: root.path,
            copiedVolumes: copied, envFiles: files, variableCount: variables.count)
    }

    /// `SWAPDEV_ROOT` and the copy of the target container's volumes into it. `livePod` is the
    /// running proxy pod as read by the start-up wait: its mounts include admission-injected ones.
    private func copyVolumes(session: SSHSession, livePod: JSONValue, container: String) async throws -> (root: URL, copied: [String]) {
        let root = try makeRoot()
        let copied = try await reporter.phase("copy volumes", done: "volumes copied to \(root.path)") {
            let (copied, warnings) = try await VolumeCopy(session: session, root: root)
                .copy(paths: VolumeCopy.mountPaths(pod: livePod, container: container))
            for warning in warnings { reporter.warning(warning) }
            return copied
        }
        return (root, copied)
    }

    /// Inbound forwards (once the local command listens) → proxy Ready → original scaled to 0.
    func activate(_ preflight: SwapPreflight, _ running: RunningSwap) async throws {
        guard let tunnel = state.tunnel, let podName = state.proxyPod, let record = state.record else { return }
        let deploymentName = options.target.deployment
        let endpoints = ServiceEndpoints(client: client, namespace: namespace, reporter: reporter)
        let labels = preflight.deployment[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        // A read: the Services to wait on are listed while the command starts, not after Ready.
        async let selecting = endpoints.services(selecting: labels)
        if let supervisor = state.supervisor {
            let listening = await waitForLocalListeners(preflight.inbound.map(\.localPort), supervisor: supervisor)
            // The command ended before listening: nothing to route to, restore at once.
            if !listening { return }
        }
        try await reporter.phase("forward pod ports", done: "\(preflight.inbound.count) pod port(s) forwarded to 127.0.0.1") {
            for forward in preflight.inbound {
                try await tunnel.forwardRemote(forward)
            }
        }
        try await reporter.phase("wait for proxy Ready", done: "proxy pod Ready (its readiness follows the tunnel)") {
            try await startup(podName, preflight).waitForReady(timeout: options.timeout)
        }
        let services = await selecting
        if !services.isEmpty {
            try await reporter.phase("wait for the Service endpoints", done: "proxy listed in the endpoints of \(services.joined(separator: ", "))") {
                let listed = await endpoints.waitUntil(services: services, timeout: options.timeout,
                                                       describe: "the proxy is in the endpoints of \(services.joined(separator: ", "))") {
                    $0.contains(podName)
                }
                if !listed { throw SwapError.notInEndpoints(pod: podName, services: services) }
            }
        }
        try await reporter.phase("scale \(deploymentName) to 0", done: "original \(deploymentName) scaled to 0 (was \(record.originalReplicas))") {
            state.scaledDown = true
            _ = try await client.scale(deployment: deploymentName, namespace: namespace, replicas: 0)
        }
        for line in running.summary?.lines ?? [] { reporter.line(line) }
    }

    /// Waits until every local port accepts connections, so that no request routed to the
    /// proxy finds nothing behind the tunnel. `false` when the command ended first. Commands
    /// that never listen (a batch job) get the forwards after the timeout, with a warning.
    /// Polls every 20 ms for the first seconds (a local connect costs next to nothing, and the
    /// proxy cannot turn Ready before this ends), then every 100 ms.
    private func waitForLocalListeners(_ ports: [Int], supervisor: ProcessSupervisor) async -> Bool {
        guard !ports.isEmpty else { return true }
        let start = ContinuousClock.now
        let deadline = start + options.timeout
        var announced = false
        while ContinuousClock.now < deadline {
            if await supervisor.process?.exitStatus != nil { return false }
            let open = ports.filter { port in
                guard let fd = try? Sockets.connect(port: port) else { return false }
                close(fd)
                return true
            }
            if open.count == ports.count { return true }
            if !announced {
                reporter.progress("waiting for the local command to listen on \(ports.map { "127.0.0.1:\($0)" }.joined(separator: ", "))")
                announced = true
            }
            try? await Task.sleep(for: ProxyStartup.pollInterval(after: ContinuousClock.now - start, fast: .milliseconds(20), then: .milliseconds(100)))
            if Task.isCancelled { return false }
        }
        reporter.warning("the local command does not listen on every forwarded port; forwarding anyway")
        return true
    }

    func makeRoot() throws -> URL {
        if let directory = options.mountDirectory {
            let url = URL(fileURLWithPath: directory)
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                state.rootCreated = true
            }
            state.root = url
            return url
        }
        var template = Array((FileManager.default.temporaryDirectory.path + "/swapdev-root-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw LocalSocketError(operation: "create a private temp directory", code: errno)
        }
        let url = URL(fileURLWithPath: String(cString: made))
        state.root = url
        state.rootCreated = true
        return url
    }
}
