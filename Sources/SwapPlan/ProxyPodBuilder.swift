import KubeModel

/// Builds the proxy pod of a swap from the Deployment's pod template. Pure: no cluster access.
///
/// The proxy is a bare Pod (`<deploy>-swapdev-<shortid>`), not a second Deployment: nothing
/// re-creates it behind swapdev's back, restore is one delete, and a pod carries no rollout
/// history that GitOps tools would notice. It has the template's labels (minus
/// `pod-template-hash`, so the original ReplicaSet never adopts it) plus `swapdev.dev/swap=<id>`,
/// so the Deployment's Services select it. Every other container is copied unchanged.
public struct ProxyPodBuilder: Sendable {
    /// The port sshd listens on inside the proxy container.
    public static let sshPort = 8022
    /// Where the proxy keeps its state (host key, env dump); an emptyDir.
    public static let stateDirectory = "/var/run/swapdev"
    /// The name of the state emptyDir volume.
    public static let stateVolume = "swapdev-state"
    /// The non-root uid the proxy image's `swapdev` user has.
    public static let proxyUser = 1000
    /// Labels that identify one ReplicaSet's pods and must never be copied to the proxy.
    public static let droppedLabels: Set<String> = ["pod-template-hash"]
    /// The safe sysctl that lets a non-root process bind ports below 1024.
    public static let unprivilegedPortSysctl = "net.ipv4.ip_unprivileged_port_start"

    public var deployment: JSONValue
    public var container: String
    public var record: SwapRecord
    public var proxyImage: String
    /// The swap's public key line (`ssh-ed25519 AAAA… swapdev-<id>`).
    public var authorizedKey: String
    /// Extra remote ports (`--expose`), used for readiness when the container declares none.
    public var inbound: [InboundForward]

    public init(deployment: JSONValue, container: String, record: SwapRecord, proxyImage: String,
                authorizedKey: String, inbound: [InboundForward] = [])
    {
        self.deployment = deployment
        self.container = container
        self.record = record
        self.proxyImage = proxyImage
        self.authorizedKey = authorizedKey
        self.inbound = inbound
    }

    /// The proxy pod's name: `<deploy>-swapdev-<shortid>`.
    public static func podName(deployment: String, record: SwapRecord) -> String {
        podName(deployment: deployment, shortID: record.shortID)
    }

    /// The proxy pod's name for a swap id's short form.
    public static func podName(deployment: String, shortID: String) -> String {
        // A pod name becomes its hostname, a DNS label: keep it within 63 characters.
        let suffix = "-swapdev-\(shortID)"
        return String(deployment.prefix(63 - suffix.count)) + suffix
    }

