import Foundation

/// What a ``DevSession`` reports while it runs; ``description`` is the line to print.
public enum DevEvent: Sendable, CustomStringConvertible {
    /// Progress: pod started, initial sync done, ports forwarded, restore done.
    case info(String)
    /// One change synced (and restarted).
    case synced(SyncSummary)
    /// A line of the container's log.
    case log(container: String, line: String)
    /// A sync or restart that failed; the session keeps watching.
    case error(String)

    public var description: String {
        switch self {
        case .info(let text): return "swapdev: \(text)"
        case .synced(let summary): return "swapdev: \(summary)"
        case .log(let container, let line): return "[\(container)] \(line)"
        case .error(let text): return "swapdev: error: \(text)"
        }
    }
}

/// The one-line report of one change: files, bytes, and save → synced → restarted times.
public struct SyncSummary: Sendable, CustomStringConvertible {
    public var uploadedFiles: Int
    public var uploadedBytes: Int64
    public var deletedPaths: Int
    /// From the first file event of the batch to the end of the remote write.
    public var saveToSynced: Duration
    /// From the first file event to the restart signal being delivered; `nil` with `--no-restart`.
    public var saveToRestarted: Duration?
    /// Whether this was the initial sync.
    public var initial: Bool

    public init(uploadedFiles: Int, uploadedBytes: Int64, deletedPaths: Int, saveToSynced: Duration,
                saveToRestarted: Duration?, initial: Bool = false) {
        self.uploadedFiles = uploadedFiles
        self.uploadedBytes = uploadedBytes
        self.deletedPaths = deletedPaths
        self.saveToSynced = saveToSynced
        self.saveToRestarted = saveToRestarted
        self.initial = initial
    }

    public var description: String {
        var text = initial ? "initial sync: " : "sync: "
        text += "\(uploadedFiles) file\(uploadedFiles == 1 ? "" : "s") (\(Self.bytes(uploadedBytes)))"
        if deletedPaths > 0 { text += ", \(deletedPaths) deleted" }
        text += initial ? " in \(Self.ms(saveToSynced))" : " — save → synced \(Self.ms(saveToSynced))"
        if let saveToRestarted { text += " → restarted \(Self.ms(saveToRestarted))" }
        return text
    }

    static func ms(_ duration: Duration) -> String {
        let millis = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return millis >= 10_000 ? String(format: "%.1f s", millis / 1000) : "\(Int(millis.rounded())) ms"
    }

    static func bytes(_ count: Int64) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1024 * 1024 { return String(format: "%.1f KB", Double(count) / 1024) }
        return String(format: "%.1f MB", Double(count) / 1_048_576)
    }
}

extension Duration {
    /// The time since a wall-clock instant (watch events carry `Date`s).
    static func since(_ date: Date) -> Duration {
        .milliseconds(Int64(max(0, Date().timeIntervalSince(date)) * 1000))
    }
}
