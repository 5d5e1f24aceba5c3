import Foundation
import KubeModel
@testable import SwapPlan

/// A two-container Deployment (app + sidecar) as `kubectl get -o json` shows it.
enum Fixtures {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": [
            "name": "web", "namespace": "dev", "resourceVersion": "42", "generation": 3,
            "labels": ["app": "web"], "annotations": ["deployment.kubernetes.io/revision": "2", "team": "core"],
        ],
        "spec": [
            "replicas": 2,
            "selector": ["matchLabels": ["app": "web"]],
            "template": [
                "metadata": [
                    "labels": ["app": "web", "tier": "front", "pod-template-hash": "5d9f8c7b6"],
                    "annotations": ["kubectl.kubernetes.io/default-container": "app"],
                ],
                "spec": [
                    "serviceAccountName": "web-sa",
                    "securityContext": ["fsGroup": 2000],
                    "volumes": [
                        ["name": "config", "configMap": ["name": "web-config"]],
                        ["name": "creds", "secret": ["secretName": "web-creds"]],
                    ],
                    "containers": [
                        [
                            "name": "app", "image": "registry.example/web:1.2",
                            "command": ["/app/server"], "args": ["--port", "8080"], "workingDir": "/app",
                            "ports": [["name": "http", "containerPort": 8080], ["name": "metrics", "containerPort": 9090, "protocol": "TCP"]],
                            "env": [["name": "MODE", "value": "prod"]],
                            "envFrom": [["configMapRef": ["name": "web-config"]]],
                            "volumeMounts": [["name": "config", "mountPath": "/etc/app"], ["name": "creds", "mountPath": "/etc/creds", "readOnly": true]],
                            "readinessProbe": ["httpGet": ["path": "/healthz", "port": "http"], "timeoutSeconds": 2],
                            "livenessProbe": ["httpGet": ["path": "/live", "port": 8080]],
                            "startupProbe": ["httpGet": ["path": "/start", "port": 8080]],
                            "lifecycle": ["preStop": ["exec": ["command": ["sleep", "5"]]]],
                            "securityContext": ["runAsUser": 0, "privileged": true],
                            "resources": ["limits": ["memory": "256Mi"]],
                        ],
                        [
                            "name": "sidecar", "image": "envoy:1.30", "command": ["envoy"],
                            "ports": [["containerPort": 15000], ["containerPort": 5353, "protocol": "UDP"]],
                            "volumeMounts": [["name": "config", "mountPath": "/etc/envoy"]],
                        ],
                    ],
                ],
            ],
        ],
        "status": ["replicas": 2, "readyReplicas": 2],
    ]

    static let record = SwapRecord(
        id: "abc123def456", originalReplicas: 2, container: "app", owner: "dev@laptop",
        startedAt: Date(timeIntervalSince1970: 1_700_000_000), proxyPod: "web-swapdev-abc123"
    )

    static func proxyPod(inbound: [InboundForward] = []) throws -> JSONValue {
        try ProxyPodBuilder(deployment: deployment, container: "app", record: record,
                            proxyImage: "ghcr.io/swapdev/swapdev-proxy:0.1.0",
                            authorizedKey: "ssh-ed25519 AAAAC3Nza swapdev-abc123", inbound: inbound).build()
    }

    static var template: JSONValue { deployment[path: ["spec", "template"]] ?? .null }

    static func container(_ name: String, in pod: JSONValue) -> JSONValue? {
        pod[path: ["spec", "containers"]]?.array?.first { $0["name"]?.string == name }
    }
}
