import Foundation
import KubeModel

// The seam between the sandbox's API side (object store, REST, controllers) and its pod
// runtime (network namespaces, processes, probes, service proxy).
//
// The API side owns every decision that needs cluster state: it resolves each container's
// environment with KubeEnvironment, materializes volume contents (configMap, secret,
// service-account token), allocates ClusterIPs and computes endpoints. The runtime only
// runs what it is given and reports what it sees. Neither side imports the other's types
// beyond this file.

/// Everything the runtime needs to run one pod.
public struct PodLaunchSpec: Sendable {
    public var uid: String
    public var namespace: String
    public var name: String
    /// The pod's `spec.hostname`, else its name; written to the pod's /etc/hostname view.
    public var hostname: String
    public var containers: [ContainerLaunchSpec]
    public var volumes: [VolumeSpec]
    /// `spec.terminationGracePeriodSeconds`, default 30.
    public var terminationGracePeriod: Duration
    /// The pod's address in 10.244.0.0/16, when the API side has already allocated it (it must,
    /// to resolve `fieldRef: status.podIP` before containers start). `nil`: the runtime picks one.
    public var podIP: String?

    public init(uid: String, namespace: String, name: String, hostname: String,
                containers: [ContainerLaunchSpec], volumes: [VolumeSpec], terminationGracePeriod: Duration,
                podIP: String? = nil) {
        self.uid = uid
        self.namespace = namespace
        self.name = name
        self.hostname = hostname
        self.containers = containers
        self.volumes = volumes
        self.terminationGracePeriod = terminationGracePeriod
        self.podIP = podIP
    }
}

/// One container: a host process run inside the pod's network namespace and a private mount view.
public struct ContainerLaunchSpec: Sendable {
    public var name: String
    /// Recorded, not pulled.
    public var image: String
    /// How the process starts: argv after `$(VAR)` expansion of command + args.
    public var argv: [String]
    public var workingDirectory: String?
    /// The final environment, already computed the way the kubelet would.
    public var environment: [(name: String, value: String)]
    public var volumeMounts: [VolumeMountSpec]
    public var readinessProbe: ProbeSpec?
    public var livenessProbe: ProbeSpec?
    public var startupProbe: ProbeSpec?
    /// `true` when the pod gave no `command`, so `argv` holds only `args` for the image's
    /// ENTRYPOINT. Only the swapdev proxy image has an entrypoint the sandbox can run; for it,
    /// `argv` is appended to `proxy-image/entrypoint.sh`.
    public var runsImageEntrypoint = false

    public init(name: String, image: String, argv: [String], workingDirectory: String?,
                environment: [(name: String, value: String)], volumeMounts: [VolumeMountSpec],
                readinessProbe: ProbeSpec?, livenessProbe: ProbeSpec?, startupProbe: ProbeSpec?) {
        self.name = name
        self.image = image
        self.argv = argv
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.volumeMounts = volumeMounts
        self.readinessProbe = readinessProbe
        self.livenessProbe = livenessProbe
        self.startupProbe = startupProbe
    }
}

/// A pod volume with its contents already resolved by the API side.
public struct VolumeSpec: Sendable {
    public enum Source: Sendable {
        /// An empty, writable directory that lives as long as the pod.
        case emptyDir
        /// Files keyed by relative path (configMap, secret, projected service-account token…),
        /// with their permission bits (`defaultMode`, 0644 unless set).
        case files([String: Data], mode: UInt16)
    }

    public var name: String
    public var source: Source

    public init(name: String, source: Source) {
        self.name = name
        self.source = source
    }
}

public struct VolumeMountSpec: Sendable {
    public var volumeName: String
    public var mountPath: String
    public var subPath: String?
    public var readOnly: Bool

    public init(volumeName: String, mountPath: String, subPath: String? = nil, readOnly: Bool) {
        self.volumeName = volumeName
        self.mountPath = mountPath
        self.subPath = subPath
        self.readOnly = readOnly
    }
}

/// A probe, as in the pod spec; timings default the way the kubelet's do.
public struct ProbeSpec: Sendable {
    public enum Action: Sendable {
        case tcpSocket(port: Int)
        /// `path` includes the query; `scheme` is `HTTP` or `HTTPS`.
        case httpGet(port: Int, path: String, scheme: String)
        case exec(command: [String])
    }

    public var action: Action
    public var initialDelay: Duration = .zero
    public var period: Duration = .seconds(10)
    public var timeout: Duration = .seconds(1)
    public var successThreshold = 1
    public var failureThreshold = 3

    public init(action: Action) { self.action = action }
}

