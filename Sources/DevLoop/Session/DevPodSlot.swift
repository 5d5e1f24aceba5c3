import Foundation

/// One dev pod of a session, as the sync loop addresses it.
struct DevPodInstance: Sendable, Equatable {
    var name: String
    /// 1 for the first pod; each replacement gets the next (see ``DevPodBuilder/generation``).
    var generation: Int
    /// The supervisor's state directory in this pod.
    var stateDirectory: String
    /// The dev container's restart count when it was synced: a container restarted in place
    /// is synced again and counts as another instance.
    var restartCount: Int = 0
}

/// The dev pod that syncs go to right now, or none while it is being replaced.
///
/// The pod keeper publishes a pod once its initial sync is done and withdraws it as soon as
/// the pod is seen gone; the watch loop waits here meanwhile, so a change saved during a
/// replacement is synced into the new pod rather than failing against the old one.
final class DevPodSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var instance: DevPodInstance?

    /// The usable pod, if any.
    var current: DevPodInstance? { lock.withLock { instance } }

    func publish(_ pod: DevPodInstance) { lock.withLock { instance = pod } }

    func withdraw() { lock.withLock { instance = nil } }

    /// Waits until a pod is published; throws `CancellationError` when the session ends meanwhile.
    func ready() async throws -> DevPodInstance {
        while true {
            if let pod = current { return pod }
            // Polling keeps cancellation trivial; replacements take seconds, the poll 50 ms.
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until a pod other than `old` is published (its replacement).
    func ready(replacing old: DevPodInstance) async throws -> DevPodInstance {
        while true {
            if let pod = current, pod != old { return pod }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Whether `pod` is still the one in use.
    func isCurrent(_ pod: DevPodInstance) -> Bool { current == pod }
}
