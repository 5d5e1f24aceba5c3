import Foundation
import SwapPlan

/// Why a swap or a restore failed. Each description is one line (the `error:` line of a failed
/// swap; scripts/bad-input.sh checks it), says which object is involved and what to do.
public enum SwapError: Error, Sendable, CustomStringConvertible {
    /// The proxy pod did not come up; `log` is the proxy container's last output, when any.
    case proxyFailed(pod: String, failure: ProxyFailure, log: String?)
    case proxyTimedOut(pod: String, seconds: Double, lastState: String)
    case noHostKey(pod: String, log: String)
    case notReady(pod: String, seconds: Double)
    case notInEndpoints(pod: String, services: [String])
    case sshFailed(pod: String, reason: String)
    case envDumpMissing(pod: String, reason: String)
    case restoreIncomplete(deployment: String, namespace: String, remaining: [String])
    case notSwapped(deployment: String)
    case concurrentChange(deployment: String)

    public var description: String {
        switch self {
        case .proxyFailed(let pod, let failure, let log):
            var text = "proxy pod \(pod): \(failure)"
            // The last lines of a crashed proxy usually say why (sshd's own error); joined with
            // " | " so the error stays one line.
            let tail = (log ?? "").split(whereSeparator: \.isNewline).suffix(3).joined(separator: "\n")
            if !Self.oneLine(tail).isEmpty { text += "; its last log lines: \(Self.oneLine(tail))" }
            if case .crashLoop = failure { text += "; check --proxy-image and the container's spec (the proxy keeps its env, volumes and securityContext)" }
            return text
        case .proxyTimedOut(let pod, let seconds, let lastState):
            return "proxy pod \(pod) did not start within \(Int(seconds))s (last state: \(lastState)); raise --timeout or check `kubectl describe pod \(pod)`"
        case .noHostKey(let pod, let log):
            return "proxy pod \(pod) runs but never printed its host key (\"swapdev-proxy: host key SHA256:...\"); is --proxy-image a swapdev proxy? log: \(Self.oneLine(String(log.suffix(300))))"
        case .notReady(let pod, let seconds):
            return "proxy pod \(pod) did not become Ready within \(Int(seconds))s although the tunnel is up; check its readiness probe with `kubectl describe pod \(pod)`"
        case .notInEndpoints(let pod, let services):
            return "proxy pod \(pod) is Ready but the endpoints of \(services.joined(separator: ", ")) never listed it; the original was left running — check the Services' selectors and `kubectl get endpoints`"
        case .sshFailed(let pod, let reason):
            return "cannot open the SSH tunnel to proxy pod \(pod): \(reason)"
        case .envDumpMissing(let pod, let reason):
            // A reason from SwapPlanError already ends with its remedy; say it once.
            let remedy = reason.contains("; ") ? "" : "; check the proxy image version (--proxy-image)"
            return "cannot read the container environment from proxy pod \(pod): \(reason)\(remedy)"
        case .restoreIncomplete(let deployment, let namespace, let remaining):
            return "restore of deployment \(deployment) is incomplete (\(remaining.joined(separator: "; "))); finish it with: swapdev restore \(deployment) -n \(namespace)"
        case .notSwapped(let deployment):
            return "deployment \(deployment) is not swapped (no swapdev.dev/swap-id annotation); nothing to restore"
        case .concurrentChange(let deployment):
            return "deployment \(deployment) changed while swapdev was recording the swap; run swapdev swap again"
        }
    }

    /// Lines of a log joined with " | ", so an error that quotes a log stays one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " | ")
    }
}
