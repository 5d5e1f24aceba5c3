import KubeModel

/// Where the proxy pod stands while swapdev waits for its sshd, read from the pod's status.
public enum ProxyPodState: Sendable, Hashable {
    /// Still coming up; the text says what it is doing (for the progress line).
    case starting(String)
    /// The proxy container runs; `ready` is its pod's Ready condition.
    case running(ready: Bool)
    /// It will not come up by waiting; the failure says why.
    case failed(ProxyFailure)

    /// Classifies `pod`, looking at the container `container` (the proxy).
    public static func of(_ pod: JSONValue, container: String) -> ProxyPodState {
        let phase = pod[path: ["status", "phase"]]?.string ?? "Pending"
        let conditions = pod[path: ["status", "conditions"]]?.array ?? []
        if let scheduled = conditions.first(where: { $0["type"]?.string == "PodScheduled" }),
           scheduled["status"]?.string == "False", scheduled["reason"]?.string == "Unschedulable"
        {
            return .failed(.unschedulable(message: scheduled["message"]?.string ?? "no node fits the pod"))
        }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { return .failed(.deleted) }
        let status = (pod[path: ["status", "containerStatuses"]]?.array ?? []).first { $0["name"]?.string == container }
        if let waiting = status?[path: ["state", "waiting"]] {
            let reason = waiting["reason"]?.string ?? "Waiting"
            let message = waiting["message"]?.string ?? ""
            switch reason {
            case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
                let image = status?["image"]?.string ?? ""
                return .failed(.imagePull(image: image, reason: reason, message: message))
            case "CrashLoopBackOff", "RunContainerError", "CreateContainerError":
                return .failed(.crashLoop(reason: reason, message: message))
            case "CreateContainerConfigError":
                return .failed(.configError(message: message))
            default:
                return .starting(message.isEmpty ? reason : "\(reason): \(message)")
            }
        }
        if status?[path: ["state", "running"]] != nil {
            let ready = conditions.first { $0["type"]?.string == "Ready" }?["status"]?.string == "True"
            return .running(ready: ready)
        }
        if let terminated = status?[path: ["state", "terminated"]] {
            if phase == "Failed" || phase == "Succeeded" {
                let code = terminated["exitCode"]?.int ?? -1
                return .failed(.crashLoop(reason: terminated["reason"]?.string ?? "Terminated", message: "exit code \(code)"))
            }
            return .starting("restarting after exit code \(terminated["exitCode"]?.int ?? -1)")
        }
        if phase == "Failed" { return .failed(.crashLoop(reason: "Failed", message: pod[path: ["status", "message"]]?.string ?? "")) }
        return .starting(phase == "Pending" && status == nil ? "Pending" : phase)
    }
}

/// Why the proxy pod cannot run; ``description`` is the one screen the user sees.
public enum ProxyFailure: Sendable, Hashable, CustomStringConvertible {
    case imagePull(image: String, reason: String, message: String)
    case unschedulable(message: String)
    case crashLoop(reason: String, message: String)
    case configError(message: String)
    case deleted

    public var description: String {
        switch self {
        case .imagePull(let image, let reason, let message):
            return """
                the proxy image \(image) cannot be pulled (\(reason)\(message.isEmpty ? "" : ": \(message)")).
                  Build and push it to a registry the cluster can pull from:
                    scripts/build-proxy-image.sh --push --tag REGISTRY/swapdev-proxy:TAG
                  then run swapdev swap again with --proxy-image REGISTRY/swapdev-proxy:TAG
                """
        case .unschedulable(let message):
            return "the proxy pod cannot be scheduled: \(message); free resources or relax the template's nodeSelector/affinity"
        case .crashLoop(let reason, let message):
            return "the proxy container keeps failing (\(reason)\(message.isEmpty ? "" : ": \(message)"))"
        case .configError(let message):
            return "the proxy container cannot be configured: \(message); the original pods have the same problem — fix the referenced ConfigMap/Secret"
        case .deleted:
            return "the proxy pod was deleted while swapdev waited for it (by someone else, or an admission policy)"
        }
    }
}
