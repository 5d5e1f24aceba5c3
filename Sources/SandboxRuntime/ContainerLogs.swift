import Foundation

/// Reads a container instance's log file: its tail, and with `follow` the bytes appended
/// until that instance ends.
enum ContainerLogs {
    static let followInterval: Duration = .milliseconds(50)

    static func stream(path: String, tailLines: Int?, follow: Bool, hasEnded: @escaping @Sendable () -> Bool) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            let task = Task {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    continuation.finish()
                    return
                }
                defer { try? handle.close() }
                let initial = (try? handle.readToEnd()) ?? Data()
                let first = tail(Array(initial), lines: tailLines)
                if !first.isEmpty { continuation.yield(first) }
                while follow && !Task.isCancelled {
                    // Read once more after the instance ended so its last bytes are not lost.
                    let ended = hasEnded()
                    if let more = try? handle.readToEnd(), !more.isEmpty { continuation.yield(Array(more)) }
                    if ended { break }
                    try? await Task.sleep(for: followInterval)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The last `lines` lines of `bytes` (a trailing newline does not start an extra line).
    static func tail(_ bytes: [UInt8], lines: Int?) -> [UInt8] {
        guard let lines, lines >= 0 else { return bytes }
        if lines == 0 { return [] }
        var seen = 0
        var index = bytes.count
        if index > 0 && bytes[index - 1] == UInt8(ascii: "\n") { index -= 1 }
        while index > 0 {
            if bytes[index - 1] == UInt8(ascii: "\n") {
                seen += 1
                if seen == lines { return Array(bytes[index...]) }
            }
            index -= 1
        }
        return bytes
    }
}
