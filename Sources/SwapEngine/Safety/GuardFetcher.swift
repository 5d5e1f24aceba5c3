import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// Reads what ``SwapGuards/evaluate(_:)`` needs: autoscalers, KEDA ScaledObjects and the
/// user's permissions (SelfSubjectAccessReviews). Changes nothing.
public struct GuardFetcher: Sendable {
    public let client: KubeClient
    public let namespace: String

    public init(client: KubeClient, namespace: String) {
        self.client = client
        self.namespace = namespace
    }

    /// What a swap of `deployment` does, as access reviews.
    public static func swapPermissions(deployment: String) -> [RequiredPermission] {
        [
            RequiredPermission("get", "deployments", group: "apps"),
            RequiredPermission("patch", "deployments", group: "apps"),
            RequiredPermission("patch", "deployments", group: "apps", subresource: "scale"),
            RequiredPermission("create", "pods"),
            RequiredPermission("get", "pods"),
            RequiredPermission("delete", "pods"),
            RequiredPermission("create", "pods", subresource: "portforward"),
            RequiredPermission("get", "pods", subresource: "log"),
        ]
    }

    /// What the dead-man switch's setup does.
    public static let deadManPermissions: [RequiredPermission] = {
        var list: [RequiredPermission] = []
        for verb in ["create", "patch", "delete"] {
            list.append(RequiredPermission(verb, "serviceaccounts"))
            list.append(RequiredPermission(verb, "secrets"))
            list.append(RequiredPermission(verb, "roles", group: "rbac.authorization.k8s.io"))
            list.append(RequiredPermission(verb, "rolebindings", group: "rbac.authorization.k8s.io"))
        }
        return list
    }()

    /// Fetches the guard input for `deployment` (as already read).
    public func fetch(deployment: JSONValue, restoreAfter: Duration, owner: String = SwapRecord.currentOwner()) async -> GuardInput {
        let name = deployment.name ?? ""
        async let hpas = autoscalers()
        async let scaled = scaledObjects()
        async let missing = missingPermissions(Self.swapPermissions(deployment: name), name: name)
        async let missingDeadMan = missingPermissions(Self.deadManPermissions, name: nil)
        let seconds = Double(restoreAfter.components.seconds) + Double(restoreAfter.components.attoseconds) / 1e18
        return GuardInput(deployment: deployment, horizontalPodAutoscalers: await hpas, scaledObjects: await scaled,
                          missingPermissions: await missing, missingDeadManPermissions: await missingDeadMan,
                          currentOwner: owner, now: Date(), restoreAfter: seconds)
    }

    /// HPAs in the namespace, `autoscaling/v2` then `v1`; none when neither can be listed.
    func autoscalers() async -> [JSONValue] {
        if let list = try? await client.list(.horizontalPodAutoscalers, namespace: namespace) { return list.items }
        var v1 = APIResource.horizontalPodAutoscalers
        v1.version = "v1"
        return (try? await client.list(v1, namespace: namespace).items) ?? []
    }

    /// ScaledObjects in the namespace; `nil` when KEDA is not installed (404 on its group).
    func scaledObjects() async -> [JSONValue]? {
        do {
            return try await client.list(GuardKEDA.scaledObjects, namespace: namespace).items
        } catch {
            return nil
        }
    }

    /// The permissions the server says no to. A review that cannot be made (no
    /// SelfSubjectAccessReview API) counts as granted: the request itself will tell.
    func missingPermissions(_ permissions: [RequiredPermission], name: String?) async -> [String] {
        await withTaskGroup(of: (Int, Bool).self) { group in
            for (index, permission) in permissions.enumerated() {
                group.addTask { [client, namespace] in
                    let allowed = (try? await client.accessReview(
                        verb: permission.verb, resource: permission.resource, group: permission.group,
                        subresource: permission.subresource, namespace: namespace,
                        name: permission.resource == "deployments" ? name : nil)) ?? true
                    return (index, allowed)
                }
            }
            var denied: [Int] = []
            for await (index, allowed) in group where !allowed { denied.append(index) }
            return denied.sorted().map { permissions[$0].description }
        }
    }
}
