import Foundation
import KubeModel
import SandboxRuntime

/// The sandbox's kubelet: starts pods on the runtime, writes their status, stops them on
/// deletion (after they have left the endpoints), and retries pods whose config is missing.
actor PodController {
    private let registry: Registry
    private let runtime: any PodRuntime
    private let builder: LaunchSpecBuilder
    private let events: EventRecorder
    private let endpoints: EndpointsController
    /// Pods handed to the runtime, by uid.
    private var started: [String: (namespace: String, name: String)] = [:]
    /// Pods waiting for a ConfigMap or Secret, by uid.
    private var waitingForConfig: [String: (namespace: String, name: String)] = [:]
    private var stopping: Set<String> = []
    /// Pods that will never start (unpullable image), by uid.
    private var failed: Set<String> = []

    init(registry: Registry, runtime: any PodRuntime, builder: LaunchSpecBuilder, endpoints: EndpointsController) {
        self.registry = registry
        self.runtime = runtime
        self.builder = builder
        self.events = EventRecorder(registry: registry)
        self.endpoints = endpoints
    }

    /// Reacts to one store change.
    func handle(_ event: StoreEvent) async {
        switch event.resource {
        case ResourceCatalog.pods.key:
            await handlePod(event)
        case ResourceCatalog.configMaps.key, ResourceCatalog.secrets.key:
            guard event.kind != .deleted else { return }
            for (uid, pod) in waitingForConfig where pod.namespace == event.object.namespace {
                waitingForConfig[uid] = nil
                if let object = try? registry.get(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name), object.uid == uid {
                    await launch(object)
                }
            }
        default:
            return
        }
    }

    private func handlePod(_ event: StoreEvent) async {
        let pod = event.object
        guard let uid = pod.uid else { return }
        if event.kind == .deleted {
            waitingForConfig[uid] = nil
            failed.remove(uid)
            if started.removeValue(forKey: uid) != nil, !stopping.contains(uid) {
                // Force deletion: the object is gone already; stop at once.
                await endpoints.resync()
                await runtime.stopPod(uid: uid, gracePeriod: .zero)
            }
            stopping.remove(uid)
            return
        }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            guard !stopping.contains(uid) else { return }
            stopping.insert(uid)
            waitingForConfig[uid] = nil
            let grace = pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.int ?? 30
            let wasStarted = started[uid] != nil
            Task {
                // As kubelet and kube-proxy do: leave the endpoints first, then SIGTERM.
                await self.endpoints.resync()
                if wasStarted {
                    self.events.record(pod, reason: "Killing", message: "Stopping container \((pod[path: ["spec", "containers"]]?.array ?? []).compactMap { $0["name"]?.string }.joined(separator: ", "))")
                    await self.runtime.stopPod(uid: uid, gracePeriod: .seconds(grace))
                }
                self.finished(uid: uid, pod: pod)
            }
            return
        }
        if started[uid] == nil, waitingForConfig[uid] == nil, !failed.contains(uid), event.kind == .added {
            await launch(pod)
        }
    }

    private func finished(uid: String, pod: JSONValue) {
        started[uid] = nil
        registry.finalize(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name ?? "", uid: uid)
    }

    private func launch(_ pod: JSONValue) async {
        guard let uid = pod.uid, let name = pod.name else { return }
        let namespace = pod.namespace ?? "default"
        events.record(pod, reason: "Scheduled", message: "Successfully assigned \(namespace)/\(name) to \(SandboxNode.name)", component: "default-scheduler")
        let spec: PodLaunchSpec
        do {
            spec = try builder.build(pod: pod)
        } catch let problem as ContainerStartProblem {
            writeStatus(namespace: namespace, name: name, uid: uid) { PodStatusWriter.status(for: $0, problem: problem) }
            if problem.reason == "CreateContainerConfigError" {
                waitingForConfig[uid] = (namespace, name)
                events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(problem.message)")
            } else {
                failed.insert(uid)
                events.record(pod, type: "Warning", reason: "Failed", message: problem.message)
                if problem.message.contains("does-not-exist") { scheduleImagePullBackOff(pod: pod, problem: problem) }
            }
            return
        } catch {
            return
        }
        started[uid] = (namespace, name)
        do {
            _ = try await runtime.startPod(spec)
            for container in spec.containers {
                events.record(pod, reason: "Pulled", message: "Container image \"\(container.image)\" already present on machine (the sandbox records images, it does not pull them)")
            }
        } catch {
            started[uid] = nil
            failed.insert(uid)
            let problem = ContainerStartProblem(container: "", reason: "RunContainerError", message: "\(error)")
            writeStatus(namespace: namespace, name: name, uid: uid) { PodStatusWriter.status(for: $0, problem: problem) }
            events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error)")
        }
    }

    /// `ErrImagePull` turns into `ImagePullBackOff` after a moment, as on a real node.
    private func scheduleImagePullBackOff(pod: JSONValue, problem: ContainerStartProblem) {
        guard let uid = pod.uid, let name = pod.name else { return }
        let namespace = pod.namespace ?? "default"
        let image = (pod[path: ["spec", "containers"]]?.array ?? []).first { ($0["image"]?.string ?? "").contains("does-not-exist") }?["image"]?.string ?? ""
        Task {
            try? await Task.sleep(for: .milliseconds(500))
            let backOff = ContainerStartProblem(container: problem.container, reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\"")
            self.writeStatus(namespace: namespace, name: name, uid: uid) { PodStatusWriter.status(for: $0, problem: backOff) }
            self.events.record(pod, type: "Warning", reason: "BackOff", message: "Back-off pulling image \"\(image)\"")
        }
    }

    /// Applies a runtime report to the pod it belongs to.
    func apply(_ report: PodRuntimeStatus) {
        guard let pod = started[report.uid] else { return }
        let previous = try? registry.get(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name)
        writeStatus(namespace: pod.namespace, name: pod.name, uid: report.uid) { PodStatusWriter.status(for: $0, runtime: report) }
        guard let previous else { return }
        let oldRestarts = (previous[path: ["status", "containerStatuses"]]?.array ?? []).reduce(0) { $0 + ($1["restartCount"]?.int ?? 0) }
        let newRestarts = report.containers.reduce(0) { $0 + $1.restartCount }
        if newRestarts > oldRestarts {
            events.record(previous, type: "Warning", reason: "BackOff", message: "Back-off restarting failed container")
        }
        for container in report.containers {
            if case .running = container.state,
               let old = (previous[path: ["status", "containerStatuses"]]?.array ?? []).first(where: { $0["name"]?.string == container.name }),
               old[path: ["state", "running"]] == nil
            {
                events.record(previous, reason: "Started", message: "Started container \(container.name)")
            }
        }
    }

    /// Writes a new status computed from the latest stored pod (retrying on races with writers).
    private func writeStatus(namespace: String, name: String, uid: String, _ make: (JSONValue) -> JSONValue) {
        for _ in 0..<5 {
            guard var pod = try? registry.get(ResourceCatalog.pods, namespace: namespace, name: name), pod.uid == uid else { return }
            pod["status"] = make(pod)
            do {
                try registry.update(ResourceCatalog.pods, namespace: namespace, name: name, body: pod, subresource: "status")
                return
            } catch {
                continue
            }
        }
    }

    /// Stops every pod this controller started (sandbox shutdown).
    func stopAll() async {
        for uid in started.keys { await runtime.stopPod(uid: uid, gracePeriod: .seconds(2)) }
        started.removeAll()
    }
}
