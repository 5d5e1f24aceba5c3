/// What one sync must do: the files to send and the paths to delete on the remote side.
public struct SyncPlan: Sendable, Equatable {
    /// Entries to (re)send, sorted by path so tar streams are deterministic.
    public var uploads: [FileEntry]
    /// Relative paths to remove remotely.
    public var deletions: [String]

    public init(uploads: [FileEntry] = [], deletions: [String] = []) {
        self.uploads = uploads.sorted { $0.path < $1.path }
        self.deletions = deletions.sorted()
    }

    public var isEmpty: Bool { uploads.isEmpty && deletions.isEmpty }

    /// Bytes of file content to send.
    public var uploadBytes: Int64 { uploads.reduce(0) { $0 + $1.size } }

    /// The initial sync: every local file the remote lacks or holds with another size or mtime.
    ///
    /// Remote files with no local counterpart are left alone: they may come from the image
    /// (built dependencies, generated files) and deleting them would be a surprise.
    public static func initial(local: Manifest, remote: Manifest) -> SyncPlan {
        var uploads: [FileEntry] = []
        for (path, entry) in local {
            guard let there = remote[path] else {
                uploads.append(entry)
                continue
            }
            switch entry.kind {
            case .file:
                if there.size != entry.size || there.modificationTime != entry.modificationTime || there.kind != .file {
                    uploads.append(entry)
                }
            case .symlink:
                if there.size != entry.size || there.kind == .file { uploads.append(entry) }
            }
        }
        return SyncPlan(uploads: uploads)
    }
}
