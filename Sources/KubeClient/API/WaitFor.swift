import Foundation
import KubeModel
import SystemSupport

/// The answer of a ``KubeClient/waitFor(_:namespace:name:timeout:condition:)`` condition.
public enum WaitResult: Sendable, Hashable {
    case satisfied
    /// Not yet; the reason is reported if the deadline passes.
    case waiting(String)
}

extension KubeClient {
    /// Waits until `condition` holds for one object, watching it rather than polling.
    ///
    /// `condition` receives `nil` while the object does not exist (so "is deleted" can be waited for).
    /// Returns the object that satisfied it. On timeout throws ``KubeError/waitTimedOut(object:seconds:lastReason:)``
    /// with the condition's last reason, e.g. "0/1 replicas ready".
    @discardableResult
    public func waitFor(
        _ resource: APIResource, namespace: String? = nil, name: String, timeout: Duration,
        condition: @escaping @Sendable (JSONValue?) -> WaitResult
    ) async throws -> JSONValue? {
        let lastReason = Locked("not seen yet")
        let objectName = "\(resource.plural)/\(name)"
        let operation: @Sendable () async throws -> JSONValue? = { [self] in
            let current = try await self.list(resource, namespace: namespace, fieldSelector: "metadata.name=\(name)")
            let object = current.items.first
            switch condition(object) {
            case .satisfied: return object
            case .waiting(let reason): lastReason.withLock { $0 = reason }
            }
            for try await event in self.watch(resource, namespace: namespace, name: name, resourceVersion: current.resourceVersion ?? "0") {
                let seen: JSONValue? = event.type == .deleted ? nil : event.object
                switch condition(seen) {
                case .satisfied: return seen
                case .waiting(let reason): lastReason.withLock { $0 = reason }
                }
            }
            throw KubeError.protocolViolation("watch of \(objectName) ended unexpectedly")
        }
        do {
            return try await withDeadline(timeout, operation: "waiting for \(objectName)", operation)
        } catch KubeError.timeout(_, let seconds) {
            throw KubeError.waitTimedOut(object: objectName, seconds: seconds, lastReason: lastReason.current)
        }
    }
}

/// Ready-made conditions for ``KubeClient/waitFor(_:namespace:name:timeout:condition:)``.
public enum WaitConditions {
    /// The pod exists and its `Ready` condition is `True`.
    public static let podReady: @Sendable (JSONValue?) -> WaitResult = { pod in
        guard let pod else { return .waiting("pod does not exist") }
        let phase = pod[path: ["status", "phase"]]?.string ?? "Unknown"
        if phase == "Failed" || phase == "Succeeded" { return .waiting("pod phase is \(phase)") }
        let ready = (pod[path: ["status", "conditions"]]?.array ?? []).first { $0["type"]?.string == "Ready" }
        if ready?["status"]?.string == "True" { return .satisfied }
        let waitingReasons = (pod[path: ["status", "containerStatuses"]]?.array ?? []).compactMap { status -> String? in
            guard let reason = status[path: ["state", "waiting", "reason"]]?.string else { return nil }
            return "\(status["name"]?.string ?? "container"): \(reason)"
        }
        return .waiting("phase \(phase), not Ready" + (waitingReasons.isEmpty ? "" : " (\(waitingReasons.joined(separator: ", ")))"))
    }

    /// The object is gone.
    public static let deleted: @Sendable (JSONValue?) -> WaitResult = { object in
        object == nil ? .satisfied : .waiting("still exists")
    }

    /// The Deployment's controller has seen the latest spec and `replicas` pods are ready and updated.
    public static func deploymentReady(replicas: Int) -> @Sendable (JSONValue?) -> WaitResult {
        return { deployment in
            guard let deployment else { return .waiting("deployment does not exist") }
            let generation = deployment[path: ["metadata", "generation"]]?.int ?? 0
            let observed = deployment[path: ["status", "observedGeneration"]]?.int ?? 0
            if observed < generation { return .waiting("controller has not observed generation \(generation) yet") }
            let ready = deployment[path: ["status", "readyReplicas"]]?.int ?? 0
            let updated = deployment[path: ["status", "updatedReplicas"]]?.int ?? 0
            let total = deployment[path: ["status", "replicas"]]?.int ?? 0
            if ready == replicas, total == replicas, updated >= replicas || replicas == 0 { return .satisfied }
            return .waiting("\(ready)/\(replicas) replicas ready (\(total) existing, \(updated) updated)")
        }
    }
}
