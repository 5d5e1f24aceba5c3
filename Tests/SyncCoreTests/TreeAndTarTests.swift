import Foundation
import Testing
@testable import SyncCore

@Suite struct TreeScannerTests {
    @Test func scansFilesHonouringIgnoresAndSymlinkRules() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write(".gitignore", "ignored/\n*.tmp\n")
        try tree.write("a.txt", "hello")
        try tree.write("src/main.py", "print(1)")
        try tree.write("ignored/x", "no")
        try tree.write("x.tmp", "no")
        try tree.write(".git/HEAD", "ref")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/inside", withDestinationPath: "src/main.py")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/src/up", withDestinationPath: "../a.txt")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/outside", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/escape", withDestinationPath: "../../etc")
        let result = TreeScanner(root: tree.url, ignores: IgnoreMatcher(root: tree.url)).scan()
        #expect(Set(result.manifest.keys) == [".gitignore", "a.txt", "src/main.py", "inside", "src/up"])
        #expect(result.manifest["a.txt"]?.size == 5)
        #expect(result.manifest["inside"]?.kind == .symlink(target: "src/main.py"))
        #expect(Set(result.skippedSymlinks) == ["outside", "escape"])
        #expect(Set(result.directories) == ["", "src"])
    }

    @Test func largeTreeDoesNotExhaustDescriptors() async throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        // Heavy file-system work runs on a thread of its own, not on the cooperative pool that
        // the other (parallel) tests need.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try Self.checkLargeTree(tree)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func checkLargeTree(_ tree: TemporaryTree) throws {
        // 50,000 files in 500 directories, 60 levels deep in one branch. The descriptor limit is
        // process-wide (and tests run in parallel), so instead of lowering it the walk's own
        // bookkeeping is checked: never more than one directory open at a time.
        for d in 0..<500 {
            let dir = tree.path + "/d\(d % 10)/e\(d)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in 0..<100 {
                FileManager.default.createFile(atPath: dir + "/f\(f)", contents: nil)
            }
        }
        let deep = (0..<60).map { "l\($0)" }.joined(separator: "/")
        try tree.write(deep + "/bottom.txt", "deep")
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        let result = TreeScanner(root: tree.url, ignores: IgnoreMatcher(root: tree.url)).scan()
        #expect(result.manifest.count == 50_001)
        #expect(result.manifest[deep + "/bottom.txt"] != nil)
        #expect(result.peakOpenDirectories == 1)
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        // Other tests open and close descriptors meanwhile; a leak per directory would be hundreds.
        #expect(after - before < 50, "descriptors before \(before), after \(after)")
    }
}

/// Collects a tar stream in memory.
final class BufferSink: TarSink, @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [UInt8] = []
    private(set) var chunkCount = 0

    func write(_ bytes: [UInt8]) async throws {
        lock.withLock {
            storage += bytes
            chunkCount += 1
        }
    }

    var bytes: [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

@Suite struct TarStreamerTests {
    @Test func gnuTarExtractsWhatWeWrite() async throws {
        let source = try TemporaryTree()
        let target = try TemporaryTree()
        defer { source.remove(); target.remove() }
        let longName = String(repeating: "long-directory-name/", count: 8) + String(repeating: "n", count: 120) + ".txt"
        try source.write("small.txt", "hello\n")
        try source.write(longName, "deep")
        try source.write("empty", "")
        try source.write("ünïcode/файл.txt", "utf8")
        let big = String(repeating: "0123456789abcdef", count: 40_000)
        try source.write("big.bin", big)
        chmod(source.path + "/small.txt", 0o755)
        try FileManager.default.createSymbolicLink(atPath: source.path + "/link", withDestinationPath: "small.txt")
        let scanned = TreeScanner(root: source.url, ignores: IgnoreMatcher(root: source.url)).scan().manifest
        let sink = BufferSink()
        let sent = try await TarStreamer(root: source.url).stream(Array(scanned.values), to: sink)
        #expect(sent.count == 6)
        #expect(sink.bytes.count % 512 == 0)
        #expect(sink.chunkCount > 1, "a 640 KB file must be streamed in several chunks")
        let extracted = try run(["tar", "-xof", "-", "-C", target.path], stdin: Data(sink.bytes))
        #expect(extracted.status == 0, "tar said: \(extracted.output)")
        for path in ["small.txt", longName, "empty", "ünïcode/файл.txt", "big.bin"] {
            let original = FileManager.default.contents(atPath: source.path + "/" + path)
            let copy = FileManager.default.contents(atPath: target.path + "/" + path)
            #expect(copy != nil && copy == original, "\(path) differs after extraction")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.path + "/link") == "small.txt")
        let copied = TreeScanner(root: target.url, ignores: IgnoreMatcher(root: target.url)).scan().manifest
        // Size and mtime survive, so the next diff sends nothing.
        #expect(SyncPlan.initial(local: scanned, remote: copied).isEmpty)
        #expect((copied["small.txt"]?.mode ?? 0) & 0o111 != 0, "the executable bit must survive")
    }

    @Test func skipsFilesThatVanished() async throws {
        let source = try TemporaryTree()
        defer { source.remove() }
        try source.write("a", "1")
        let entries = [FileEntry(path: "a", size: 1, modificationTime: 0), FileEntry(path: "gone", size: 9, modificationTime: 0)]
        let sink = BufferSink()
        let sent = try await TarStreamer(root: source.url).stream(entries, to: sink)
        #expect(sent.map(\.path) == ["a"])
        #expect(sink.bytes.count == 512 * 2 + 1024)
    }

    @Test func paxLengthFieldCountsItself() {
        let body = TarHeader.paxBody([("path", String(repeating: "a", count: 93))])
        // " path=" + 93 + "\n" = 100 bytes, plus "103" = 103.
        #expect(String(decoding: body, as: UTF8.self).hasPrefix("103 path="))
        #expect(body.count == 103)
    }
}

@Suite struct SyncPlanTests {
    @Test func initialSyncSendsOnlyDifferences() {
        let local: Manifest = [
            "same": FileEntry(path: "same", size: 1, modificationTime: 10),
            "newer": FileEntry(path: "newer", size: 1, modificationTime: 20),
            "bigger": FileEntry(path: "bigger", size: 2, modificationTime: 10),
            "new": FileEntry(path: "new", size: 1, modificationTime: 10),
        ]
        let remote: Manifest = [
            "same": FileEntry(path: "same", size: 1, modificationTime: 10),
            "newer": FileEntry(path: "newer", size: 1, modificationTime: 10),
            "bigger": FileEntry(path: "bigger", size: 1, modificationTime: 10),
            "remote-only": FileEntry(path: "remote-only", size: 1, modificationTime: 10),
        ]
        let plan = SyncPlan.initial(local: local, remote: remote)
        #expect(plan.uploads.map(\.path) == ["bigger", "new", "newer"])
        #expect(plan.deletions.isEmpty, "the initial sync never deletes remote files")
        #expect(plan.uploadBytes == 4)
    }
}
