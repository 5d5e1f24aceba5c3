import KubeModel

/// Pausing a KEDA ScaledObject for the length of a swap, through KEDA's own annotations.
///
/// KEDA would otherwise scale the original back up from 0 as soon as its trigger is active.
/// `autoscaling.keda.sh/paused-replicas: "0"` makes KEDA hold the target at 0 (what the swap
/// wants) and stop scaling. The ScaledObject itself remembers who paused it and what its
/// annotations were, so `swapdev restore` can unpause it even when the Deployment's record is
/// gone (a crash between the two patches).
public enum GuardKEDA {
    /// `keda.sh/v1alpha1` ScaledObjects. A 404 on the group means KEDA is not installed.
    public static let scaledObjects = APIResource(group: "keda.sh", version: "v1alpha1", kind: "ScaledObject",
                                                  plural: "scaledobjects", namespaced: true)
    public static let pausedReplicas = "autoscaling.keda.sh/paused-replicas"
    public static let paused = "autoscaling.keda.sh/paused"
    /// The swap id that paused this ScaledObject.
    public static let pausedBy = "swapdev.dev/paused-by"
    /// The previous values of KEDA's pause annotations, as JSON (`null` for absent).
    public static let pausedBefore = "swapdev.dev/paused-before"

    /// The merge patch that pauses `scaledObject` for swap `swapID`.
    public static func pausePatch(scaledObject: JSONValue, swapID: String) -> JSONValue {
        let annotations = scaledObject.annotations
        var before: JSONValue = .emptyObject
        for key in [pausedReplicas, paused] { before[key] = annotations[key].map(JSONValue.string) ?? .null }
        return ["metadata": ["annotations": [
            pausedReplicas: "0",
            pausedBy: .string(swapID),
            pausedBefore: .string(before.serializedString()),
        ]]]
    }

    /// The merge patch that undoes ``pausePatch(scaledObject:swapID:)``; `nil` when swapdev did
    /// not pause this ScaledObject.
    public static func unpausePatch(scaledObject: JSONValue) -> JSONValue? {
        let annotations = scaledObject.annotations
        guard annotations[pausedBy] != nil else { return nil }
        let before = annotations[pausedBefore].flatMap { try? JSONValue(parsing: $0) } ?? .emptyObject
        var changes: [String: JSONValue] = [pausedBy: .null, pausedBefore: .null]
        for key in [pausedReplicas, paused] {
            changes[key] = before[key]?.string.map(JSONValue.string) ?? .null
        }
        return ["metadata": ["annotations": .object(changes)]]
    }

    /// Whether swap `swapID` (any swap when `nil`) paused this ScaledObject.
    public static func isPaused(_ scaledObject: JSONValue, by swapID: String? = nil) -> Bool {
        guard let by = scaledObject.annotations[pausedBy] else { return false }
        return swapID.map { $0 == by } ?? true
    }
}
