import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a tar stream goes: the stdin of `tar xf -` in the container, a file, a test buffer.
public protocol TarSink: Sendable {
    /// Accepts the next bytes of the archive; called with chunks of at most ``TarStreamer/chunkSize``.
    func write(_ bytes: [UInt8]) async throws
}

/// Why part of a tree could not be archived.
public struct TarStreamError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// Writes a tar archive of chosen files of a tree to a ``TarSink``, one chunk at a time, so
/// memory stays bounded however large the tree (never more than one chunk and one open file).
public struct TarStreamer: Sendable {
    /// Bytes handed to the sink at once.
    public static let chunkSize = 256 * 1024

    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// Streams `entries` (paths relative to ``root``) and the end-of-archive marker.
    ///
    /// The header carries the size found when the file is opened; a file that shrinks while it
    /// is read is padded with zeros and one that grows is cut, so the archive stays valid —
    /// the watcher will see the write and send it again.
    /// - Returns: the entries actually archived (files that vanished meanwhile are skipped).
    @discardableResult
    public func stream(_ entries: [FileEntry], to sink: some TarSink) async throws -> [FileEntry] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.chunkSize)
        var sent: [FileEntry] = []
        for entry in entries {
            let path = root.path + "/" + entry.path
            switch entry.kind {
            case .symlink:
                buffer += TarHeader.blocks(path: entry.path, kind: entry.kind, size: 0, mode: 0o777, modificationTime: entry.modificationTime)
                sent.append(entry)
            case .file:
                let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                if fd < 0 { continue }
                defer { close(fd) }
                var info = stat()
                guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let size = Int64(info.st_size)
                #if canImport(Darwin)
                let mtime = Int64(info.st_mtimespec.tv_sec)
                #else
                let mtime = Int64(info.st_mtim.tv_sec)
                #endif
                let mode = UInt32(info.st_mode) & 0o7777
                buffer += TarHeader.blocks(path: entry.path, kind: .file, size: size, mode: mode, modificationTime: mtime)
                var remaining = size
                while remaining > 0 {
                    if buffer.count >= Self.chunkSize {
                        try await sink.write(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                    let want = Int(min(remaining, Int64(Self.chunkSize - buffer.count)))
                    let start = buffer.count
                    buffer += [UInt8](repeating: 0, count: want)
                    let got = buffer.withUnsafeMutableBytes { raw in
                        read(fd, raw.baseAddress.map { $0 + start }, want)
                    }
                    if got <= 0 {
                        // Shrunk (or failed) mid-read: keep the zeros already appended and pad the rest.
                        remaining -= Int64(want)
                        while remaining > 0 {
                            let pad = Int(min(remaining, Int64(Self.chunkSize)))
                            buffer += [UInt8](repeating: 0, count: pad)
                            remaining -= Int64(pad)
                            if buffer.count >= Self.chunkSize {
                                try await sink.write(buffer)
                                buffer.removeAll(keepingCapacity: true)
                            }
                        }
                        break
                    }
                    if got < want { buffer.removeLast(want - got) }
                    remaining -= Int64(got)
                }
                buffer += TarHeader.padding(for: size)
                sent.append(FileEntry(path: entry.path, size: size, modificationTime: mtime, mode: mode))
            }
            if buffer.count >= Self.chunkSize {
                try await sink.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        buffer += TarHeader.endOfArchive
        try await sink.write(buffer)
        return sent
    }
}
