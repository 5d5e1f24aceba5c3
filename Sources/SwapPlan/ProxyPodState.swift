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
                if message.lowercased().contains("argument list too long") {
                    return .failed(Self.tooLong(pod, container: container))
                }
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

    /// Linux's limit for one environment string, `NAME=value` and its NUL included
    /// (`MAX_ARG_STRLEN`, 32 pages of 4 KiB).
    public static let maxEnvironmentString = 128 * 1024

    /// The kernel refused `exec` with E2BIG: names the variable over the per-string limit when
    /// the pod spec shows one (values from ConfigMaps and Secrets are not in the spec).
    static func tooLong(_ pod: JSONValue, container: String) -> ProxyFailure {
        let spec = (pod[path: ["spec", "containers"]]?.array ?? []).first { $0["name"]?.string == container }
        let largest = (spec?["env"]?.array ?? [])
            .compactMap { variable -> (String, Int)? in
                guard let name = variable["name"]?.string, let value = variable["value"]?.string else { return nil }
                return (name, name.utf8.count + 1 + value.utf8.count + 1)
            }
            .max { $0.1 < $1.1 }
        if let (name, bytes) = largest, bytes > maxEnvironmentString {
            return .environmentTooLarge(variable: name, bytes: bytes)
        }
        return .environmentTooLarge(variable: nil, bytes: 0)
    }
}

/// Why the proxy pod cannot run; ``description`` is the one screen the user sees.
public enum ProxyFailure: Sendable, Hashable, CustomStringConvertible {
    case imagePull(image: String, reason: String, message: String)
    case unschedulable(message: String)
    case crashLoop(reason: String, message: String)
    case configError(message: String)
    /// `exec` failed with "Argument list too long": `variable` (when known) is over Linux's
    /// per-string limit; `bytes` is its `NAME=value` size.
    case environmentTooLarge(variable: String?, bytes: Int)
    case deleted

    public var description: String {
        switch self {
        case .imagePull(let image, let reason, let message):
            // One line: it is the error line of a failed swap (scripts/bad-input.sh checks it).
            return "the proxy image \(image) cannot be pulled (\(reason)\(message.isEmpty ? "" : ": \(Self.oneLine(message))")); "
                + "build and push it to a registry the cluster can pull from with "
                + "`scripts/build-proxy-image.sh --push --tag REGISTRY/swapdev-proxy:TAG`, "
                + "then run swapdev swap again with --proxy-image REGISTRY/swapdev-proxy:TAG"
        case .unschedulable(let message):
            return "the proxy pod cannot be scheduled: \(Self.oneLine(message)); free resources or relax the template's nodeSelector/affinity"
        case .crashLoop(let reason, let message):
            return "the proxy container keeps failing (\(reason)\(message.isEmpty ? "" : ": \(Self.oneLine(message))"))"
        case .configError(let message):
            return "the proxy container cannot be configured: \(Self.oneLine(message)); the original pods have the same problem — fix the referenced ConfigMap/Secret"
        case .environmentTooLarge(let variable?, let bytes):
            return "variable \(variable) of the container is \(bytes / 1024) KiB, over Linux's 128 KiB limit for one environment variable, "
                + "so no process can start with it (the original pods fail the same way); keep large values in a file: mount the ConfigMap or Secret as a volume"
        case .environmentTooLarge(nil, _):
            return "the container's environment or command line is over Linux's limits (Argument list too long: 128 KiB for one variable, about 2 MiB in all), "
                + "so no process can start with it (the original pods fail the same way); keep large values in files: mount ConfigMaps or Secrets as volumes"
        case .deleted:
            return "the proxy pod was deleted while swapdev waited for it (by someone else, or an admission policy)"
        }
    }

    /// A status message on one line (the kubelet's can span several, e.g. a runtime's stderr).
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { line in String(line.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
