import Foundation
import Testing
@testable import SyncCore

/// Runs the supervisor with the host's sh, as the container would.
@Suite struct SupervisorScriptTests {
    /// Polls `condition` every 50 ms up to `seconds`.
    func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @Test func waitsForGoThenRestartsTheWholeGroupOnHUP() async throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let state = tree.path + "/state"
        let log = tree.path + "/starts"
        // The app appends a line per start and leaves a grandchild that must die with it.
        let app = "echo start >> \(log); sleep 300 & echo $! > \(tree.path)/grandchild; wait"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = SupervisorScript.wrap(["sh", "-c", app])
        process.environment = ["SWAPDEV_STATE": state, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        #expect(await eventually { FileManager.default.fileExists(atPath: state + "/supervisor.pid") })
        try await Task.sleep(for: .milliseconds(300))
        #expect(read(log).isEmpty, "the app must not start before the first sync says go")

        #expect(try run(RemoteCommands.restart(stateDirectory: state)).status == 0)
        #expect(await eventually { read(log) == "start\n" })
        #expect(await eventually { !read(tree.path + "/grandchild").isEmpty })
        let grandchild = try #require(Int32(read(tree.path + "/grandchild").trimmingCharacters(in: .whitespacesAndNewlines)))

        #expect(try run(RemoteCommands.restart(stateDirectory: state)).status == 0)
        #expect(await eventually { read(log) == "start\nstart\n" })
        #expect(await eventually { kill(grandchild, 0) != 0 }, "the old process group must be gone after a restart")
        #expect(process.isRunning)

        process.terminate()
        #expect(await eventually { !process.isRunning })
        let lastGrandchild = Int32(read(tree.path + "/grandchild").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(await eventually { kill(lastGrandchild, 0) != 0 }, "TERM must stop the app's group too")
    }

    @Test func staysUpWhenTheAppExitsAndRestartsOnNextSync() async throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let state = tree.path + "/state"
        let log = tree.path + "/starts"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = SupervisorScript.wrap(["sh", "-c", "echo run >> \(log); exit 3"])
        process.environment = ["SWAPDEV_STATE": state, "PATH": "/usr/bin:/bin"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        #expect(try run(RemoteCommands.restart(stateDirectory: state)).status == 0)
        #expect(await eventually { read(log) == "run\n" })
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.isRunning, "a crashing app must not take the supervisor (and the pod) down")
        #expect(await eventually { FileManager.default.fileExists(atPath: state + "/supervisor.pid") })
        #expect(try run(RemoteCommands.restart(stateDirectory: state)).status == 0)
        #expect(await eventually { read(log) == "run\nrun\n" })
    }
}