/// What the runtime reports about a pod; the API side turns it into `status`.
public struct PodRuntimeStatus: Sendable {
    public struct Container: Sendable {
        public enum State: Sendable {
            case waiting(reason: String, message: String?)
            case running(startedAt: Date)
            case terminated(exitCode: Int32, reason: String, startedAt: Date?, finishedAt: Date)
        }

        public var name: String
        public var state: State
        public var ready: Bool
        public var started: Bool
        public var restartCount: Int
        public var lastTermination: State?

        public init(name: String, state: State, ready: Bool, started: Bool, restartCount: Int, lastTermination: State?) {
            self.name = name
            self.state = state
            self.ready = ready
            self.started = started
            self.restartCount = restartCount
            self.lastTermination = lastTermination
        }
    }

    public var uid: String
    public var podIP: String
    public var containers: [Container]

    public init(uid: String, podIP: String, containers: [Container]) {
        self.uid = uid
        self.podIP = podIP
        self.containers = containers
    }
}

/// A Service as the runtime's proxy sees it: the ClusterIP and, per port, the ready endpoints.
public struct ServiceRoute: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        public var port: Int
        /// Ready endpoints as (pod IP, target port).
        public var endpoints: [Endpoint]

        public init(port: Int, endpoints: [Endpoint]) {
            self.port = port
            self.endpoints = endpoints
        }
    }

    public struct Endpoint: Sendable, Hashable {
        public var ip: String
        public var port: Int

        public init(ip: String, port: Int) {
            self.ip = ip
            self.port = port
        }
    }

    public var namespace: String
    public var name: String
    public var clusterIP: String
    public var ports: [Port]

    public init(namespace: String, name: String, clusterIP: String, ports: [Port]) {
        self.namespace = namespace
        self.name = name
        self.clusterIP = clusterIP
        self.ports = ports
    }
}

/// A running `exec`: write stdin, read output, await the exit code.
public protocol ExecSession: Sendable {
    /// Sends bytes to the process's stdin.
    func writeStdin(_ bytes: [UInt8]) async throws
    /// Closes stdin so the process sees EOF.
    func closeStdin() async
    /// stdout and stderr chunks, tagged, until both are closed.
    var output: AsyncStream<(ExecChannel, [UInt8])> { get }
    /// The exit code once the process has exited.
    func waitForExit() async -> Int32
    /// Kills the process (the client went away).
    func terminate() async
    /// Terminal size, when started with a TTY.
    func resize(width: Int, height: Int) async
}

/// Runs pods as processes. Implemented by `ProcessPodRuntime`; tests may substitute a fake.
public protocol PodRuntime: Sendable {
    /// Creates the pod's network namespace and address, then starts every container.
    /// Returns at once; status changes arrive on ``statusUpdates``.
    func startPod(_ spec: PodLaunchSpec) async throws -> String

    /// Stops the pod: SIGTERM to every container, SIGKILL after the grace period, then removes
    /// its namespace, mounts and files. Idempotent.
    func stopPod(uid: String, gracePeriod: Duration) async

    /// Every status change of every pod (container started, exited, restarted, readiness flipped).
    var statusUpdates: AsyncStream<PodRuntimeStatus> { get }

    /// Starts `argv` inside container `container` of the pod (same namespaces, env and mounts).
    func exec(podUID: String, container: String, argv: [String], tty: Bool, stdin: Bool) async throws -> any ExecSession

    /// Opens a TCP connection to `port` inside the pod's network namespace, returning a
    /// connected socket file descriptor that the caller owns and must close.
    func connect(podUID: String, port: Int) async throws -> Int32

    /// A container's log bytes so far and, with `follow`, new bytes until the container ends.
    /// `previous` reads the last terminated instance.
    func logs(podUID: String, container: String, follow: Bool, previous: Bool, tailLines: Int?) async throws -> AsyncStream<[UInt8]>

    /// Replaces the whole service table: ClusterIP proxying and the names pods resolve
    /// (`NAME`, `NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local`).
    func updateServices(_ routes: [ServiceRoute]) async

    /// Stops every pod and removes everything the runtime created on the host.
    func shutdown() async
}

/// Errors a runtime reports; the API side maps them to Status bodies.
public enum PodRuntimeError: Error, Sendable, CustomStringConvertible {
    case podNotFound(uid: String)
    case containerNotFound(pod: String, container: String)
    case connectionRefused(pod: String, port: Int)
    case hostSetupFailed(String)

    public var description: String {
        switch self {
        case .podNotFound(let uid): return "pod \(uid) is not running in the sandbox"
        case .containerNotFound(let pod, let container): return "container \(container) not found in pod \(pod)"
        case .connectionRefused(let pod, let port): return "connection refused to port \(port) in pod \(pod)"
        case .hostSetupFailed(let why): return "sandbox host setup failed: \(why)"
        }
    }
}