    /// The proxy pod object, ready to `create`.
    public func build() throws(SwapPlanError) -> JSONValue {
        let deploymentName = deployment.name ?? "deployment"
        guard let template = deployment[path: ["spec", "template"]], var spec = template["spec"],
              let containers = spec["containers"]?.array
        else { throw .missingPodTemplate(deployment: deploymentName) }
        guard containers.contains(where: { $0["name"]?.string == container }) else {
            throw .containerNotFound(deployment: deploymentName, container: container,
                                     available: containers.compactMap { $0["name"]?.string })
        }

        var labels = template.labels
        for label in Self.droppedLabels { labels[label] = nil }
        labels[SwapRecord.swapLabel] = record.id
        var annotations = template.annotations
        annotations[SwapRecord.deploymentAnnotation] = deploymentName
        annotations[SwapRecord.Key.id] = record.id
        annotations[SwapRecord.Key.container] = container

        spec["containers"] = .array(containers.map { $0["name"]?.string == container ? proxyContainer(from: $0) : $0 })
        var volumes = spec["volumes"]?.array ?? []
        volumes.removeAll { $0["name"]?.string == Self.stateVolume }
        volumes.append(["name": .string(Self.stateVolume), "emptyDir": .emptyObject])
        spec["volumes"] = .array(volumes)
        spec["securityContext"] = podSecurityContext(spec["securityContext"] ?? .emptyObject,
                                                     needsLowPorts: needsLowPorts(containers))
        // A bare pod is never re-created by a controller; leave restarts to the kubelet so a
        // crashing sshd shows up as CrashLoopBackOff with its log.
        spec["restartPolicy"] = "Always"

        var metadata: JSONValue = ["name": .string(Self.podName(deployment: deploymentName, record: record))]
        if let namespace = deployment.namespace { metadata["namespace"] = .string(namespace) }
        metadata["labels"] = JSONValue(stringMap: labels)
        metadata["annotations"] = JSONValue(stringMap: annotations)
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec]
    }

    /// The target container turned into the proxy: same name, env, envFrom, ports, volume
    /// mounts and resources; proxy image; no command/args/workingDir/lifecycle; probes that
    /// follow the tunnel (readiness) and sshd (liveness).
    func proxyContainer(from original: JSONValue) -> JSONValue {
        var proxy = original
        proxy["image"] = .string(proxyImage)
        proxy["imagePullPolicy"] = "IfNotPresent"
        for field in ["command", "args", "workingDir", "lifecycle", "startupProbe"] { proxy[field] = nil }

        // Readiness: a TCP connect to the app's first port succeeds only once the SSH remote
        // forward has bound it in the pod, i.e. once the tunnel to the local process is up.
        let readinessPort = firstPort(of: original) ?? inbound.first?.remotePort ?? Self.sshPort
        var readiness = tcpProbe(port: readinessPort, original: original["readinessProbe"])
        readiness["periodSeconds"] = 1
        readiness["failureThreshold"] = 1
        proxy["readinessProbe"] = readiness
        // Liveness: sshd answers; never the app port, or a closed laptop would restart the proxy.
        var liveness = tcpProbe(port: Self.sshPort, original: original["livenessProbe"])
        liveness["periodSeconds"] = 10
        liveness["failureThreshold"] = 3
        proxy["livenessProbe"] = liveness

        var env = (original["env"]?.array ?? []).filter {
            let name = $0["name"]?.string
            return name != "SWAPDEV_AUTHORIZED_KEY" && name != "SWAPDEV_STATE_DIR"
        }
        env.append(["name": "SWAPDEV_AUTHORIZED_KEY", "value": .string(authorizedKey)])
        env.append(["name": "SWAPDEV_STATE_DIR", "value": .string(Self.stateDirectory)])
        proxy["env"] = .array(env)

        var mounts = (original["volumeMounts"]?.array ?? []).filter { $0["name"]?.string != Self.stateVolume }
        mounts.append(["name": .string(Self.stateVolume), "mountPath": .string(Self.stateDirectory)])
        proxy["volumeMounts"] = .array(mounts)

        // Replaced, not merged: the app's own context (runAsUser: 0, privileged, added
        // capabilities) would make the proxy fail PodSecurity "restricted".
        proxy["securityContext"] = [
            "runAsNonRoot": true,
            "runAsUser": .int(Int64(Self.proxyUser)),
            "runAsGroup": .int(Int64(Self.proxyUser)),
            "allowPrivilegeEscalation": false,
            "capabilities": ["drop": ["ALL"]],
            "seccompProfile": ["type": "RuntimeDefault"],
        ]
        return proxy
    }

    /// Keeps the pod's security context (sidecars rely on it) and adds the seccomp profile
    /// "restricted" asks for plus, when a forwarded port is below 1024, the unprivileged-port
    /// sysctl (safe, so allowed by every PodSecurity level) — sshd runs as uid 1000.
    func podSecurityContext(_ original: JSONValue, needsLowPorts: Bool) -> JSONValue {
        var context = original
        if context["seccompProfile"] == nil { context["seccompProfile"] = ["type": "RuntimeDefault"] }
        guard needsLowPorts else { return context }
        var sysctls = (context["sysctls"]?.array ?? []).filter { $0["name"]?.string != Self.unprivilegedPortSysctl }
        sysctls.append(["name": .string(Self.unprivilegedPortSysctl), "value": "0"])
        context["sysctls"] = .array(sysctls)
        return context
    }

    /// Whether sshd will have to bind a port below 1024 for a remote forward.
    func needsLowPorts(_ containers: [JSONValue]) -> Bool {
        let target = containers.first { $0["name"]?.string == container }
        let declared = (target?["ports"]?.array ?? []).compactMap { $0["containerPort"]?.int }
        return (declared + inbound.map(\.remotePort)).contains { $0 < 1024 }
    }

    private func firstPort(of container: JSONValue) -> Int? {
        (container["ports"]?.array ?? []).first { ($0["protocol"]?.string ?? "TCP") == "TCP" }?["containerPort"]?.int
    }

    /// A tcpSocket probe on `port` that keeps the original's timing where it had one.
    private func tcpProbe(port: Int, original: JSONValue?) -> JSONValue {
        var probe: JSONValue = ["tcpSocket": ["port": .int(Int64(port))]]
        if let timeout = original?["timeoutSeconds"] { probe["timeoutSeconds"] = timeout }
        return probe
    }
}
