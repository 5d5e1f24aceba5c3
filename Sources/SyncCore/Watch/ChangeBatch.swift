import Foundation

/// One raw observation of a watcher, before debouncing.
public enum WatchEvent: Sendable, Hashable {
    /// Something happened at this relative path (created, written, deleted, moved, chmod-ed);
    /// the consumer looks at the disk to learn what it is now.
    case changed(String)
    /// Events were lost (inotify queue overflow, a watch could not be added): compare the whole tree.
    case rescan
}

/// Changes that arrived close together, delivered once they went quiet.
public struct ChangeBatch: Sendable, Equatable {
    /// Relative paths touched (files or directories).
    public var paths: Set<String>
    /// Whether the consumer must rescan instead of trusting ``paths``.
    public var needsRescan: Bool
    /// When the first change of the batch was seen: the "save" time of the report.
    public var firstChangeAt: Date

    public init(paths: Set<String>, needsRescan: Bool, firstChangeAt: Date) {
        self.paths = paths
        self.needsRescan = needsRescan
        self.firstChangeAt = firstChangeAt
    }
}
