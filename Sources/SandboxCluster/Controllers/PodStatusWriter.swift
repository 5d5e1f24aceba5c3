import Foundation
import KubeModel
import SandboxRuntime

/// Turns what the runtime reports (or why a pod cannot start) into the pod's `status`.
enum PodStatusWriter {
    static func status(for pod: JSONValue, runtime: PodRuntimeStatus) -> JSONValue {
        var status = pod["status"] ?? .emptyObject
        let byName = Dictionary(runtime.containers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let specContainers = pod[path: ["spec", "containers"]]?.array ?? []
        var statuses: [JSONValue] = []
        for container in specContainers {
            let name = container["name"]?.string ?? ""
            guard let reported = byName[name] else {
                statuses.append(waitingStatus(container, reason: "ContainerCreating", message: nil))
                continue
            }
            var entry: JSONValue = [
                "name": .string(name), "image": container["image"] ?? "", "imageID": "",
                "containerID": .string("sandbox://\(runtime.uid)/\(name)"),
                "ready": .bool(reported.ready), "started": .bool(reported.started),
                "restartCount": .int(Int64(reported.restartCount)),
                "state": state(reported.state), "lastState": reported.lastTermination.map(state) ?? .emptyObject,
            ]
            if case .waiting = reported.state { entry["containerID"] = nil }
            statuses.append(entry)
        }
        status["containerStatuses"] = .array(statuses)
        if !runtime.podIP.isEmpty {
            status["podIP"] = .string(runtime.podIP)
            status["podIPs"] = [["ip": .string(runtime.podIP)]]
        }
        status["hostIP"] = .string(SandboxNode.hostIP)
        status["hostIPs"] = [["ip": .string(SandboxNode.hostIP)]]
        if status["startTime"] == nil { status["startTime"] = .string(ObjectIdentity.timestamp()) }
        status["phase"] = .string(phase(pod: pod, containers: runtime.containers))
        let allReady = !runtime.containers.isEmpty && specContainers.allSatisfy { byName[$0["name"]?.string ?? ""]?.ready == true }
        status["conditions"] = conditions(previous: status["conditions"], ready: allReady, initialized: true)
        return status
    }

    /// The status of a pod whose containers cannot start, e.g. CreateContainerConfigError.
    static func status(for pod: JSONValue, problem: ContainerStartProblem) -> JSONValue {
        var status = pod["status"] ?? .emptyObject
        let statuses: [JSONValue] = (pod[path: ["spec", "containers"]]?.array ?? []).map { container in
            let affected = problem.container.isEmpty || container["name"]?.string == problem.container
            return waitingStatus(container, reason: affected ? problem.reason : "ContainerCreating", message: affected ? problem.message : nil)
        }
        status["containerStatuses"] = .array(statuses)
        status["phase"] = "Pending"
        status["hostIP"] = .string(SandboxNode.hostIP)
        status["hostIPs"] = [["ip": .string(SandboxNode.hostIP)]]
        if status["startTime"] == nil { status["startTime"] = .string(ObjectIdentity.timestamp()) }
        status["conditions"] = conditions(previous: status["conditions"], ready: false, initialized: true)
        return status
    }

    private static func waitingStatus(_ container: JSONValue, reason: String, message: String?) -> JSONValue {
        var waiting: JSONValue = ["reason": .string(reason)]
        if let message { waiting["message"] = .string(message) }
        return [
            "name": container["name"] ?? "", "image": container["image"] ?? "", "imageID": "",
            "ready": false, "started": false, "restartCount": 0,
            "state": ["waiting": waiting], "lastState": .emptyObject,
        ]
    }

    private static func state(_ state: PodRuntimeStatus.Container.State) -> JSONValue {
        switch state {
        case .waiting(let reason, let message):
            var waiting: JSONValue = ["reason": .string(reason)]
            if let message { waiting["message"] = .string(message) }
            return ["waiting": waiting]
        case .running(let startedAt):
            return ["running": ["startedAt": .string(ObjectIdentity.timestamp(startedAt))]]
        case .terminated(let exitCode, let reason, let startedAt, let finishedAt):
            var terminated: JSONValue = [
                "exitCode": .int(Int64(exitCode)), "reason": .string(reason),
                "finishedAt": .string(ObjectIdentity.timestamp(finishedAt)),
                "containerID": "",
            ]
            terminated["startedAt"] = startedAt.map { .string(ObjectIdentity.timestamp($0)) } ?? .null
            terminated["containerID"] = nil
            return ["terminated": terminated]
        }
    }

    private static func phase(pod: JSONValue, containers: [PodRuntimeStatus.Container]) -> String {
        let policy = pod[path: ["spec", "restartPolicy"]]?.string ?? "Always"
        var exitCodes: [Int32] = []
        var anyRunning = false
        for container in containers {
            switch container.state {
            case .running: anyRunning = true
            case .terminated(let code, _, _, _): exitCodes.append(code)
            case .waiting: if container.restartCount > 0 { anyRunning = true }
            }
        }
        let specCount = pod[path: ["spec", "containers"]]?.array?.count ?? 0
        if policy != "Always", exitCodes.count == specCount, specCount > 0 {
            if exitCodes.allSatisfy({ $0 == 0 }) { return "Succeeded" }
            if policy == "Never" { return "Failed" }
        }
        if anyRunning || !exitCodes.isEmpty { return "Running" }
        return "Pending"
    }

    /// The four standard conditions; transition times change only when a status flips.
    private static func conditions(previous: JSONValue?, ready: Bool, initialized: Bool) -> JSONValue {
        let now = ObjectIdentity.timestamp()
        let old = Dictionary((previous?.array ?? []).compactMap { condition in condition["type"]?.string.map { ($0, condition) } },
                             uniquingKeysWith: { first, _ in first })
        func condition(_ type: String, _ value: Bool) -> JSONValue {
            let text = value ? "True" : "False"
            if let existing = old[type], existing["status"]?.string == text { return existing }
            var condition: JSONValue = ["type": .string(type), "status": .string(text), "lastProbeTime": .null, "lastTransitionTime": .string(now)]
            if !value, type == "Ready" || type == "ContainersReady" {
                condition["reason"] = "ContainersNotReady"
            }
            return condition
        }
        return [
            condition("PodReadyToStartContainers", true),
            condition("Initialized", initialized), condition("Ready", ready),
            condition("ContainersReady", ready), condition("PodScheduled", true),
        ]
    }
}
