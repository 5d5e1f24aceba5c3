import Foundation

/// Watching by rescanning: the fallback where inotify is missing or its limit is reached.
///
/// Each pass walks the tree (one directory descriptor at a time) and reports every path whose
/// kind, size or mtime changed, appeared or disappeared since the previous pass.
final class PollingSource: Sendable {
    private let task: Task<Void, Never>

    init(scanner: TreeScanner, interval: Duration, emit: @escaping @Sendable (WatchEvent) -> Void) {
        task = Task.detached {
            var previous = scanner.scan().manifest
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                let current = scanner.scan().manifest
                for (path, entry) in current where previous[path] != entry { emit(.changed(path)) }
                for path in previous.keys where current[path] == nil { emit(.changed(path)) }
                previous = current
            }
        }
    }

    func stop() {
        task.cancel()
    }
}
