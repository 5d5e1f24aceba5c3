import Foundation
import KubeClient
import KubeModel
import Testing
import SwapdevTesting

/// A sandbox with one small app (`web`, a python HTTP server) and a snapshot of its namespace.
struct SafetySandbox {
    let sandbox: SandboxLauncher
    let client: KubeClient
    let namespace = "default"

    static let python = "/usr/bin/python3"

    static func start() async throws -> SafetySandbox {
        // Each sandbox takes a network slot of its own, so another one running does not matter.
        let repository = SSHDLauncher.repositoryRoot
        let sandbox = try await SandboxLauncher.start(proxyImageDirectory: repository.appendingPathComponent("proxy-image").path)
        let client = try KubeClient(kubeconfig: sandbox.kubeconfigPath, context: nil, namespace: "default")
        return SafetySandbox(sandbox: sandbox, client: client)
    }

    func stop() async {
        await client.shutdown()
        await sandbox.stop()
    }

    func deployApp(replicas: Int = 1) async throws {
        _ = try await client.create(.deployments, namespace: namespace, object: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["containers": [[
                        "name": "app", "image": "example/web:1",
                        "command": [.string(Self.python), "-m", "http.server", "8080"],
                        "ports": [["name": "http", "containerPort": 8080]],
                    ]]],
                ],
            ],
        ])
        try await client.waitFor(.deployments, namespace: namespace, name: "web", timeout: .seconds(60),
                                 condition: WaitConditions.deploymentReady(replicas: replicas))
    }

    /// Kinds compared before and after; pods are compared by owner (a Deployment's pods get new
    /// names when it is scaled back, and that is not a difference the user sees).
    static let compared: [APIResource] = [.deployments, .services, .configMaps, .secrets, .serviceAccounts, .roles, .roleBindings,
                                          .horizontalPodAutoscalers]

    /// The namespace without what the server and controllers own.
    func snapshot() async throws -> JSONValue {
        var result: JSONValue = .emptyObject
        for kind in Self.compared {
            var objects: JSONValue = .emptyObject
            for item in try await client.list(kind, namespace: namespace).items {
                objects[item.name ?? "?"] = Self.normalise(item)
            }
            result[kind.plural] = objects
        }
        var pods: [String: Int] = [:]
        for pod in try await client.list(.pods, namespace: namespace).items where pod[path: ["metadata", "deletionTimestamp"]] == nil {
            let owner = pod[path: ["metadata", "ownerReferences"]]?[0]?["name"]?.string
            let key = owner.map { "owned-by:\($0)" } ?? "bare:\(pod.name ?? "?")"
            pods[key, default: 0] += 1
        }
        result["pods"] = .object(pods.mapValues { .int(Int64($0)) })
        return result
    }

    static func normalise(_ object: JSONValue) -> JSONValue {
        var object = object
        object["status"] = nil
        for key in ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"] {
            object[path: ["metadata", key]] = nil
        }
        var annotations = object.annotations
        annotations["deployment.kubernetes.io/revision"] = nil
        object.annotations = annotations
        return object
    }

    /// Waits until `condition` holds, polling; false at the deadline.
    func eventually(_ timeout: Duration, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }
}

/// Every suite that starts a sandbox, one at a time: two sandboxes on one host would fight over
/// the service network (10.96.0.1, the host routes).
@Suite("crash safety against the sandbox", .serialized)
struct SandboxSafetyTests {}
