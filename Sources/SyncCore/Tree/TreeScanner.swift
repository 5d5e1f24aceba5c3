import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Walks a local tree into a ``Manifest``, honouring an ``IgnoreMatcher``.
///
/// Holds at most one directory descriptor open at a time (each directory is read fully and
/// closed before its children are visited), so a 50,000-file tree cannot exhaust descriptors.
/// Symlinks are never followed: one pointing inside the tree is recorded as a link, one
/// pointing outside (or dangling out) is skipped and reported in ``Result/skippedSymlinks``.
public struct TreeScanner: Sendable {
    /// The result of a walk.
    public struct Result: Sendable {
        public var manifest: Manifest
        /// Every non-ignored directory, relative (`""` is the root), for watchers.
        public var directories: [String]
        /// Symlinks left out because they lead out of the tree.
        public var skippedSymlinks: [String]
        /// The most directory handles open at once during the walk (the design keeps it at 1).
        public var peakOpenDirectories: Int = 0
    }

    public let root: URL
    public let ignores: IgnoreMatcher

    public init(root: URL, ignores: IgnoreMatcher) {
        self.root = root.standardizedFileURL
        self.ignores = ignores
    }

    /// Walks the tree below `start` (relative, `""` for the whole tree).
    public func scan(from start: String = "") -> Result {
        var result = Result(manifest: [:], directories: [], skippedSymlinks: [])
        if !start.isEmpty && ignores.isIgnored(start, isDirectory: true) { return result }
        var pending = [start]
        var openDirectories = 0
        while let directory = pending.popLast() {
            result.directories.append(directory)
            let names = Self.listDirectory(absolute(directory)) { opened in
                openDirectories += opened ? 1 : -1
                result.peakOpenDirectories = max(result.peakOpenDirectories, openDirectories)
            }
            for name in names {
                let relative = directory.isEmpty ? name : directory + "/" + name
                guard let info = Self.lstatEntry(absolute(relative)) else { continue }
                switch info.type {
                case .directory:
                    if !ignores.isIgnoredItself(relative, name: name, isDirectory: true) { pending.append(relative) }
                case .file:
                    if !ignores.isIgnoredItself(relative, name: name, isDirectory: false) {
                        result.manifest[relative] = FileEntry(path: relative, size: info.size, modificationTime: info.mtime, mode: info.mode)
                    }
                case .symlink:
                    if ignores.isIgnoredItself(relative, name: name, isDirectory: false) { continue }
                    if let target = insideTarget(of: relative) {
                        result.manifest[relative] = FileEntry(path: relative, kind: .symlink(target: target), size: info.size, modificationTime: info.mtime, mode: 0o777)
                    } else {
                        result.skippedSymlinks.append(relative)
                    }
                case .other:
                    continue
                }
            }
        }
        return result
    }

    /// The entry for one path, or `nil` when it is missing, ignored, or not syncable.
    public func entry(for relative: String) -> FileEntry? {
        guard !ignores.isIgnored(relative, isDirectory: false), let info = Self.lstatEntry(absolute(relative)) else { return nil }
        switch info.type {
        case .file:
            return FileEntry(path: relative, size: info.size, modificationTime: info.mtime, mode: info.mode)
        case .symlink:
            guard let target = insideTarget(of: relative) else { return nil }
            return FileEntry(path: relative, kind: .symlink(target: target), size: info.size, modificationTime: info.mtime, mode: 0o777)
        case .directory, .other:
            return nil
        }
    }

    /// Whether anything (even a dangling symlink) exists at `relative`.
    public func exists(_ relative: String) -> Bool {
        Self.lstatEntry(absolute(relative)) != nil
    }

    /// Whether `relative` is a directory on disk (not through a symlink).
    public func isDirectory(_ relative: String) -> Bool {
        Self.lstatEntry(absolute(relative))?.type == .directory
    }

    func absolute(_ relative: String) -> String {
        relative.isEmpty ? root.path : root.path + "/" + relative
    }

    /// The link's target text when, resolved lexically from the link's directory, it stays in the tree.
    private func insideTarget(of relative: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: absolute(relative)) else { return nil }
        if target.hasPrefix("/") { return nil }
        var stack = relative.split(separator: "/").dropLast().map(String.init)
        for component in target.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                if stack.popLast() == nil { return nil }
            } else {
                stack.append(String(component))
            }
        }
        return target
    }

    enum EntryType { case file, directory, symlink, other }
    struct EntryInfo {
        var type: EntryType
        var size: Int64
        var mtime: Int64
        var mode: UInt32
    }

    static func lstatEntry(_ path: String) -> EntryInfo? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let format = info.st_mode & S_IFMT
        let type: EntryType
        switch format {
        case S_IFREG: type = .file
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        default: type = .other
        }
        #if canImport(Darwin)
        let mtime = Int64(info.st_mtimespec.tv_sec)
        #else
        let mtime = Int64(info.st_mtim.tv_sec)
        #endif
        return EntryInfo(type: type, size: Int64(info.st_size), mtime: mtime, mode: UInt32(info.st_mode) & 0o7777)
    }

    /// Names in one directory, read and closed before returning.
    /// `track(true)` follows each open and `track(false)` each close, for the walk's bookkeeping.
    static func listDirectory(_ path: String, track: (Bool) -> Void = { _ in }) -> [String] {
        guard let handle = opendir(path) else { return [] }
        track(true)
        defer {
            closedir(handle)
            track(false)
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }
}
