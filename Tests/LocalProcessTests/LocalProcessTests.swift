import Foundation
import Testing
@testable import LocalProcess

/// Spawns real processes; serialized because signal dispositions are process-wide.
@Suite("Local command: process group, signals, exit codes, restart", .serialized, .timeLimit(.minutes(1)))
struct LocalProcessTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-lp-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func sh(_ script: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"], workingDirectory: String? = nil) -> LocalCommand {
        LocalCommand(arguments: ["/bin/sh", "-c", script], environment: environment, workingDirectory: workingDirectory)
    }

    func read(_ name: String) -> String {
        ((try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls until `condition` holds, for at most `seconds`.
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func exitCodeIsReported() async throws {
        let child = try ChildProcess.spawn(sh("exit 7"), foreground: false)
        #expect(await child.wait() == .exited(7))
        #expect(await child.wait().code == 7, "a second wait sees the same status")
    }

    @Test func deathBySignalIs128PlusSignal() async throws {
        let child = try ChildProcess.spawn(sh("kill -TERM $$; sleep 5"), foreground: false)
        let status = await child.wait()
        #expect(status == .signaled(SIGTERM))
        #expect(status.code == 143)
    }

    @Test func runsInItsOwnProcessGroupWithExactEnvironmentAndDirectory() async throws {
        let script = "echo $$ $(ps -o pgid= -p $$) > \(directory)/ids; env | sort > \(directory)/env; pwd > \(directory)/pwd"
        let child = try ChildProcess.spawn(sh(script, environment: ["PATH": "/usr/bin:/bin", "ONLY": "this one"], workingDirectory: "/usr"),
                                           foreground: false)
        #expect(await child.wait() == .exited(0))
        let ids = read("ids").split(separator: " ").map(String.init)
        #expect(ids == ["\(child.pid)", "\(child.pid)"], "pid and pgid")
        let env = read("env").split(separator: "\n").filter { !$0.hasPrefix("PWD=") }
        #expect(env == ["ONLY=this one", "PATH=/usr/bin:/bin"])
        #expect(read("pwd") == "/usr")
    }

    @Test func theCommandInheritsOnlyStandardInputOutputAndError() async throws {
        // A pipe is not close-on-exec: exactly what a child would inherit without the spawn's
        // close-from action (Foundation's pipes and SwiftNIO's listeners are like it).
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(fcntl(ends[1], F_GETFD) & FD_CLOEXEC == 0)
        let script = "ls /proc/$$/fd > \(directory)/fds"
        let child = try ChildProcess.spawn(sh(script), foreground: false)
        #expect(await child.wait() == .exited(0))
        // The shell's /proc/$$, not ls's /proc/self; dash keeps a copy of its stdout at 10 or
        // above while the redirection is in place.
        let open = Set(read("fds").split(separator: "\n").compactMap { Int32($0) })
        #expect(open.isSuperset(of: [0, 1, 2]))
        #expect(open.isDisjoint(with: ends), "the command inherited this process's pipe \(ends): it has \(open.sorted())")
    }

    @Test func signalReachesTheWholeGroup() async throws {
        let script = "sleep 30 & echo $! > \(directory)/grandchild; wait"
        let child = try ChildProcess.spawn(sh(script), foreground: false)
        #expect(try await eventually { !read("grandchild").isEmpty })
        let grandchild = try #require(pid_t(read("grandchild")))
        child.signalGroup(SIGTERM)
        #expect(await child.wait() == .signaled(SIGTERM))
        #expect(try await eventually { kill(grandchild, 0) != 0 }, "the background sleep got the signal too")
    }

    @Test func terminateEscalatesToKill() async throws {
        let child = try ChildProcess.spawn(sh("trap '' TERM; echo up > \(directory)/up; while :; do sleep 0.05; done"), foreground: false)
        #expect(try await eventually { read("up") == "up" })
        let started = Date()
        let status = await child.terminate(grace: .milliseconds(300))
        #expect(status == .signaled(SIGKILL))
        #expect(status.code == 137)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func trappedSignalsAreDefaultAgainInTheChild() async throws {
        let trap = SignalTrap(signals: [SIGINT])
        defer { trap.cancel() }
        // With SIGINT ignored in the child, sh would survive its own kill and exit 0.
        let child = try ChildProcess.spawn(sh("kill -INT $$; exit 0"), foreground: false)
        #expect(await child.wait() == .signaled(SIGINT))
    }

    // SIGUSR1/SIGUSR2, not the termination signals: other suites in this process may be
    // running a swap that traps those.
    @Test func signalTrapDeliversInsteadOfDying() async throws {
        let trap = SignalTrap(signals: [SIGUSR1])
        defer { trap.cancel() }
        kill(getpid(), SIGUSR1)
        var iterator = trap.signals.makeAsyncIterator()
        let received = await iterator.next()
        #expect(received == SIGUSR1)
    }

    @Test func overlappingTrapsKeepTheHandlerUntilTheLastIsCancelled() async throws {
        let first = SignalTrap(signals: [SIGUSR2])
        let second = SignalTrap(signals: [SIGUSR2])
        first.cancel()
        // Were the default back, SIGUSR2 would kill the test process here.
        kill(getpid(), SIGUSR2)
        var iterator = second.signals.makeAsyncIterator()
        #expect(await iterator.next() == SIGUSR2)
        second.cancel()
        var action = sigaction()
        sigaction(SIGUSR2, nil, &action)
        #expect(action.__sigaction_handler.sa_handler == nil, "SIG_DFL once the last trap is gone")
    }

    @Test func missingCommandIsAClearError() {
        let error = #expect(throws: LocalProcessError.self) {
            try ChildProcess.spawn(LocalCommand(arguments: ["no-such-command-xyz"], environment: ["PATH": "/usr/bin"]), foreground: false)
        }
        #expect(error?.description.contains("no-such-command-xyz") == true)
        #expect(error?.description.contains("PATH") == true)
        #expect(throws: LocalProcessError.emptyCommand) { try ChildProcess.spawn(LocalCommand(arguments: [], environment: [:])) }
    }

    @Test func supervisorRestartsAndReportsTheFinalExit() async throws {
        let counter = "\(directory)/runs"
        let supervisor = ProcessSupervisor(
            command: sh("echo run >> \(counter); test $(wc -l < \(counter)) -ge 2 && exit 3; sleep 30"),
            foreground: false, stopGrace: .seconds(2)
        )
        try await supervisor.start()
        #expect(try await eventually { read("runs") == "run" })
        let waiter = Task { await supervisor.waitForExit() }
        try await supervisor.restart()
        #expect(await waiter.value == .exited(3), "the wait outlives the restart and sees the second run's exit")
        #expect(read("runs").split(separator: "\n").count == 2)
        #expect(await supervisor.restartCount == 1)
    }

    @Test func supervisorStopEndsTheGroup() async throws {
        let supervisor = ProcessSupervisor(command: sh("sleep 30"), foreground: false, stopGrace: .seconds(2))
        try await supervisor.start()
        let status = await supervisor.stop()
        #expect(status == .signaled(SIGTERM))
    }
}
