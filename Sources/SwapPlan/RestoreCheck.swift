import KubeModel

/// One difference between two JSON documents, at a dotted path.
public struct JSONDifference: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var before: JSONValue?
    public var after: JSONValue?

    public init(path: String, before: JSONValue?, after: JSONValue?) {
        self.path = path
        self.before = before
        self.after = after
    }

    public var description: String {
        "\(path): \(before.map { $0.serializedString() } ?? "(absent)") → \(after.map { $0.serializedString() } ?? "(absent)")"
    }
}

/// Checks that a restore left the Deployment exactly as it was before the swap.
///
/// Compares `spec`, labels and annotations; ignores what the API server and controllers own
/// (`status`, `resourceVersion`, `generation`, `managedFields`, the revision annotation) —
/// they change whenever the Deployment is scaled and back.
public enum RestoreCheck {
    /// Annotations controllers maintain; their changes are not the user's.
    public static let ignoredAnnotations: Set<String> = ["deployment.kubernetes.io/revision"]

    /// The parts of a Deployment a restore must bring back.
    public static func comparable(_ deployment: JSONValue) -> JSONValue {
        var annotations = deployment.annotations
        for key in annotations.keys where ignoredAnnotations.contains(key) || key.hasPrefix(SwapRecord.prefix) {
            annotations[key] = nil
        }
        return [
            "spec": deployment["spec"] ?? .null,
            "labels": JSONValue(stringMap: deployment.labels),
            "annotations": JSONValue(stringMap: annotations),
        ]
    }

    /// The differences between the Deployment before the swap and after the restore; empty
    /// when the restore is exact.
    public static func differences(before: JSONValue, after: JSONValue) -> [JSONDifference] {
        var result: [JSONDifference] = []
        diff(comparable(before), comparable(after), path: "", into: &result)
        return result
    }

    /// A short digest of ``comparable(_:)`` with `spec.replicas` left out (a swap changes it on
    /// purpose): equal digests mean the restore is exact. FNV-1a 64 over the canonical JSON —
    /// a check against accidents, not an adversary.
    public static func fingerprint(_ deployment: JSONValue) -> String {
        var value = comparable(deployment)
        value[path: ["spec", "replicas"]] = nil
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value.serialized() {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// One line for the user: "spec unchanged" or what differs.
    public static func summary(deployment: String, differences: [JSONDifference]) -> String {
        if differences.isEmpty { return "deployment \(deployment) is exactly as before the swap" }
        let shown = differences.prefix(5).map(\.description).joined(separator: "; ")
        let more = differences.count > 5 ? " (and \(differences.count - 5) more)" : ""
        return "deployment \(deployment) differs from before the swap: \(shown)\(more)"
    }

    static func diff(_ before: JSONValue?, _ after: JSONValue?, path: String, into result: inout [JSONDifference]) {
        if before == after { return }
        if case .object(let left)? = before, case .object(let right)? = after {
            for key in Set(left.keys).union(right.keys).sorted() {
                diff(left[key], right[key], path: path.isEmpty ? key : "\(path).\(key)", into: &result)
            }
            return
        }
        if case .array(let left)? = before, case .array(let right)? = after, left.count == right.count {
            for index in left.indices {
                diff(left[index], right[index], path: "\(path)[\(index)]", into: &result)
            }
            return
        }
        result.append(JSONDifference(path: path, before: before, after: after))
    }
}
