import Foundation
import KubeModel
import SwapPlan
import SyncCore
import Testing
@testable import DevLoop

@Suite struct DevPodBuilderTests {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "web", "namespace": "team", "resourceVersion": "7"],
        "spec": [
            "replicas": 2,
            "selector": ["matchLabels": ["app": "web"]],
            "template": [
                "metadata": ["labels": ["app": "web", "pod-template-hash": "abc"], "annotations": ["note": "kept"]],
                "spec": [
                    "containers": [
                        [
                            "name": "web", "image": "python:3.12", "command": ["python3"], "args": ["app.py"],
                            "workingDir": "/app",
                            "env": [["name": "MODE", "value": "prod"], ["name": "KEEP", "value": "1"]],
                            "livenessProbe": ["httpGet": ["port": 8000]], "readinessProbe": ["httpGet": ["port": 8000]],
                        ],
                        ["name": "sidecar", "image": "envoy", "command": ["envoy"]],
                    ],
                ],
            ],
        ],
    ]

    static let record = SwapRecord(id: "abcdef123456", originalReplicas: 2, container: "web", owner: "me@host",
                                   startedAt: Date(timeIntervalSince1970: 0), proxyPod: "web-dev-abcdef")

    func builder(_ options: DevOptions) -> DevPodBuilder {
        DevPodBuilder(deployment: Self.deployment, container: "web", record: Self.record, options: options)
    }

    @Test func wrapsTheContainerCommandAndDropsProbes() throws {
        let options = DevOptions(target: SwapTarget(deployment: "web"), image: "python:3.13", environment: ["MODE": "dev"])
        let pod = try builder(options).build()
        #expect(pod.name == "web-dev-abcdef")
        #expect(pod.namespace == "team")
        #expect(pod.labels == ["app": "web", SwapRecord.swapLabel: "abcdef123456"])
        #expect(pod.annotations["note"] == "kept")
        #expect(pod.annotations[SwapRecord.deploymentAnnotation] == "web")
        let containers = try #require(pod[path: ["spec", "containers"]]?.array)
        #expect(containers.count == 2)
        let web = containers[0]
        #expect(web["image"]?.string == "python:3.13")
        let command = web["command"]?.array?.compactMap(\.string) ?? []
        let wrapped = SupervisorScript.wrap(["python3", "app.py"])
        #expect(command.count == wrapped.count)
        #expect(command[2] == wrapped[2].replacingOccurrences(of: "$", with: "$$"), "the kubelet turns $$ back into $")
        #expect(Array(command.suffix(2)) == ["python3", "app.py"])
        #expect(web["args"] == nil)
        #expect(web["livenessProbe"] == nil && web["readinessProbe"] == nil)
        let env = (web["env"]?.array ?? []).compactMap { entry -> (String, String)? in
            guard let name = entry["name"]?.string, let value = entry["value"]?.string else { return nil }
            return (name, value)
        }
        #expect(env.map(\.0) == ["KEEP", "MODE", "SWAPDEV_STATE"])
        #expect(env.first { $0.0 == "MODE" }?.1 == "dev")
        #expect(env.first { $0.0 == "SWAPDEV_STATE" }?.1 == "/tmp/swapdev-abcdef123456")
        #expect(containers[1]["command"]?.array?.first?.string == "envoy", "other containers are untouched")
    }

    @Test func runOverridesTheCommandAndProbesCanBeKept() throws {
        let options = DevOptions(target: SwapTarget(deployment: "web"), run: ["sh", "-c", "echo $HOME"], keepProbes: true)
        let pod = try builder(options).build()
        let web = try #require(pod[path: ["spec", "containers"]]?[0])
        let command = web["command"]?.array?.compactMap(\.string) ?? []
        #expect(Array(command.suffix(3)) == ["sh", "-c", "echo $$HOME"], "a --run command is literal, so its $ is escaped")
        #expect(web["livenessProbe"] != nil)
    }

    @Test func syncDefaultsToTheWorkingDirectory() throws {
        let rules = try builder(DevOptions(target: SwapTarget(deployment: "web"))).syncRules()
        #expect(rules == [SyncRule(local: ".", remote: "/app")])
        let explicit = try builder(DevOptions(target: SwapTarget(deployment: "web"), syncRules: [SyncRule(local: "src", remote: "/srv")])).syncRules()
        #expect(explicit == [SyncRule(local: "src", remote: "/srv")])
    }

    @Test func containerWithoutCommandNeedsRun() {
        let sidecarless = DevPodBuilder(deployment: Self.deployment, container: "web", record: Self.record,
                                        options: DevOptions(target: SwapTarget(deployment: "web")))
        #expect(throws: Never.self) { try sidecarless.processArgv() }
        var noCommand = Self.deployment
        noCommand[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "x"]]
        let builder = DevPodBuilder(deployment: noCommand, container: "web", record: Self.record,
                                    options: DevOptions(target: SwapTarget(deployment: "web")))
        #expect(throws: DevError.noCommand(deployment: "web", container: "web")) { try builder.build() }
    }

    @Test func podNamesStayValid() {
        let long = String(repeating: "a", count: 70)
        let name = DevPodBuilder.podName(deployment: long, record: Self.record)
        #expect(name.count <= 63)
        #expect(name.hasSuffix("-dev-abcdef"))
    }

    @Test func summaryIsOneLine() {
        let summary = SyncSummary(uploadedFiles: 2, uploadedBytes: 2048, deletedPaths: 1, saveToSynced: .milliseconds(84),
                                  saveToRestarted: .milliseconds(130))
        #expect(summary.description == "sync: 2 files (2.0 KB), 1 deleted — save → synced 84 ms → restarted 130 ms")
        #expect(!DevEvent.synced(summary).description.contains("\n"))
    }
}
