import KubeModel
import Testing
@testable import SwapPlan

@Suite("The proxy pod built from the pod template")
struct ProxyPodBuilderTests {
    @Test func nameLabelsAndAnnotations() throws {
        let pod = try Fixtures.proxyPod()
        #expect(pod.kind == "Pod")
        #expect(pod.name == "web-swapdev-abc123")
        #expect(pod.namespace == "dev")
        #expect(pod.labels == ["app": "web", "tier": "front", "swapdev.dev/swap": "abc123def456"])
        #expect(pod.labels["pod-template-hash"] == nil)
        #expect(pod.annotations["swapdev.dev/deployment"] == "web")
        #expect(pod.annotations["swapdev.dev/swap-id"] == "abc123def456")
        #expect(pod[path: ["metadata", "ownerReferences"]] == nil)
    }

    @Test func longDeploymentNamesStayAValidHostname() {
        let name = ProxyPodBuilder.podName(deployment: String(repeating: "a", count: 80), record: Fixtures.record)
        #expect(name.count == 63)
        #expect(name.hasSuffix("-swapdev-abc123"))
    }

    @Test func sidecarIsUntouched() throws {
        let pod = try Fixtures.proxyPod()
        #expect(Fixtures.container("sidecar", in: pod) == Fixtures.container("sidecar", in: Fixtures.template))
        #expect(pod[path: ["spec", "containers"]]?.array?.compactMap { $0["name"]?.string } == ["app", "sidecar"])
    }

    @Test func targetBecomesTheProxy() throws {
        let proxy = try #require(Fixtures.container("app", in: try Fixtures.proxyPod()))
        #expect(proxy["image"] == "ghcr.io/swapdev/swapdev-proxy:0.1.0")
        for dropped in ["command", "args", "workingDir", "lifecycle", "startupProbe"] {
            #expect(proxy[dropped] == nil, "\(dropped) should be dropped")
        }
        // Kept as they were: ports (named too), envFrom, resources.
        let original = try #require(Fixtures.container("app", in: Fixtures.template))
        #expect(proxy["ports"] == original["ports"])
        #expect(proxy["envFrom"] == original["envFrom"])
        #expect(proxy["resources"] == original["resources"])
    }

    @Test func probesAreTranslated() throws {
        let proxy = try #require(Fixtures.container("app", in: try Fixtures.proxyPod()))
        #expect(proxy[path: ["readinessProbe", "tcpSocket", "port"]] == 8080)
        #expect(proxy[path: ["readinessProbe", "httpGet"]] == nil)
        #expect(proxy[path: ["readinessProbe", "timeoutSeconds"]] == 2)
        #expect(proxy[path: ["livenessProbe", "tcpSocket", "port"]] == 8022)
        #expect(proxy[path: ["livenessProbe", "httpGet"]] == nil)
    }

