import Foundation
import Testing
@testable import SyncCore

/// Collects batches until `predicate` holds on their union, or the deadline passes.
func collect(_ watcher: FileWatcher, seconds: Double = 5, until predicate: @escaping @Sendable (Set<String>) -> Bool) async -> Set<String> {
    await withTaskGroup(of: Set<String>?.self) { group in
        group.addTask {
            var seen: Set<String> = []
            for await batch in watcher.batches {
                seen.formUnion(batch.paths)
                if predicate(seen) { return seen }
            }
            return seen
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        watcher.stop()
        return first ?? []
    }
}

@Suite(.serialized) struct WatcherTests {
    @Test(arguments: [FileWatcher.Mode.inotify, .polling(interval: .milliseconds(100))])
    func seesWritesDeletesAndFilesInNewDirectories(mode: FileWatcher.Mode) async throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "*.log\n")
        try tree.write("old.txt", "1")
        let watcher = try FileWatcher(root: tree.url, ignores: IgnoreMatcher(root: tree.url), mode: mode, quiet: .milliseconds(30))
        #expect(watcher.activeMode == mode)
        let writer = Task {
            try? await Task.sleep(for: .milliseconds(200))
            _ = try? tree.write("new/deeper/file.txt", "hello")
            _ = try? tree.write("app.log", "ignored")
            try? FileManager.default.removeItem(atPath: tree.path + "/old.txt")
        }
        let seen = await collect(watcher) { $0.isSuperset(of: ["new/deeper/file.txt", "old.txt"]) }
        _ = await writer.value
        #expect(seen.isSuperset(of: ["new/deeper/file.txt", "old.txt"]), "saw \(seen)")
        #expect(!seen.contains("app.log"), "ignored files must not produce changes")
    }

    @Test func inotifyWatchesDirectoriesCreatedLater() async throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let watcher = try FileWatcher(root: tree.url, ignores: IgnoreMatcher(root: tree.url), mode: .inotify, quiet: .milliseconds(30))
        try tree.mkdir("later")
        try await Task.sleep(for: .milliseconds(200))
        let writer = Task {
            try? await Task.sleep(for: .milliseconds(100))
            _ = try? tree.write("later/x.txt", "1")
        }
        let seen = await collect(watcher) { $0.contains("later/x.txt") }
        _ = await writer.value
        #expect(seen.contains("later/x.txt"), "saw \(seen)")
    }
}

@Suite struct DebouncerTests {
    @Test func mergesABurstIntoOneBatch() async throws {
        let debouncer = Debouncer(quiet: .milliseconds(80))
        for index in 0..<20 { await debouncer.add(.changed("f\(index)")) }
        await debouncer.add(.rescan)
        var iterator = debouncer.batches.makeAsyncIterator()
        let batch = await iterator.next()
        #expect(batch?.paths.count == 20)
        #expect(batch?.needsRescan == true)
        await debouncer.finish()
        #expect(await iterator.next() == nil)
    }

    @Test func maxDelayBoundsAContinuousStream() async throws {
        // The quiet period alone would hold the batch back for 30 s; maxDelay must release it far earlier.
        let debouncer = Debouncer(quiet: .seconds(30), maxDelay: .milliseconds(200))
        let start = ContinuousClock.now
        let feeder = Task {
            for index in 0..<400 {
                await debouncer.add(.changed("f\(index)"))
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        var iterator = debouncer.batches.makeAsyncIterator()
        _ = await iterator.next()
        #expect(ContinuousClock.now - start < .seconds(10), "a batch must come out within maxDelay while writes continue")
        feeder.cancel()
        await debouncer.finish()
    }
}
