import KubeModel

/// What a dev pod's status means to the session: still starting, usable, unable to start, or
/// gone for good (so a replacement is needed).
///
/// Pure, so that every status the kubelet (or the sandbox) can report is unit-tested.
enum DevPodState: Equatable, Sendable {
    /// Not running yet; the text says why (shown if the wait times out).
    case starting(String)
    /// Every container runs; `restartCount` is the dev container's.
    case running(restartCount: Int)
    /// The dev container cannot run its command. `missingShell` when the runtime's words (or
    /// the exit code 126/127 of `sh -c SUPERVISOR`) say that `sh` itself was not found.
    case failedToStart(detail: String, missingShell: Bool)
    /// Deleted, being deleted, evicted or otherwise ended: the pod will not come back.
    case gone(String)

    /// Classifies `pod` (`nil`: it does not exist). A dev container that restarted more than
    /// `restartBaseline` times before it was ever used counts as failed: the supervisor itself
    /// died, which only happens when `sh` cannot run it.
    static func of(_ pod: JSONValue?, container: String, restartBaseline: Int = 0) -> DevPodState {
        guard let pod else { return .gone("was deleted") }
        if pod[path: ["metadata", "deletionTimestamp"]] != nil { return .gone("is being deleted") }
        let phase = pod[path: ["status", "phase"]]?.string ?? "Pending"
        if phase == "Failed" || phase == "Succeeded" {
            let reason = [pod[path: ["status", "reason"]]?.string, pod[path: ["status", "message"]]?.string]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return .gone("ended with phase \(phase)" + (reason.isEmpty ? "" : " (\(reason))"))
        }
        let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
        let ours = statuses.first { $0["name"]?.string == container }
        if let ours {
            let restarts = ours["restartCount"]?.int ?? 0
            let lastExit = ours[path: ["lastState", "terminated"]]
            if let waiting = ours[path: ["state", "waiting"]], let reason = waiting["reason"]?.string,
               ContainerWaitingReasons.fatal.contains(reason), reason != "CrashLoopBackOff" || restarts > restartBaseline {
                return failure(reason: reason, message: waiting["message"]?.string, terminated: lastExit)
            }
            if let terminated = ours[path: ["state", "terminated"]] {
                return failure(reason: terminated["reason"]?.string ?? "Terminated", message: nil, terminated: terminated)
            }
            if restarts > restartBaseline, let lastExit, ours[path: ["state", "running"]] != nil {
                return failure(reason: "Restarted", message: nil, terminated: lastExit)
            }
        }
        guard phase == "Running" else { return .starting("phase \(phase)") }
        if let notRunning = statuses.first(where: { $0[path: ["state", "running"]] == nil }) {
            return .starting("container \(notRunning["name"]?.string ?? "?") is not running yet")
        }
        guard let ours else { return .starting("no status for container \(container) yet") }
        return .running(restartCount: ours["restartCount"]?.int ?? 0)
    }

    private static func failure(reason: String, message: String?, terminated: JSONValue?) -> DevPodState {
        let exitCode = terminated?["exitCode"]?.int
        let texts = [message, terminated?["message"]?.string].compactMap { $0 }.filter { !$0.isEmpty }
        var detail = reason
        if let exitCode { detail += ", exit code \(exitCode)" }
        if !texts.isEmpty { detail += ": " + texts.joined(separator: "; ") }
        let missingShell = exitCode == 126 || exitCode == 127 || texts.contains(where: mentionsMissingShell)
        return .failedToStart(detail: detail.split(whereSeparator: \.isNewline).joined(separator: " "), missingShell: missingShell)
    }

    /// Whether a runtime's message says `sh` could not be executed, as container runtimes word
    /// it (`exec: "sh": executable file not found in $PATH`) or nsenter/env do (`failed to execute sh`).
    static func mentionsMissingShell(_ text: String) -> Bool {
        let lower = text.lowercased()
        let namesShell = lower.contains("\"sh\"") || lower.contains("execute sh") || lower.contains("sh: not found")
            || lower.contains("exec sh") || lower.contains("'sh'")
        let saysMissing = lower.contains("not found") || lower.contains("no such file") || lower.contains("failed to execute")
        return namesShell && saysMissing
    }

    /// How a pod the session already used changed, or `nil` while it still serves.
    static func change(of pod: JSONValue?, container: String, restartBaseline: Int) -> DevPodChange? {
        guard let pod else { return .gone("was deleted") }
        switch of(pod, container: container, restartBaseline: Int.max) {
        case .gone(let reason): return .gone(reason)
        default: break
        }
        let statuses = pod[path: ["status", "containerStatuses"]]?.array ?? []
        let restarts = statuses.first { $0["name"]?.string == container }?["restartCount"]?.int ?? 0
        return restarts > restartBaseline ? .containerRestarted(restartCount: restarts) : nil
    }
}

/// Why the session has to sync into a dev pod again.
enum DevPodChange: Equatable, Sendable, CustomStringConvertible {
    /// The pod will not come back; a replacement is created.
    case gone(String)
    /// The dev container restarted in place (its supervisor died, e.g. OOM-killed): files
    /// outside volumes and the supervisor's state are lost, so the session syncs again.
    case containerRestarted(restartCount: Int)

    var description: String {
        switch self {
        case .gone(let reason): return reason
        case .containerRestarted(let count): return "its container restarted (restart count \(count))"
        }
    }
}
