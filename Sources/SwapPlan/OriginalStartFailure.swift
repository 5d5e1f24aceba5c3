import KubeModel

/// A pod of the original that will not become Ready without a change to the Deployment: its
/// container waits for a reason the kubelet does not get past by itself.
///
/// A restore is make-before-break — the proxy stays until the original is Ready — so an
/// original that cannot start (its image gone, a crash loop, a missing Secret) used to hold
/// `swapdev restore`, Ctrl-C and the dead-man switch for the whole timeout. The kubelet says
/// so much earlier; this reads it.
public struct OriginalStartFailure: Sendable, Hashable, CustomStringConvertible {
    public var pod: String
    public var container: String
    /// The waiting reason (one of ``ContainerWaitingReasons/fatal``) and its message, on one line.
    public var reason: String
    public var message: String

    public init(pod: String, container: String, reason: String, message: String) {
        self.pod = pod
        self.container = container
        self.reason = reason
        self.message = message
    }

    /// The first such pod among `pods` (as listed by the Deployment's selector), `nil` while
    /// waiting may still help. The swap's proxy pods (labelled with ``SwapRecord/swapLabel``) and
    /// pods being deleted are not the original's and are skipped.
    public static func first(in pods: [JSONValue]) -> OriginalStartFailure? {
        for pod in pods where pod.labels[SwapRecord.swapLabel] == nil && pod[path: ["metadata", "deletionTimestamp"]] == nil {
            let statuses = (pod[path: ["status", "initContainerStatuses"]]?.array ?? [])
                + (pod[path: ["status", "containerStatuses"]]?.array ?? [])
            for status in statuses {
                guard let waiting = status[path: ["state", "waiting"]], let reason = waiting["reason"]?.string,
                      ContainerWaitingReasons.fatal.contains(reason) else { continue }
                return OriginalStartFailure(pod: pod.name ?? "?", container: status["name"]?.string ?? "?", reason: reason,
                                            message: ProxyFailure.oneLine(waiting["message"]?.string ?? ""))
            }
        }
        return nil
    }

    public var description: String {
        "the original cannot start: pod \(pod), container \(container): \(reason)\(message.isEmpty ? "" : " (\(message))"); "
            + "fix the Deployment (kubectl describe pod \(pod)) — it was scaled back, the proxy is removed"
    }
}
