import Foundation
import Testing
@testable import SyncCore

/// The remote scripts run here with the host's sh, tar, find and stat, as in a container.
@Suite struct RemoteCommandsTests {
    @Test func manifestListsFilesAndRoundTripsWithTar() async throws {
        let source = try TemporaryTree()
        let remote = try TemporaryTree()
        defer { source.remove(); remote.remove() }
        try source.write("a.txt", "abc")
        try source.write("dir/with space|pipe.txt", "x")
        let local = TreeScanner(root: source.url, ignores: IgnoreMatcher(root: source.url)).scan().manifest
        let sink = BufferSink()
        try await TarStreamer(root: source.url).stream(Array(local.values), to: sink)
        let target = remote.path + "/app"
        let extract = try run(RemoteCommands.extract(remote: target), stdin: Data(sink.bytes))
        #expect(extract.status == 0, "\(extract.output)")
        try remote.write("app/.git/HEAD", "x")
        let listed = try run(RemoteCommands.manifest(remote: target))
        #expect(listed.status == 0, "\(listed.output)")
        let manifest = RemoteCommands.parseManifest(listed.output)
        #expect(Set(manifest.keys) == ["a.txt", "dir/with space|pipe.txt"])
        #expect(SyncPlan.initial(local: local, remote: manifest).isEmpty)
    }

    @Test func manifestReportsUnwritableDirectory() throws {
        let remote = try TemporaryTree()
        defer { remote.remove() }
        // /proc cannot hold new directories even for root.
        let listed = try run(RemoteCommands.manifest(remote: "/proc/swapdev-test"))
        #expect(listed.status == RemoteCommands.notWritableExitCode)
    }

    @Test func manifestReportsMissingTar() throws {
        let remote = try TemporaryTree()
        defer { remote.remove() }
        // A PATH without tar stands for an image without it; sh itself is given by absolute path.
        var argv = RemoteCommands.manifest(remote: remote.path)
        argv[0] = "/bin/sh"
        let listed = try run(["env", "PATH=/nonexistent"] + argv)
        #expect(listed.status == RemoteCommands.noTarExitCode)
    }

    @Test func deleteRemovesOnlyNamedPathsBelowTheRoot() throws {
        let remote = try TemporaryTree()
        defer { remote.remove() }
        try remote.write("keep", "1")
        try remote.write("gone", "1")
        try remote.write("-rf", "1")
        try remote.write("dir/inner", "1")
        let input = RemoteCommands.deletionInput(["gone", "-rf", "dir", "../escape", "/abs"])
        let result = try run(RemoteCommands.delete(remote: remote.path), stdin: Data(input))
        #expect(result.status == 0, "\(result.output)")
        let left = try FileManager.default.contentsOfDirectory(atPath: remote.path)
        #expect(left == ["keep"])
    }

    @Test func parseManifestSkipsMalformedLines() {
        let manifest = RemoteCommands.parseManifest("regular file|3|100|./a\nsymbolic link|4|5|./l\ngarbage\n")
        #expect(manifest["a"] == FileEntry(path: "a", size: 3, modificationTime: 100))
        #expect(manifest["l"]?.kind == .symlink(target: ""))
        #expect(manifest.count == 2)
    }
}
