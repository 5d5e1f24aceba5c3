import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

@Suite("Controllers: pods, deployments, endpoints, deletion", .serialized, .timeLimit(.minutes(1)))
struct ControllerTests {
    @Test func podLifecycleAndGracefulDeletionLeavesEndpointsFirst() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/services", Fixtures.service("web", selector: ["app": "web"]))
        let created = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod("web-1"))
        #expect(created.code == 201)
        #expect(created.body[path: ["status", "phase"]]?.string == "Pending")
        let path = "/api/v1/namespaces/default/pods/web-1"
        #expect(await sandbox.eventually("pod ready") {
            let pod = await sandbox.call("GET", path).body
            return (pod[path: ["status", "conditions"]]?.array ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
        })
        let pod = await sandbox.call("GET", path).body
        #expect(pod[path: ["status", "phase"]]?.string == "Running")
        #expect(pod[path: ["status", "containerStatuses"]]?[0]?["restartCount"]?.int == 0)
        #expect(pod[path: ["status", "containerStatuses"]]?[0]?[path: ["state", "running", "startedAt"]] != nil)
        #expect(pod[path: ["status", "podIP"]]?.string?.hasPrefix("10.244.") == true)
        #expect(pod[path: ["status", "hostIP"]]?.string == "10.244.0.1")
        #expect(pod[path: ["status", "startTime"]] != nil)
        let conditionTypes = Set((pod[path: ["status", "conditions"]]?.array ?? []).compactMap { $0["type"]?.string })
        #expect(conditionTypes.isSuperset(of: ["Ready", "ContainersReady", "Initialized", "PodScheduled"]))
        // The service-account token volume was added and its content resolved.
        let spec = await sandbox.runtime.specs[pod.uid ?? ""]
        #expect(spec?.containers.first?.volumeMounts.contains { $0.mountPath == "/var/run/secrets/kubernetes.io/serviceaccount" } == true)
        #expect(spec?.containers.first?.environment.contains { $0.name == "KUBERNETES_SERVICE_HOST" && $0.value == "10.96.0.1" } == true)
        #expect(spec?.containers.first?.environment.contains { $0.name == "WEB_SERVICE_PORT" && $0.value == "80" } == true)

        #expect(await sandbox.eventually("endpoints list the pod") {
            let endpoints = await sandbox.call("GET", "/api/v1/namespaces/default/endpoints/web").body
            return endpoints[path: ["subsets"]]?[0]?["addresses"]?[0]?["ip"] == pod[path: ["status", "podIP"]]
                && endpoints[path: ["subsets"]]?[0]?["ports"]?[0]?["port"]?.int == 8080
        })
        let route = await sandbox.runtime.routes.first { $0.name == "web" }
        #expect(route?.ports.first?.endpoints.first?.port == 8080)
        let api = await sandbox.runtime.routes.first { $0.name == "kubernetes" }
        #expect(api?.clusterIP == "10.96.0.1")
        #expect(api?.ports.first?.endpoints.first == .init(ip: "127.0.0.1", port: sandbox.cluster.port))

        let deleted = await sandbox.call("DELETE", path)
        #expect(deleted.code == 200)
        #expect(deleted.body[path: ["metadata", "deletionTimestamp"]] != nil, "a running pod is deleted gracefully")
        #expect(await sandbox.eventually("pod gone") { await sandbox.call("GET", path).code == 404 })
        let journal = await sandbox.runtime.journal
        let stop = try #require(journal.firstIndex(of: "stop web-1"), "\(journal)")
        let earlier = journal[..<stop]
        #expect(earlier.contains { $0.contains("web=10.244.") }, "the pod was an endpoint: \(journal)")
        #expect(earlier.last { $0.hasPrefix("services ") }?.hasSuffix("web=") == true,
                "endpoints drop the pod before it is stopped: \(journal)")
    }

    @Test func unreadyPodsAreNotReadyAddresses() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        await sandbox.runtime.markUnready(podName: "slow")
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/services", Fixtures.service("web", selector: ["app": "web"]))
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod("slow"))
        #expect(await sandbox.eventually("not-ready address") {
            let endpoints = await sandbox.call("GET", "/api/v1/namespaces/default/endpoints/web").body
            return endpoints[path: ["subsets"]]?[0]?["notReadyAddresses"]?.array?.count == 1
                && endpoints[path: ["subsets"]]?[0]?["addresses"] == nil
        })
        let uid = await sandbox.call("GET", "/api/v1/namespaces/default/pods/slow").body.uid ?? ""
        await sandbox.runtime.setReady(uid: uid, ready: true)
        #expect(await sandbox.eventually("ready address") {
            await sandbox.call("GET", "/api/v1/namespaces/default/endpoints/web").body[path: ["subsets"]]?[0]?["addresses"]?.array?.count == 1
        })
    }

    @Test func deploymentControllerStatusScaleAndCascade() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment("app", replicas: 2))
        let path = "/apis/apps/v1/namespaces/default/deployments/app"
        #expect(await sandbox.eventually("deployment available") {
            let status = await sandbox.call("GET", path).body["status"] ?? .null
            return status["readyReplicas"]?.int == 2 && status["availableReplicas"]?.int == 2 && status["updatedReplicas"]?.int == 2
        })
        let deployment = await sandbox.call("GET", path).body
        #expect(deployment[path: ["status", "observedGeneration"]]?.int == 1)
        let conditions = deployment[path: ["status", "conditions"]]?.array ?? []
        #expect(conditions.contains { $0["type"] == "Available" && $0["status"] == "True" })
        #expect(conditions.contains { $0["type"] == "Progressing" && $0["reason"] == "NewReplicaSetAvailable" })
        let pods = await sandbox.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dapp").body["items"]?.array ?? []
        #expect(pods.count == 2)
        #expect(pods.allSatisfy { $0[path: ["metadata", "ownerReferences"]]?[0]?["uid"] == deployment[path: ["metadata", "uid"]] })

        // A template change replaces the pods.
        let oldNames = Set(pods.compactMap(\.name))
        _ = await sandbox.patch(path, #"{"spec":{"template":{"metadata":{"labels":{"app":"app","v":"2"}}}}}"#, contentType: "application/strategic-merge-patch+json")
        #expect(await sandbox.eventually("rollout done") {
            let all = await sandbox.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dapp").body["items"]?.array ?? []
            let status = await sandbox.call("GET", path).body
            return all.count == 2 && Set(all.compactMap(\.name)).isDisjoint(with: oldNames)
                && status[path: ["status", "observedGeneration"]]?.int == 2 && status[path: ["status", "availableReplicas"]]?.int == 2
        })

        _ = await sandbox.patch(path + "/scale", #"{"spec":{"replicas":0}}"#, contentType: "application/merge-patch+json")
        #expect(await sandbox.eventually("scaled to zero") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods").body["items"]?.array?.isEmpty == true
        })
        _ = await sandbox.patch(path + "/scale", #"{"spec":{"replicas":1}}"#, contentType: "application/merge-patch+json")
        #expect(await sandbox.eventually("scaled to one") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods").body["items"]?.array?.count == 1
        })

        // Orphan: the pod stays, without its ownerReference.
        let orphan = await sandbox.call("DELETE", path, ["propagationPolicy": "Orphan"])
        #expect(orphan.code == 200)
        #expect(await sandbox.eventually("deployment gone") { await sandbox.call("GET", path).code == 404 })
        let left = await sandbox.call("GET", "/api/v1/namespaces/default/pods").body["items"]?.array ?? []
        #expect(left.count == 1 && left.first?[path: ["metadata", "ownerReferences"]] == nil)
    }

    @Test func backgroundAndForegroundCascade() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        for name in ["bg", "fg"] {
            _ = await sandbox.call("POST", "/apis/apps/v1/namespaces/default/deployments", Fixtures.deployment(name, replicas: 1))
        }
        #expect(await sandbox.eventually("two pods") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods").body["items"]?.array?.count == 2
        })
        _ = await sandbox.call("DELETE", "/apis/apps/v1/namespaces/default/deployments/bg?propagationPolicy=Background")
        #expect(await sandbox.call("GET", "/apis/apps/v1/namespaces/default/deployments/bg").code == 404)
        #expect(await sandbox.eventually("bg pod gone") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dbg").body["items"]?.array?.isEmpty == true
        })

        let foreground = await sandbox.call("DELETE", "/apis/apps/v1/namespaces/default/deployments/fg", ["propagationPolicy": "Foreground"])
        #expect(foreground.body[path: ["metadata", "finalizers"]]?.array?.contains("foregroundDeletion") == true)
        #expect(await sandbox.eventually("fg deployment and pod gone") {
            let pods = await sandbox.call("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dfg").body["items"]?.array ?? [.null]
            let owner = await sandbox.call("GET", "/apis/apps/v1/namespaces/default/deployments/fg").code
            return pods.isEmpty && owner == 404
        })
    }

    @Test func missingConfigAndUnpullableImages() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let env: JSONValue = [["name": "LEVEL", "valueFrom": ["configMapKeyRef": ["name": "late", "key": "level"]]]]
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", Fixtures.pod("waits", env: env))
        #expect(await sandbox.eventually("CreateContainerConfigError") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods/waits").body[path: ["status", "containerStatuses"]]?[0]?[path: ["state", "waiting", "reason"]]?.string == "CreateContainerConfigError"
        })
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("late", data: ["level": "debug"]))
        #expect(await sandbox.eventually("started after the ConfigMap appeared") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods/waits").body[path: ["status", "phase"]]?.string == "Running"
        })
        let uid = await sandbox.call("GET", "/api/v1/namespaces/default/pods/waits").body.uid ?? ""
        #expect(await sandbox.runtime.specs[uid]?.containers.first?.environment.contains { $0.name == "LEVEL" && $0.value == "debug" } == true)

        var bad = Fixtures.pod("bad")
        bad[path: ["spec", "containers"]] = [["name": "main", "image": "example.com/does-not-exist:1"]]
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", bad)
        #expect(await sandbox.eventually("ImagePullBackOff") {
            let waiting = await sandbox.call("GET", "/api/v1/namespaces/default/pods/bad").body[path: ["status", "containerStatuses"]]?[0]?[path: ["state", "waiting"]]
            return waiting?["reason"]?.string == "ImagePullBackOff" && waiting?["message"]?.string == "Back-off pulling image \"example.com/does-not-exist:1\""
        })
        var noCommand = Fixtures.pod("nocmd")
        noCommand[path: ["spec", "containers"]] = [["name": "main", "image": "nginx:1.27"]]
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", noCommand)
        #expect(await sandbox.eventually("no command explained") {
            let waiting = await sandbox.call("GET", "/api/v1/namespaces/default/pods/nocmd").body[path: ["status", "containerStatuses"]]?[0]?[path: ["state", "waiting"]]
            return waiting?["reason"]?.string == "ErrImagePull" && waiting?["message"]?.string?.contains("explicit command") == true
        })
        var proxy = Fixtures.pod("proxy")
        proxy[path: ["spec", "containers"]] = [["name": "main", "image": "ghcr.io/swapdev/swapdev-proxy:0.1.0"]]
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/pods", proxy)
        #expect(await sandbox.eventually("proxy image runs without a command") {
            await sandbox.call("GET", "/api/v1/namespaces/default/pods/proxy").body[path: ["status", "phase"]]?.string == "Running"
        })
    }

    @Test func namespacesAndServiceAccounts() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        #expect(await sandbox.call("POST", "/api/v1/namespaces", ["metadata": ["name": "team"]]).code == 201)
        let account = await sandbox.call("GET", "/api/v1/namespaces/team/serviceaccounts/default")
        #expect(account.code == 200)
        let secret = await sandbox.call("GET", "/api/v1/namespaces/team/secrets/default-token").body
        let token = secret[path: ["data", "token"]]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(!token.isEmpty)
        let review = await sandbox.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"],
                                        headers: ["authorization": "Bearer \(token)"])
        #expect(review.body[path: ["status", "userInfo", "username"]]?.string == "system:serviceaccount:team:default")
        let access = await sandbox.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                        ["spec": ["resourceAttributes": ["verb": "get", "resource": "pods"]]])
        #expect(access.body[path: ["status", "allowed"]]?.bool == true)
        #expect(await sandbox.call("GET", "/api/v1/namespaces", headers: ["authorization": "Bearer wrong"]).code == 401)

        _ = await sandbox.call("POST", "/api/v1/namespaces/team/configmaps", Fixtures.configMap("c"))
        #expect(await sandbox.call("DELETE", "/api/v1/namespaces/team").code == 200)
        #expect(await sandbox.eventually("namespace gone") { await sandbox.call("GET", "/api/v1/namespaces/team").code == 404 })
        #expect(await sandbox.call("DELETE", "/api/v1/namespaces/default").code == 403)
    }

    @Test func discovery() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let core = await sandbox.call("GET", "/api/v1").body["resources"]?.array ?? []
        #expect(core.contains { $0["name"] == "pods" && $0["shortNames"] == ["po"] && $0["namespaced"] == true })
        #expect(core.contains { $0["name"] == "pods/exec" })
        #expect(core.contains { $0["name"] == "pods/portforward" })
        let apps = await sandbox.call("GET", "/apis/apps/v1").body["resources"]?.array ?? []
        #expect(apps.contains { $0["name"] == "deployments/scale" && $0["kind"] == "Scale" })
        #expect(apps.contains { $0["name"] == "deployments" && $0["shortNames"] == ["deploy"] })
        let groups = await sandbox.call("GET", "/apis").body["groups"]?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(Set(groups).isSuperset(of: ["apps", "autoscaling", "rbac.authorization.k8s.io", "coordination.k8s.io"]))
        #expect(await sandbox.call("GET", "/version").body["major"] == "1")
        #expect(await sandbox.call("GET", "/apis/autoscaling/v1").code == 200)
    }
}
