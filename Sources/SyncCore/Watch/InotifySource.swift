#if os(Linux)
import Foundation
import Glibc

/// Recursive inotify watching of a tree, on a thread of its own.
///
/// inotify watches one directory per watch descriptor, so every non-ignored directory gets one
/// (ignored ones such as `node_modules/` never do — that is what keeps big trees cheap). A new
/// directory is watched as soon as its creation is seen and then scanned, because files may
/// have landed in it before the watch existed. A queue overflow becomes ``WatchEvent/rescan``.
/// Watches are not file descriptors: the whole tree costs one descriptor.
final class InotifySource: @unchecked Sendable {
    // Event bits from <sys/inotify.h>, spelled out because Glibc's module does not export them all.
    private static let inAttrib: UInt32 = 0x4
    private static let inCloseWrite: UInt32 = 0x8
    private static let inMovedFrom: UInt32 = 0x40
    private static let inMovedTo: UInt32 = 0x80
    private static let inCreate: UInt32 = 0x100
    private static let inDelete: UInt32 = 0x200
    private static let inDeleteSelf: UInt32 = 0x400
    private static let inQueueOverflow: UInt32 = 0x4000
    private static let inIgnored: UInt32 = 0x8000
    private static let inOnlyDir: UInt32 = 0x0100_0000
    private static let inDontFollow: UInt32 = 0x0200_0000
    private static let inIsDir: UInt32 = 0x4000_0000
    private static let watchMask = inAttrib | inCloseWrite | inMovedFrom | inMovedTo | inCreate | inDelete | inDeleteSelf
        | inOnlyDir | inDontFollow

    private let fd: Int32
    private let scanner: TreeScanner
    private let emit: @Sendable (WatchEvent) -> Void
    private let lock = NSLock()
    // Guarded by `lock`.
    private var watches: [Int32: String] = [:]
    private var stopped = false

    /// Watches the whole tree; throws when inotify is unavailable or the watch limit is reached,
    /// so the caller can fall back to polling.
    init(scanner: TreeScanner, emit: @escaping @Sendable (WatchEvent) -> Void) throws {
        let fd = inotify_init1(Int32(O_CLOEXEC | O_NONBLOCK))
        guard fd >= 0 else { throw WatchError.inotifyUnavailable(errno: errno) }
        self.fd = fd
        self.scanner = scanner
        self.emit = emit
        let result = scanner.scan()
        for directory in result.directories {
            if let error = addWatch(directory) {
                close(fd)
                throw error
            }
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "swapdev-inotify"
        thread.start()
    }

    /// Stops the reader thread (within ~200 ms) and closes the descriptor.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    var watchCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return watches.count
    }

    private func addWatch(_ directory: String) -> WatchError? {
        let wd = inotify_add_watch(fd, scanner.absolute(directory), Self.watchMask)
        if wd < 0 {
            let code = errno
            // The directory vanished between the scan and the watch: nothing to watch.
            if code == ENOENT || code == ENOTDIR { return nil }
            return code == ENOSPC ? .watchLimitReached(directory: scanner.absolute(directory)) : .inotifyUnavailable(errno: code)
        }
        lock.lock()
        watches[wd] = directory
        lock.unlock()
        return nil
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            lock.lock()
            let done = stopped
            lock.unlock()
            if done { break }
            var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollfd, 1, 200)
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { continue }
            handle(buffer, count: count)
        }
        close(fd)
    }

    private func handle(_ buffer: [UInt8], count: Int) {
        var offset = 0
        while offset + 16 <= count {
            let wd = Self.load(Int32.self, buffer, offset)
            let mask = Self.load(UInt32.self, buffer, offset + 4)
            let length = Int(Self.load(UInt32.self, buffer, offset + 12))
            let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            offset += 16 + length
            if mask & Self.inQueueOverflow != 0 {
                emit(.rescan)
                continue
            }
            lock.lock()
            let directory = watches[wd]
            if mask & Self.inIgnored != 0 { watches[wd] = nil }
            lock.unlock()
            guard let directory, !name.isEmpty else { continue }
            let path = directory.isEmpty ? name : directory + "/" + name
            let isDirectory = mask & Self.inIsDir != 0
            if scanner.ignores.isIgnoredItself(path, name: name, isDirectory: isDirectory) { continue }
            if isDirectory && mask & (Self.inCreate | Self.inMovedTo) != 0 {
                // Watch first, then scan, so nothing written in between is missed.
                let result = scanner.scan(from: path)
                for child in result.directories {
                    if addWatch(child) != nil { emit(.rescan) }
                }
                for file in result.manifest.keys { emit(.changed(file)) }
            } else if isDirectory && mask & Self.inMovedFrom != 0 {
                forgetWatches(under: path)
            }
            emit(.changed(path))
        }
    }

    /// A directory moved away keeps its watches under the old name: drop them; the move's
    /// other half (if inside the tree) watches it again under the new one.
    private func forgetWatches(under path: String) {
        lock.lock()
        let stale = watches.filter { $0.value == path || $0.value.hasPrefix(path + "/") }
        for wd in stale.keys { watches[wd] = nil }
        lock.unlock()
        for wd in stale.keys { inotify_rm_watch(fd, wd) }
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, _ buffer: [UInt8], _ offset: Int) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<MemoryLayout<T>.size { raw[index] = buffer[offset + index] }
        }
        return value
    }
}
#endif
