import KubeModel

/// While a restore waits for the original's pods to be Ready: whether waiting can still help.
///
/// A restore is make-before-break — the proxy stays until the original is Ready — so an
/// original that cannot start (its image gone, a crash loop, a missing Secret) used to hold
/// `swapdev restore`, Ctrl-C and the dead-man switch for the whole timeout. The kubelet says
/// so much earlier; this reads it.
public enum OriginalPodsState: Sendable, Hashable, CustomStringConvertible {
    /// Not Ready yet, or not known to be stuck.
    case mayBecomeReady
    /// `pod`'s container `container` waits for a reason that needs a change to the Deployment.
    case stuck(pod: String, container: String, reason: String, message: String)

    /// Classifies the pods of the original: `pods` as listed by the Deployment's selector; the
    /// swap's proxy pods (labelled with ``SwapRecord/swapLabel``) and pods being deleted are not
    /// the original's and are skipped.
    public static func of(_ pods: [JSONValue]) -> OriginalPodsState {
        for pod in pods where pod.labels[SwapRecord.swapLabel] == nil && pod[path: ["metadata", "deletionTimestamp"]] == nil {
            let statuses = (pod[path: ["status", "initContainerStatuses"]]?.array ?? [])
                + (pod[path: ["status", "containerStatuses"]]?.array ?? [])
            for status in statuses {
                guard let waiting = status[path: ["state", "waiting"]], let reason = waiting["reason"]?.string,
                      ContainerWaitingReasons.fatal.contains(reason) else { continue }
                return .stuck(pod: pod.name ?? "?", container: status["name"]?.string ?? "?", reason: reason,
                              message: ProxyFailure.oneLine(waiting["message"]?.string ?? ""))
            }
        }
        return .mayBecomeReady
    }

    public var description: String {
        switch self {
        case .mayBecomeReady:
            return "the original may still become Ready"
        case let .stuck(pod, container, reason, message):
            return "the original cannot start: pod \(pod), container \(container): \(reason)\(message.isEmpty ? "" : " (\(message))"); "
                + "fix the Deployment (kubectl describe pod \(pod)) — it was scaled back, the proxy is removed"
        }
    }
}
