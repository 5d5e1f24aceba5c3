import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// Creates and tears down a swap's dead-man switch (see ``DeadManPlan``).
///
/// Order matters for crash safety: the ServiceAccount, its token Secret, the Role and the
/// RoleBinding are created before the proxy pod (the pod mounts the Secret), all labelled
/// `swapdev.dev/swap=<id>`; once the pod exists they get an ownerReference to it. A swapdev
/// killed in between leaves labelled objects that `swapdev restore` removes.
public struct DeadManSwitch: Sendable {
    public let client: KubeClient
    public let plan: DeadManPlan

    public init(client: KubeClient, plan: DeadManPlan) {
        self.client = client
        self.plan = plan
    }

    /// Creates the four objects. An existing token Secret (clusters whose token controller
    /// makes `<sa>-token` itself, like the sandbox) is labelled instead of created.
    public func prepare() async throws {
        for (resource, object) in plan.objects {
            do {
                _ = try await client.create(resource, namespace: plan.namespace, object: object)
            } catch KubeError.alreadyExists where resource == .secrets {
                _ = try await client.patch(.secrets, namespace: plan.namespace, name: plan.secretName, type: .merge,
                                           patch: ["metadata": ["labels": [SwapRecord.swapLabel: .string(plan.record.id)]]])
            }
        }
        try await waitForToken()
    }

    /// Waits (briefly) until the token controller has filled in the Secret, so the pod mounts a
    /// usable token. A cluster that never fills it gets a switch that cannot act: say so.
    private func waitForToken(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let secret = try await client.get(.secrets, namespace: plan.namespace, name: plan.secretName)
            if let token = secret[path: ["data", "token"]]?.string, !token.isEmpty { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw DeadManError.noToken(secret: plan.secretName, namespace: plan.namespace)
    }

    /// Makes the proxy pod the owner of the four objects, so they go when it goes.
    ///
    /// The four patches go out at once: a swapdev killed between them leaves an object the pod
    /// does not own (the switch still restores, but that object needs `swapdev restore`), and
    /// one round trip is a much smaller window than four.
    public func adopt(podUID: String) async throws {
        let patch = DeadManPlan.ownerPatch(podName: plan.record.proxyPod, podUID: podUID)
        let (client, namespace) = (client, plan.namespace)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (resource, object) in plan.objects {
                let name = object.name ?? ""
                group.addTask {
                    _ = try await client.patch(resource, namespace: namespace, name: name, type: .merge, patch: patch)
                }
            }
            try await group.waitForAll()
        }
    }

    /// Deletes the four objects (setup failed before the pod owned them). Never throws.
    public func remove() async {
        for (resource, object) in plan.objects.reversed() {
            _ = try? await client.delete(resource, namespace: plan.namespace, name: object.name ?? "")
        }
    }
}

/// Why the dead-man switch could not be set up; the swap goes on without it.
public enum DeadManError: Error, Sendable, CustomStringConvertible {
    case noToken(secret: String, namespace: String)

    public var description: String {
        switch self {
        case .noToken(let secret, let namespace):
            return "the token controller did not fill Secret \(namespace)/\(secret) within 10s; the dead-man switch cannot log in — "
                + "if swapdev dies, run swapdev restore"
        }
    }
}
