/// One synced thing in a tree: a regular file or a symlink (directories are implied by paths).
public struct FileEntry: Sendable, Hashable {
    /// What the entry is.
    public enum Kind: Sendable, Hashable {
        case file
        /// A symlink whose target stays inside the tree; it is synced as a link, never followed.
        case symlink(target: String)
    }

    /// Path relative to the tree root, `/`-separated, no leading `./`.
    public var path: String
    public var kind: Kind
    /// Bytes (for a symlink: the target's length, as `stat` reports it).
    public var size: Int64
    /// Modification time in whole seconds since 1970; tar carries it to the remote side, so
    /// size + mtime is a cheap "already there" check.
    public var modificationTime: Int64
    /// Permission bits (`0o755`, …).
    public var mode: UInt32

    public init(path: String, kind: Kind = .file, size: Int64, modificationTime: Int64, mode: UInt32 = 0o644) {
        self.path = path
        self.kind = kind
        self.size = size
        self.modificationTime = modificationTime
        self.mode = mode
    }
}

/// The files of a tree by relative path.
public typealias Manifest = [String: FileEntry]
