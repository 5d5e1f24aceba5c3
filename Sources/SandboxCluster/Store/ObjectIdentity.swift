import Foundation
import KubeModel

/// Timestamps, uids and generated names, formatted as the API server formats them.
enum ObjectIdentity {
    /// RFC 3339 in UTC with whole seconds, e.g. `2024-05-01T12:00:00Z`.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func uid() -> String { UUID().uuidString.lowercased() }

    /// Five random characters from the alphabet the API server uses for `generateName`.
    static func randomSuffix(length: Int = 5) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<length).map { _ in alphabet.randomElement() ?? "x" })
    }

    /// A random token for bearer authentication (hex of 32 random bytes).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
