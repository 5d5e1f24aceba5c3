import Foundation
import Testing
@testable import SandboxRuntime

/// Two registries on one state directory stand for two sandbox processes: flock locks belong to
/// open file descriptions, so they conflict between the two exactly as between processes.
@Suite("Mount points shared by sandboxes on one host")
struct MountPointRegistryTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-mp-\(UUID().uuidString)").path

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func aPathAnotherSandboxStillUsesStaysUntilItsLastUserReleasesIt() throws {
        let state = root + "/state"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let first = MountPointRegistry(stateDirectory: state)
        let second = MountPointRegistry(stateDirectory: state)
        let target = root + "/var/run/swapdev-deadman"

        let heldByFirst = try first.acquire(target, isFile: false)
        #expect(heldByFirst == [root + "/var", root + "/var/run", target], "the root existed before: only what was created is held")
        let heldBySecond = try second.acquire(target, isFile: false)
        #expect(heldBySecond == heldByFirst, "the second sandbox finds the first one's paths by their markers")

        first.release(heldByFirst)
        #expect(exists(target), "removed while the other sandbox's pod still mounts it")
        #expect(first.isEmpty)

        second.release(heldBySecond)
        #expect(!exists(root + "/var"), "the last user removes what was created")
        let markers = try FileManager.default.contentsOfDirectory(atPath: state).filter { $0 != ".lock" }
        #expect(markers.isEmpty, "markers left: \(markers)")
        #expect(exists(root), "a path that existed before is never removed")
    }

    @Test func onePodOfTheSameSandboxReleasingLeavesThePathToTheOther() throws {
        let state = root + "/state"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let registry = MountPointRegistry(stateDirectory: state)
        let file = root + "/etc/app.conf"
        let podA = try registry.acquire(file, isFile: true)
        let podB = try registry.acquire(file, isFile: true)
        registry.release(podA)
        #expect(exists(file))
        registry.release(podB)
        #expect(!exists(file) && !exists(root + "/etc"))
        #expect(registry.isEmpty)
    }
}