    @Test func readinessFallsBackToExposedPortThenSSH() throws {
        var deployment = Fixtures.deployment
        deployment[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "x"]]
        func readinessPort(_ inbound: [InboundForward]) throws -> JSONValue? {
            let pod = try ProxyPodBuilder(deployment: deployment, container: "app", record: Fixtures.record,
                                          proxyImage: "p", authorizedKey: "k", inbound: inbound).build()
            return Fixtures.container("app", in: pod)?[path: ["readinessProbe", "tcpSocket", "port"]]
        }
        #expect(try readinessPort([InboundForward(remotePort: 7000, localPort: 7000)]) == 7000)
        #expect(try readinessPort([]) == 8022)
    }

    @Test func envAndStateVolume() throws {
        let pod = try Fixtures.proxyPod()
        let proxy = try #require(Fixtures.container("app", in: pod))
        let env = proxy["env"]?.array ?? []
        #expect(env.first == ["name": "MODE", "value": "prod"])
        #expect(env.contains(["name": "SWAPDEV_AUTHORIZED_KEY", "value": "ssh-ed25519 AAAAC3Nza swapdev-abc123"]))
        #expect(env.contains(["name": "SWAPDEV_STATE_DIR", "value": "/var/run/swapdev"]))
        let mounts = proxy["volumeMounts"]?.array ?? []
        #expect(mounts.count == 3)
        #expect(mounts.contains(["name": "swapdev-state", "mountPath": "/var/run/swapdev"]))
        let volumes = pod[path: ["spec", "volumes"]]?.array ?? []
        #expect(volumes.count == 3)
        #expect(volumes.contains(["name": "config", "configMap": ["name": "web-config"]]))
        #expect(volumes.contains(["name": "swapdev-state", "emptyDir": [:]]))
        #expect(pod[path: ["spec", "serviceAccountName"]] == "web-sa")
    }

    @Test func restrictedSecurityContext() throws {
        let pod = try Fixtures.proxyPod()
        let context = try #require(Fixtures.container("app", in: pod)?["securityContext"])
        #expect(context["runAsNonRoot"] == true)
        #expect(context["runAsUser"] == 1000)
        #expect(context["allowPrivilegeEscalation"] == false)
        #expect(context[path: ["capabilities", "drop"]] == ["ALL"])
        #expect(context[path: ["seccompProfile", "type"]] == "RuntimeDefault")
        #expect(context["privileged"] == nil)
        // The pod keeps its own context (fsGroup) for the sidecars.
        #expect(pod[path: ["spec", "securityContext", "fsGroup"]] == 2000)
        #expect(pod[path: ["spec", "securityContext", "seccompProfile", "type"]] == "RuntimeDefault")
    }

    @Test func lowPortsGetTheUnprivilegedPortSysctl() throws {
        #expect(try Fixtures.proxyPod()[path: ["spec", "securityContext", "sysctls"]] == nil)
        let pod = try Fixtures.proxyPod(inbound: [InboundForward(remotePort: 80, localPort: 8000)])
        #expect(pod[path: ["spec", "securityContext", "sysctls"]] == [["name": "net.ipv4.ip_unprivileged_port_start", "value": "0"]])
    }

    @Test func unknownContainerIsAnError() {
        #expect(throws: SwapPlanError.self) {
            try ProxyPodBuilder(deployment: Fixtures.deployment, container: "nope", record: Fixtures.record,
                                proxyImage: "p", authorizedKey: "k").build()
        }
        #expect(throws: SwapPlanError.missingPodTemplate(deployment: "x")) {
            try ProxyPodBuilder(deployment: ["metadata": ["name": "x"]], container: "app", record: Fixtures.record,
                                proxyImage: "p", authorizedKey: "k").build()
        }
    }
}

@Suite("Proxy pod states while swapdev waits")
struct ProxyPodStateTests {
    static func pod(phase: String = "Pending", waiting: (String, String)? = nil, running: Bool = false, ready: Bool = false,
                    unschedulable: Bool = false) -> JSONValue {
        var status: JSONValue = ["name": "app", "image": "ghcr.io/swapdev/swapdev-proxy:0.1.0"]
        if let waiting { status["state"] = ["waiting": ["reason": .string(waiting.0), "message": .string(waiting.1)]] }
        if running { status["state"] = ["running": ["startedAt": "now"]] }
        var conditions: [JSONValue] = [["type": "Ready", "status": ready ? "True" : "False"]]
        if unschedulable {
            conditions.append(["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"])
        }
        return ["status": ["phase": .string(phase), "conditions": .array(conditions), "containerStatuses": [status]]]
    }

    @Test func classifies() {
        #expect(ProxyPodState.of(Self.pod(), container: "app") == .starting("Pending"))
        #expect(ProxyPodState.of(Self.pod(waiting: ("ContainerCreating", "")), container: "app") == .starting("ContainerCreating"))
        #expect(ProxyPodState.of(Self.pod(phase: "Running", running: true), container: "app") == .running(ready: false))
        #expect(ProxyPodState.of(Self.pod(phase: "Running", running: true, ready: true), container: "app") == .running(ready: true))
    }

    @Test func imagePullFailureSaysHowToBuildAndPush() {
        let state = ProxyPodState.of(Self.pod(waiting: ("ImagePullBackOff", "Back-off pulling image")), container: "app")
        guard case .failed(let failure) = state else {
            Issue.record("expected a failure, got \(state)")
            return
        }
        #expect(failure.description.contains("ghcr.io/swapdev/swapdev-proxy:0.1.0"))
        #expect(failure.description.contains("scripts/build-proxy-image.sh --push --tag"))
        #expect(failure.description.contains("--proxy-image"))
    }

    @Test func unschedulableAndCrashLoop() {
        #expect(ProxyPodState.of(Self.pod(unschedulable: true), container: "app") == .failed(.unschedulable(message: "0/3 nodes are available")))
        #expect(ProxyPodState.of(Self.pod(phase: "Running", waiting: ("CrashLoopBackOff", "back-off 10s")), container: "app")
            == .failed(.crashLoop(reason: "CrashLoopBackOff", message: "back-off 10s")))
    }
}
