import Foundation
import SandboxRuntime
import KubeModel

/// The defaults the real API server fills in on create, for the fields clients read back.
enum Defaults {
    static func apply(_ type: ResourceType, to object: inout JSONValue) {
        switch type.key {
        case ResourceCatalog.pods.key: pod(&object)
        case ResourceCatalog.deployments.key: deployment(&object)
        case ResourceCatalog.services.key: service(&object)
        case ResourceCatalog.namespaces.key:
            object[path: ["spec", "finalizers"]] = ["kubernetes"]
            object[path: ["status", "phase"]] = "Active"
            var labels = object.labels
            labels["kubernetes.io/metadata.name"] = object.name
            object.labels = labels
        case ResourceCatalog.secrets.key:
            if object["type"] == nil { object["type"] = "Opaque" }
            foldStringData(&object)
        default: break
        }
    }

    static func podSpec(_ spec: inout JSONValue) {
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["securityContext"] == nil { spec["securityContext"] = .emptyObject }
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = spec["serviceAccount"] ?? "default" }
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
        for field in ["containers", "initContainers"] {
            guard var containers = spec[field]?.array else { continue }
            for index in containers.indices {
                var container = containers[index]
                if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
                if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
                if container["imagePullPolicy"] == nil {
                    let image = container["image"]?.string ?? ""
                    container["imagePullPolicy"] = (image.hasSuffix(":latest") || !image.contains(":")) ? "Always" : "IfNotPresent"
                }
                if container["resources"] == nil { container["resources"] = .emptyObject }
                if var ports = container["ports"]?.array {
                    for p in ports.indices where ports[p]["protocol"] == nil { ports[p]["protocol"] = "TCP" }
                    container["ports"] = .array(ports)
                }
                containers[index] = container
            }
            spec[field] = .array(containers)
        }
    }

    private static func pod(_ object: inout JSONValue) {
        var spec = object["spec"] ?? .emptyObject
        podSpec(&spec)
        // One node: every pod is bound at once, as if scheduled.
        if spec["nodeName"] == nil { spec["nodeName"] = .string(SandboxNode.name) }
        spec["serviceAccount"] = spec["serviceAccountName"]
        object["spec"] = spec
        object["status"] = [
            "phase": "Pending", "qosClass": "BestEffort",
            "conditions": [["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                            "lastTransitionTime": .string(ObjectIdentity.timestamp())]],
        ]
    }

    private static func deployment(_ object: inout JSONValue) {
        var spec = object["spec"] ?? .emptyObject
        if spec["replicas"] == nil { spec["replicas"] = 1 }
        if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
        if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
        if spec["strategy"] == nil {
            spec["strategy"] = ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]
        }
        var podSpec = spec[path: ["template", "spec"]] ?? .emptyObject
        Defaults.podSpec(&podSpec)
        podSpec["serviceAccount"] = nil
        spec[path: ["template", "spec"]] = podSpec
        object["spec"] = spec
        if object["status"] == nil { object["status"] = .emptyObject }
    }

    private static func service(_ object: inout JSONValue) {
        var spec = object["spec"] ?? .emptyObject
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if var ports = spec["ports"]?.array {
            for index in ports.indices {
                if ports[index]["protocol"] == nil { ports[index]["protocol"] = "TCP" }
                if ports[index]["targetPort"] == nil { ports[index]["targetPort"] = ports[index]["port"] }
            }
            spec["ports"] = .array(ports)
        }
        object["spec"] = spec
        object["status"] = ["loadBalancer": .emptyObject]
    }
}

/// The sandbox's single node.
enum SandboxNode {
    static let name = "sandbox"
    /// The pod network's gateway, which is the host as pods see it. Set once by
    /// `SandboxCluster.start` before anything reads it; one sandbox network per process.
    nonisolated(unsafe) static var hostIP = SandboxNetwork.standard.gatewayAddress
}

extension Defaults {
    /// `stringData` is write-only: the server folds it into base64 `data`.
    static func foldStringData(_ object: inout JSONValue) {
        guard let stringData = object["stringData"]?.stringMap else { return }
        var data = object["data"]?.object ?? [:]
        for (key, value) in stringData { data[key] = .string(Data(value.utf8).base64EncodedString()) }
        object["data"] = .object(data)
        object["stringData"] = nil
    }

    /// Defaults that also apply when a client replaces the object (PUT or patch).
    static func applyOnUpdate(_ type: ResourceType, to object: inout JSONValue, existing: JSONValue) {
        switch type.key {
        case ResourceCatalog.deployments.key:
            var spec = object["spec"] ?? .emptyObject
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            var podSpec = spec[path: ["template", "spec"]] ?? .emptyObject
            Defaults.podSpec(&podSpec)
            podSpec["serviceAccount"] = nil
            spec[path: ["template", "spec"]] = podSpec
            object["spec"] = spec
        case ResourceCatalog.pods.key:
            var spec = object["spec"] ?? .emptyObject
            Defaults.podSpec(&spec)
            spec["nodeName"] = existing[path: ["spec", "nodeName"]]
            spec["serviceAccount"] = spec["serviceAccountName"]
            object["spec"] = spec
        case ResourceCatalog.secrets.key:
            foldStringData(&object)
        default:
            break
        }
    }
}
