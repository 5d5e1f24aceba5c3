import Foundation
import KubeModel
import SwapPlan
import SyncCore

/// Builds the dev copy of a workload: a Pod from the Deployment's template whose chosen
/// container runs its command under ``SupervisorScript``.
///
/// The pod keeps the template's labels (minus `pod-template-hash`) so Services route to it,
/// carries `swapdev.dev/swap=<id>` so cleanup can find it, and loses its probes unless asked,
/// because a process being restarted or broken mid-edit must not get the pod killed.
public struct DevPodBuilder: Sendable {
    public var deployment: JSONValue
    public var container: String
    public var record: SwapRecord
    public var options: DevOptions
    /// 1 for the session's first dev pod; each replacement (the pod was deleted or evicted) gets the next.
    public var generation: Int

    public init(deployment: JSONValue, container: String, record: SwapRecord, options: DevOptions, generation: Int = 1) {
        self.deployment = deployment
        self.container = container
        self.record = record
        self.options = options
        self.generation = generation
    }

    /// The supervisor's state directory in the container, unique per session and pod so that
    /// pods sharing a filesystem (the sandbox) never signal each other's supervisors, and a
    /// replacement's supervisor does not find its predecessor's `go` file and start early.
    public var stateDirectory: String {
        "/tmp/swapdev-\(record.id)" + (generation > 1 ? "-\(generation)" : "")
    }

    /// This generation's pod name (see ``podName(deployment:record:generation:)``).
    public var podName: String { Self.podName(deployment: deployment.name ?? "dev", record: record, generation: generation) }

    /// The same builder for the pod that replaces this one.
    public func nextGeneration() -> DevPodBuilder {
        DevPodBuilder(deployment: deployment, container: container, record: record, options: options, generation: generation + 1)
    }

    /// `DEPLOYMENT-dev-SHORTID` (replacements: `…-SHORTID-N`), cut to a valid pod name.
    public static func podName(deployment: String, record: SwapRecord, generation: Int = 1) -> String {
        let suffix = "-dev-" + record.shortID + (generation > 1 ? "-\(generation)" : "")
        var base = String(deployment.prefix(63 - suffix.count))
        while base.hasSuffix("-") || base.hasSuffix(".") { base.removeLast() }
        return base + suffix
    }

    /// The argv the supervisor will run: `--run`, else the container's `command` + `args`.
    public func processArgv() throws(DevError) -> [String] {
        if let run = options.run, !run.isEmpty { return run }
        let spec = try containerSpec()
        let command = spec["command"]?.array?.compactMap(\.string) ?? []
        let args = spec["args"]?.array?.compactMap(\.string) ?? []
        guard !command.isEmpty else { throw .noCommand(deployment: deployment.name ?? "?", container: container) }
        return command + args
    }

    /// The container command: the supervisor wrapping `argv`, in the form the kubelet expects.
    ///
    /// The kubelet expands `$(VAR)` in `command` and turns `$$` into `$`, so the script's own `$`s
    /// are doubled, as are those of a `--run` command (typed literally). The container's own
    /// `command` + `args` are already written for the kubelet and pass through unchanged.
    public func podCommand(_ argv: [String]) -> [String] {
        let fromRun = options.run.map { !$0.isEmpty } ?? false
        let wrapped = SupervisorScript.wrap(argv)
        return wrapped.enumerated().map { index, part in
            let isScript = index < wrapped.count - argv.count
            return isScript || fromRun ? Self.escapeForKubelet(part) : part
        }
    }

    /// `$` → `$$`, so the kubelet's variable expansion leaves the text as written.
    public static func escapeForKubelet(_ text: String) -> String {
        text.replacingOccurrences(of: "$", with: "$$")
    }

    /// Sync rules, defaulting to `.` → the container's `workingDir`.
    public func syncRules() throws(DevError) -> [SyncRule] {
        if !options.syncRules.isEmpty { return options.syncRules }
        guard let workingDir = try containerSpec()["workingDir"]?.string, workingDir.hasPrefix("/") else {
            throw .noSyncRule(deployment: deployment.name ?? "?", container: container)
        }
        return [SyncRule(local: ".", remote: workingDir)]
    }

    /// The Pod object to create.
    public func build() throws(DevError) -> JSONValue {
        let name = podName
        let template = deployment[path: ["spec", "template"]] ?? .emptyObject
        var labels = template.labels
        for dropped in ProxyPodBuilder.droppedLabels { labels[dropped] = nil }
        labels[SwapRecord.swapLabel] = record.id
        var annotations = template.annotations
        annotations[SwapRecord.deploymentAnnotation] = deployment.name ?? ""
        var spec = template["spec"] ?? .emptyObject
        let argv = try processArgv()
        var containers = spec["containers"]?.array ?? []
        guard let index = containers.firstIndex(where: { $0["name"]?.string == container }) else {
            throw .noCommand(deployment: deployment.name ?? "?", container: container)
        }
        var target = containers[index]
        if let image = options.image { target["image"] = .string(image) }
        target["command"] = .array(podCommand(argv).map(JSONValue.string))
        target["args"] = nil
        if !options.keepProbes {
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] { target[probe] = nil }
        }
        target["env"] = .array(environment(target["env"]?.array ?? []))
        containers[index] = target
        spec["containers"] = .array(containers)
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": .emptyObject, "spec": spec]
        pod.name = name
        if let namespace = deployment.namespace { pod.namespace = namespace }
        pod.labels = labels
        pod.annotations = annotations
        return pod
    }

    private func containerSpec() throws(DevError) -> JSONValue {
        let containers = deployment[path: ["spec", "template", "spec", "containers"]]?.array ?? []
        guard let spec = containers.first(where: { $0["name"]?.string == container }) else {
            throw .noCommand(deployment: deployment.name ?? "?", container: container)
        }
        return spec
    }

    /// The container's env with overrides replacing same-named entries and the supervisor's state variable.
    private func environment(_ existing: [JSONValue]) -> [JSONValue] {
        var overrides = options.environment
        overrides[SupervisorScript.stateVariable] = stateDirectory
        var result = existing.filter { entry in
            guard let name = entry["name"]?.string else { return true }
            return overrides[name] == nil
        }
        for name in overrides.keys.sorted() {
            result.append(["name": .string(name), "value": .string(overrides[name] ?? "")])
        }
        return result
    }
}
