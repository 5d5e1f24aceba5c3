import Foundation
import KubeModel

/// The durable record of a swap, kept as `swapdev.dev/` annotations on the Deployment.
///
/// Written before anything else changes, so that any later swapdev — on any machine, after a
/// crash — can see the swap and undo it (`swapdev restore`).
public struct SwapRecord: Sendable, Hashable {
    /// The annotation (and label) prefix swapdev owns.
    public static let prefix = "swapdev.dev/"

    /// Annotation keys.
    public enum Key {
        public static let id = "swapdev.dev/swap-id"
        public static let originalReplicas = "swapdev.dev/original-replicas"
        public static let container = "swapdev.dev/container"
        public static let owner = "swapdev.dev/owner"
        public static let startedAt = "swapdev.dev/started-at"
        public static let heartbeat = "swapdev.dev/heartbeat"
        public static let proxyPod = "swapdev.dev/proxy-pod"
        public static let specFingerprint = "swapdev.dev/spec-fingerprint"
        /// Every key this record writes, in a stable order.
        public static let all = [id, originalReplicas, container, owner, startedAt, heartbeat, proxyPod, specFingerprint]
    }

    /// The label every object of a swap carries, `swapdev.dev/swap=<id>`.
    public static let swapLabel = "swapdev.dev/swap"
    /// The proxy pod's annotation naming its Deployment.
    public static let deploymentAnnotation = "swapdev.dev/deployment"

    /// A random id, lower-case hex, unique per swap.
    public var id: String
    /// `spec.replicas` before the swap; restore scales back to it.
    public var originalReplicas: Int
    public var container: String
    /// Who swapped: `user@host`.
    public var owner: String
    public var startedAt: Date
    /// Last sign of life of the swapping process.
    public var heartbeat: Date
    /// The proxy pod's name.
    public var proxyPod: String
    /// ``RestoreCheck/fingerprint(_:)`` of the Deployment before the swap, so a restore on
    /// another machine can still check that the spec is exactly as before.
    public var specFingerprint: String?

    public init(id: String, originalReplicas: Int, container: String, owner: String, startedAt: Date,
                heartbeat: Date? = nil, proxyPod: String, specFingerprint: String? = nil)
    {
        self.specFingerprint = specFingerprint
        self.id = id
        self.originalReplicas = originalReplicas
        self.container = container
        self.owner = owner
        self.startedAt = startedAt
        self.heartbeat = heartbeat ?? startedAt
        self.proxyPod = proxyPod
    }

    /// A new 12-hex-digit swap id.
    public static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<12).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
    }

    /// The first six characters of the id, used in object names.
    public var shortID: String { String(id.prefix(6)) }

    public var startedAtText: String { RFC3339.string(from: startedAt) }

    /// The annotations this record is stored as.
    public var annotations: [String: String] {
        var result = [
            Key.id: id,
            Key.originalReplicas: String(originalReplicas),
            Key.container: container,
            Key.owner: owner,
            Key.startedAt: RFC3339.string(from: startedAt),
            Key.heartbeat: RFC3339.string(from: heartbeat),
            Key.proxyPod: proxyPod,
        ]
        if let specFingerprint { result[Key.specFingerprint] = specFingerprint }
        return result
    }

    /// Reads the record from a Deployment; `nil` when it is not swapped (no `swap-id`).
    public init?(deployment: JSONValue) throws(SwapPlanError) {
        let annotations = deployment.annotations
        let name = deployment.name ?? "?"
        guard let id = annotations[Key.id] else { return nil }
        func required(_ key: String) throws(SwapPlanError) -> String {
            guard let value = annotations[key] else { throw .malformedRecord(deployment: name, annotation: key, value: "") }
            return value
        }
        let replicasText = try required(Key.originalReplicas)
        guard let replicas = Int(replicasText), replicas >= 0 else {
            throw .malformedRecord(deployment: name, annotation: Key.originalReplicas, value: replicasText)
        }
        let startedText = try required(Key.startedAt)
        guard let started = RFC3339.date(from: startedText) else {
            throw .malformedRecord(deployment: name, annotation: Key.startedAt, value: startedText)
        }
        self.init(
            id: id, originalReplicas: replicas, container: annotations[Key.container] ?? "",
            owner: annotations[Key.owner] ?? "unknown", startedAt: started,
            heartbeat: annotations[Key.heartbeat].flatMap { RFC3339.date(from: $0) },
            proxyPod: annotations[Key.proxyPod] ?? "", specFingerprint: annotations[Key.specFingerprint]
        )
    }

    /// A JSON merge patch that writes the record, conditional on `resourceVersion`: the API
    /// server rejects it with 409 Conflict if the Deployment changed since it was read, so a
    /// concurrent swap or edit cannot be overwritten silently.
    public func recordPatch(resourceVersion: String) -> JSONValue {
        [
            "metadata": [
                "resourceVersion": .string(resourceVersion),
                "annotations": JSONValue(stringMap: annotations),
            ],
        ]
    }

    /// A merge patch that refreshes only the heartbeat.
    public static func heartbeatPatch(at date: Date) -> JSONValue {
        ["metadata": ["annotations": [Key.heartbeat: .string(RFC3339.string(from: date))]]]
    }

    /// A merge patch that removes every `swapdev.dev/` annotation the Deployment carries
    /// (`null` deletes a key in a merge patch), optionally conditional on `resourceVersion`.
    public static func removalPatch(deployment: JSONValue, resourceVersion: String? = nil) -> JSONValue {
        var removals: [String: JSONValue] = [:]
        for key in Key.all { removals[key] = .null }
        for key in deployment.annotations.keys where key.hasPrefix(prefix) { removals[key] = .null }
        var metadata: JSONValue = ["annotations": .object(removals)]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return ["metadata": metadata]
    }

    /// `user@host` of this process, for ``owner``.
    public static func currentOwner() -> String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? NSUserName()
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }


}
