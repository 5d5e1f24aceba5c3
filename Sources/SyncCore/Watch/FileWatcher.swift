import Foundation

/// Watches a local tree and delivers debounced ``ChangeBatch``es.
///
/// inotify on Linux (recursive, following new directories, overflow → rescan), polling
/// elsewhere or when inotify cannot cover the tree. Ignored paths never produce batches.
/// `swapdev dev` syncs each batch; `swapdev swap --watch` restarts the local process on each.
///
/// ```swift
/// let watcher = try FileWatcher(root: URL(fileURLWithPath: "."), ignores: IgnoreMatcher(root: root))
/// for await batch in watcher.batches { print(batch.paths) }
/// ```
/// Call ``stop()`` when done; it ends ``batches``.
public final class FileWatcher: Sendable {
    /// How changes are noticed.
    public enum Mode: Sendable, Equatable {
        /// inotify where available, else polling every second.
        case automatic
        /// inotify only; the initializer throws when it cannot watch the tree.
        case inotify
        /// Rescan every `interval`.
        case polling(interval: Duration)
    }

    /// Debounced changes, ended by ``stop()``.
    public let batches: AsyncStream<ChangeBatch>
    /// Which mechanism is in use (``Mode/automatic`` resolved).
    public let activeMode: Mode
    private let debouncer: Debouncer
    private let pump: Task<Void, Never>
    private let rawContinuation: AsyncStream<WatchEvent>.Continuation
    #if os(Linux)
    private let inotify: InotifySource?
    #endif
    private let polling: PollingSource?

    /// Starts watching `root` right away.
    /// - Parameters:
    ///   - quiet: how long changes must pause before a batch is emitted.
    public init(root: URL, ignores: IgnoreMatcher, mode: Mode = .automatic, quiet: Duration = .milliseconds(50)) throws {
        let scanner = TreeScanner(root: root, ignores: ignores)
        let debouncer = Debouncer(quiet: quiet)
        let (raw, continuation) = AsyncStream.makeStream(of: WatchEvent.self, bufferingPolicy: .unbounded)
        self.debouncer = debouncer
        self.rawContinuation = continuation
        self.batches = debouncer.batches
        let emit: @Sendable (WatchEvent) -> Void = { continuation.yield($0) }
        var resolved = mode
        #if os(Linux)
        var inotify: InotifySource?
        if mode == .automatic || mode == .inotify {
            do {
                inotify = try InotifySource(scanner: scanner, emit: emit)
                resolved = .inotify
            } catch {
                if mode == .inotify { throw error }
                resolved = .polling(interval: .seconds(1))
            }
        }
        self.inotify = inotify
        #else
        if mode == .inotify { throw WatchError.inotifyUnavailable(errno: 0) }
        if mode == .automatic { resolved = .polling(interval: .seconds(1)) }
        #endif
        if case .polling(let interval) = resolved {
            polling = PollingSource(scanner: scanner, interval: interval, emit: emit)
        } else {
            polling = nil
        }
        activeMode = resolved
        pump = Task {
            for await event in raw { await debouncer.add(event) }
            await debouncer.finish()
        }
    }

    /// Stops watching; pending changes are delivered, then ``batches`` ends.
    public func stop() {
        #if os(Linux)
        inotify?.stop()
        #endif
        polling?.stop()
        rawContinuation.finish()
    }

    deinit {
        stop()
    }
}
