import Foundation
import KubeEnvironment
import KubeModel
import Testing

@Suite("Container environment follows makeEnvironmentVariables")
struct ContainerEnvironmentTests {
    static func secret(_ data: [String: String]) -> JSONValue {
        ["kind": "Secret", "data": JSONValue(stringMap: data.mapValues { Data($0.utf8).base64EncodedString() })]
    }

    static let sources = EnvironmentSources(
        configMaps: [
            "app-config": ["data": ["LOG_LEVEL": "debug", "MODE": "dev"]],
            "other": ["data": ["MODE": "other"]],
        ],
        secrets: ["db": secret(["password": "s3cret", "user": "app"])],
        services: [
            ["metadata": ["name": "redis-cache", "namespace": "dev"],
             "spec": ["clusterIP": "10.96.0.20", "ports": [["name": "redis", "port": 6379, "protocol": "TCP"]]]],
            ["metadata": ["name": "headless", "namespace": "dev"], "spec": ["clusterIP": "None", "ports": [["port": 80]]]],
        ],
        kubernetesService: ["metadata": ["name": "kubernetes", "namespace": "default"],
                            "spec": ["clusterIP": "10.96.0.1", "ports": [["name": "https", "port": 443]]]]
    )

    static let pod: JSONValue = [
        "metadata": ["name": "web-1", "namespace": "dev", "uid": "u-1", "labels": ["app": "web"], "annotations": ["team": "core"]],
        "spec": [
            "nodeName": "node-a", "serviceAccountName": "web-sa",
            "containers": [[
                "name": "app",
                "resources": ["limits": ["cpu": "250m", "memory": "64Mi"]],
                "envFrom": [
                    ["configMapRef": ["name": "app-config"]],
                    ["configMapRef": ["name": "other"], "prefix": "OTHER_"],
                    ["secretRef": ["name": "db"], "prefix": "DB_"],
                    ["configMapRef": ["name": "missing", "optional": true]],
                ],
                "env": [
                    ["name": "MODE", "value": "override-$(LOG_LEVEL)"],
                    ["name": "URL", "value": "redis://$(REDIS_CACHE_SERVICE_HOST):$(REDIS_CACHE_SERVICE_PORT)/$(LATER)"],
                    ["name": "LATER", "value": "x"],
                    ["name": "POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                    ["name": "APP_LABEL", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['app']"]]],
                    ["name": "IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                    ["name": "CPU", "valueFrom": ["resourceFieldRef": ["resource": "limits.cpu"]]],
                    ["name": "MEM_MI", "valueFrom": ["resourceFieldRef": ["resource": "limits.memory", "divisor": "1Mi"]]],
                    ["name": "PASS", "valueFrom": ["secretKeyRef": ["name": "db", "key": "password"]]],
                    ["name": "NOT_SET", "valueFrom": ["secretKeyRef": ["name": "db", "key": "nope", "optional": true]]],
                    ["name": "NOT_EXPANDED", "valueFrom": ["configMapKeyRef": ["name": "app-config", "key": "MODE"]]],
                    ["name": "KUBERNETES_SERVICE_PORT", "value": "explicit-wins"],
                ],
            ]],
        ],
        "status": ["podIP": "10.244.0.7"],
    ]

    func environment() throws -> [String: String] {
        let variables = try ContainerEnvironment.resolve(pod: Self.pod, containerName: "app", sources: Self.sources)
        return Dictionary(variables.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func envFromInOrderWithPrefixesAndEnvOverrides() throws {
        let env = try environment()
        #expect(env["LOG_LEVEL"] == "debug")
        #expect(env["OTHER_MODE"] == "other")
        #expect(env["DB_password"] == "s3cret")
        #expect(env["MODE"] == "override-debug")
    }

    @Test func expansionSeesEarlierVariablesAndServicesButNotLaterOnes() throws {
        #expect(try environment()["URL"] == "redis://10.96.0.20:6379/$(LATER)")
    }

    @Test func valueFromSources() throws {
        let env = try environment()
        #expect(env["POD"] == "web-1")
        #expect(env["APP_LABEL"] == "web")
        #expect(env["IP"] == "10.244.0.7")
        #expect(env["CPU"] == "1")
        #expect(env["MEM_MI"] == "64")
        #expect(env["PASS"] == "s3cret")
        #expect(env["NOT_SET"] == nil)
        #expect(env["NOT_EXPANDED"] == "dev")
    }

    @Test func serviceLinksExceptHeadlessAndExplicitWins() throws {
        let env = try environment()
        #expect(env["REDIS_CACHE_SERVICE_HOST"] == "10.96.0.20")
        #expect(env["REDIS_CACHE_SERVICE_PORT_REDIS"] == "6379")
        #expect(env["REDIS_CACHE_PORT"] == "tcp://10.96.0.20:6379")
        #expect(env["REDIS_CACHE_PORT_6379_TCP_ADDR"] == "10.96.0.20")
        #expect(env["REDIS_CACHE_PORT_6379_TCP_PROTO"] == "tcp")
        #expect(env["HEADLESS_SERVICE_HOST"] == nil)
        #expect(env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
        #expect(env["KUBERNETES_SERVICE_PORT"] == "explicit-wins")
    }

    @Test func serviceLinksCanBeDisabledButKubernetesStays() throws {
        var pod = Self.pod
        pod[path: ["spec", "enableServiceLinks"]] = false
        let variables = try ContainerEnvironment.resolve(pod: pod, containerName: "app", sources: Self.sources)
        let names = Set(variables.map(\.name))
        #expect(!names.contains("REDIS_CACHE_SERVICE_HOST"))
        #expect(names.contains("KUBERNETES_SERVICE_HOST"))
    }

    @Test func missingRequiredReferencesAreErrors() {
        var pod = Self.pod
        pod[path: ["spec", "containers"]] = [["name": "app", "envFrom": [["secretRef": ["name": "absent"]]]]]
        #expect(throws: ContainerEnvironmentError.secretNotFound(name: "absent")) {
            try ContainerEnvironment.resolve(pod: pod, containerName: "app", sources: Self.sources)
        }
        pod[path: ["spec", "containers"]] = [["name": "app", "env": [["name": "X", "valueFrom": ["configMapKeyRef": ["name": "app-config", "key": "absent"]]]]]]
        #expect(throws: ContainerEnvironmentError.keyNotFound(kind: "configmap", name: "app-config", key: "absent")) {
            try ContainerEnvironment.resolve(pod: pod, containerName: "app", sources: Self.sources)
        }
        #expect(throws: ContainerEnvironmentError.containerNotFound("nope")) {
            try ContainerEnvironment.resolve(pod: Self.pod, containerName: "nope", sources: Self.sources)
        }
    }

    @Test func binarySecretValuesAreAClearError() {
        var sources = Self.sources
        sources.secrets["bin"] = ["data": ["k": .string(Data([0xff, 0x00, 0xfe]).base64EncodedString())]]
        var pod = Self.pod
        pod[path: ["spec", "containers"]] = [["name": "app", "envFrom": [["secretRef": ["name": "bin"]]]]]
        #expect(throws: ContainerEnvironmentError.secretValueNotText(secret: "bin", key: "k")) {
            try ContainerEnvironment.resolve(pod: pod, containerName: "app", sources: sources)
        }
    }

    @Test func quantities() throws {
        #expect(try #require(Quantity("250m")).value == 0.25)
        #expect(try #require(Quantity("64Mi")).value == 67_108_864)
        #expect(try #require(Quantity("1G")).value == 1e9)
        #expect(try #require(Quantity("1e3")).value == 1000)
        #expect(Quantity("abc") == nil)
    }
}
