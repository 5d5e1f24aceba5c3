import Foundation
import KubeModel
import SwapPlan
import Testing

@Suite("dead-man switch objects and KEDA pause")
struct DeadManPlanTests {
    static let record = SwapRecord(id: "abcdef123456", originalReplicas: 3, container: "app", owner: "me@laptop",
                                   startedAt: Date(timeIntervalSince1970: 1_800_000_000), proxyPod: "web-swapdev-abcdef")
    static let plan = DeadManPlan(namespace: "dev", deployment: "web", record: record, timeoutSeconds: 20, scaledObjects: ["web-so"])

    @Test func theRoleGrantsExactlyTheNamedObjects() throws {
        let rules = try #require(Self.plan.role["rules"]?.array)
        #expect(rules.count == 4)
        for rule in rules {
            // Every rule names its objects: no wildcard access to anything else.
            #expect(rule["resourceNames"]?.array?.isEmpty == false)
        }
        #expect(rules[0] == ["apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"], "verbs": ["get", "patch"]])
        #expect(rules[1] == ["apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["web"], "verbs": ["get", "patch", "update"]])
        #expect(rules[2] == ["apiGroups": [""], "resources": ["pods"], "resourceNames": ["web-swapdev-abcdef"], "verbs": ["get", "delete"]])
        #expect(rules[3]["resourceNames"] == ["web-so"])
        let noKEDA = DeadManPlan(namespace: "dev", deployment: "web", record: Self.record, timeoutSeconds: 20)
        #expect(noKEDA.role["rules"]?.array?.count == 3)
    }

    @Test func everyObjectIsLabelledAndBound() {
        for (_, object) in Self.plan.objects {
            #expect(object.labels[SwapRecord.swapLabel] == "abcdef123456")
            #expect(object.namespace == "dev")
        }
        #expect(Self.plan.name == "swapdev-deadman-abcdef")
        #expect(Self.plan.tokenSecret["type"] == "kubernetes.io/service-account-token")
        #expect(Self.plan.tokenSecret.annotations["kubernetes.io/service-account.name"] == "swapdev-deadman-abcdef")
        #expect(Self.plan.roleBinding[path: ["roleRef", "name"]] == "swapdev-deadman-abcdef")
        #expect(Self.plan.roleBinding["subjects"]?[0]?["name"] == "swapdev-deadman-abcdef")
        #expect(Self.plan.objects.map { $0.resource.kind } == ["ServiceAccount", "Secret", "Role", "RoleBinding"])
    }

    @Test func theOwnerPatchPointsAtTheProxyPod() {
        let patch = DeadManPlan.ownerPatch(podName: "web-swapdev-abcdef", podUID: "uid-1")
        #expect(patch[path: ["metadata", "ownerReferences"]]?[0]?["uid"] == "uid-1")
        #expect(patch[path: ["metadata", "ownerReferences"]]?[0]?["kind"] == "Pod")
    }

    @Test func augmentAddsCredentialsAndEnvToTheProxyContainerOnly() throws {
        let pod: JSONValue = ["spec": [
            "volumes": [["name": "data", "emptyDir": .emptyObject]],
            "containers": [["name": "app", "env": [["name": "MODE", "value": "x"]]], ["name": "sidecar"]],
        ]]
        let augmented = Self.plan.augment(pod: Self.plan.augment(pod: pod, container: "app"), container: "app")
        let volumes = try #require(augmented[path: ["spec", "volumes"]]?.array)
        #expect(volumes.count == 2)  // idempotent: augmenting twice adds it once
        #expect(volumes[1][path: ["secret", "secretName"]] == "swapdev-deadman-abcdef-token")
        let app = try #require(augmented[path: ["spec", "containers"]]?[0])
        let env = Dictionary(uniqueKeysWithValues: (app["env"]?.array ?? []).compactMap { e in e["name"]?.string.map { ($0, e["value"]?.string ?? "") } })
        #expect(env["MODE"] == "x")
        #expect(env[DeadManPlan.Env.deployment] == "web")
        #expect(env[DeadManPlan.Env.pod] == "web-swapdev-abcdef")
        #expect(env[DeadManPlan.Env.swapID] == "abcdef123456")
        #expect(env[DeadManPlan.Env.timeout] == "20")
        #expect(env[DeadManPlan.Env.scaledObjects] == "web-so")
        #expect(app["volumeMounts"]?.array?.count == 1)
        #expect(app["volumeMounts"]?[0]?["mountPath"]?.string == DeadManPlan.credentialsPath)
        #expect(augmented[path: ["spec", "containers"]]?[1] == ["name": "sidecar"])
    }

    @Test func kedaPauseRemembersAndUnpauseRestoresEarlierValues() throws {
        let fresh: JSONValue = ["metadata": ["name": "web-so"]]
        let pause = GuardKEDA.pausePatch(scaledObject: fresh, swapID: "abc")
        var paused = fresh
        paused.annotations = pause[path: ["metadata", "annotations"]]?.stringMap ?? [:]
        #expect(paused.annotations[GuardKEDA.pausedReplicas] == "0")
        #expect(GuardKEDA.isPaused(paused, by: "abc"))
        #expect(!GuardKEDA.isPaused(paused, by: "other"))
        let unpause = try #require(GuardKEDA.unpausePatch(scaledObject: paused))
        #expect(unpause == ["metadata": ["annotations": [
            GuardKEDA.pausedReplicas: .null, GuardKEDA.paused: .null, GuardKEDA.pausedBy: .null, GuardKEDA.pausedBefore: .null,
        ]]])
        #expect(GuardKEDA.unpausePatch(scaledObject: fresh) == nil)

        // A ScaledObject its owner had paused keeps that pause after the swap.
        var owned: JSONValue = ["metadata": ["name": "web-so"]]
        owned.annotations = [GuardKEDA.paused: "true"]
        var pausedOwned = owned
        for (key, value) in GuardKEDA.pausePatch(scaledObject: owned, swapID: "abc")[path: ["metadata", "annotations"]]?.stringMap ?? [:] {
            pausedOwned.annotations[key] = value
        }
        let back = try #require(GuardKEDA.unpausePatch(scaledObject: pausedOwned))
        #expect(back[path: ["metadata", "annotations", GuardKEDA.paused]] == "true")
        #expect(back[path: ["metadata", "annotations", GuardKEDA.pausedReplicas]] == .null)
    }
}
