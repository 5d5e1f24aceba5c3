import Foundation

/// A Kubernetes resource quantity (`250m`, `1.5`, `512Mi`, `1G`, `1e3`), as a plain number.
///
/// Only what `resourceFieldRef` needs: the value in base units (cores, bytes), exact enough
/// for the kubelet's `ceil(value / divisor)`.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// The value in base units (cores for CPU, bytes for memory).
    public var value: Double
    public let description: String

    private static let suffixes: [(String, Double)] = [
        ("Ki", 0x1p10), ("Mi", 0x1p20), ("Gi", 0x1p30), ("Ti", 0x1p40), ("Pi", 0x1p50), ("Ei", 0x1p60),
        ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ("P", 1e15), ("E", 1e18),
    ]

    /// Parses a quantity; `nil` when `text` is not one.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        description = trimmed
        for (suffix, multiplier) in Self.suffixes where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)) else { return nil }
            value = number * multiplier
            return
        }
        // Plain numbers and decimal exponents (`1e3`, `1E3`).
        guard let number = Double(trimmed) else { return nil }
        value = number
    }

    public init(value: Double) {
        self.value = value
        self.description = String(value)
    }
}


