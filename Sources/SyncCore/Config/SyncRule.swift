/// `--sync LOCAL:REMOTE`: a local directory mirrored into a container directory.
public struct SyncRule: Sendable, Hashable, CustomStringConvertible {
    /// Local directory, relative to the working directory or absolute.
    public var local: String
    /// Absolute directory in the container.
    public var remote: String

    public init(local: String, remote: String) {
        self.local = local
        self.remote = remote
    }

    /// Parses `LOCAL:REMOTE` (the last `:` splits, so a local path may contain colons).
    public init(parsing text: String) throws(ConfigError) {
        guard let colon = text.lastIndex(of: ":") else { throw .invalidSyncRule(text) }
        let local = String(text[..<colon])
        let remote = String(text[text.index(after: colon)...])
        guard !local.isEmpty, remote.hasPrefix("/") else { throw .invalidSyncRule(text) }
        self.init(local: local, remote: remote)
    }

    public var description: String { "\(local):\(remote)" }
}

/// `--port-forward [LOCAL:]REMOTE`: a container port reachable on localhost.
public struct PortForwardSpec: Sendable, Hashable, CustomStringConvertible {
    public var local: Int
    public var remote: Int

    public init(local: Int, remote: Int) {
        self.local = local
        self.remote = remote
    }

    /// Parses `PORT` (same port locally) or `LOCAL:REMOTE`.
    public init(parsing text: String) throws(ConfigError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        func port(_ part: Substring) throws(ConfigError) -> Int {
            guard let value = Int(part), (1...65535).contains(value) else { throw .invalidPort(text) }
            return value
        }
        switch parts.count {
        case 1:
            let remote = try port(parts[0])
            self.init(local: remote, remote: remote)
        case 2:
            self.init(local: try port(parts[0]), remote: try port(parts[1]))
        default:
            throw .invalidPort(text)
        }
    }

    public var description: String { local == remote ? "\(remote)" : "\(local):\(remote)" }
}
