/// Runs the local command of a swap or dev loop: start, forward signals, restart, stop.
///
/// ```swift
/// let supervisor = ProcessSupervisor(command: LocalCommand(arguments: ["go", "run", "."], environment: env))
/// try await supervisor.start()
/// let status = await supervisor.waitForExit()   // survives restarts for --watch
/// ```
public actor ProcessSupervisor {
    public let command: LocalCommand
    /// Hand the terminal's foreground to the command (when swapdev holds it).
    public let foreground: Bool
    /// How long a restarted or stopped command gets between SIGTERM and SIGKILL.
    public let stopGrace: Duration
    private var current: ChildProcess?
    private var restarts = 0
    /// Set while ``restart()`` replaces the process, so waiters do not take the old one's end as final.
    private var restarting = false

    public init(command: LocalCommand, foreground: Bool = true, stopGrace: Duration = .seconds(5)) {
        self.command = command
        self.foreground = foreground
        self.stopGrace = stopGrace
    }

    /// Starts the command; a second call while it runs does nothing.
    public func start() throws(LocalProcessError) {
        if let current, current.exitStatus == nil { return }
        current = try ChildProcess.spawn(command, foreground: foreground)
    }

    /// The running process, if any.
    public var process: ChildProcess? { current }

    /// How many times ``restart()`` started the command again.
    public var restartCount: Int { restarts }

    /// Whether ``restart()`` is replacing the process right now (its end is expected).
    public var isRestarting: Bool { restarting }

    /// Sends `signal` to the command's process group.
    public func signal(_ signal: Int32) {
        current?.signalGroup(signal)
    }

    /// Stops the command (SIGTERM, then SIGKILL after the grace period) and starts it again.
    public func restart() async throws(LocalProcessError) {
        restarting = true
        defer { restarting = false }
        if let old = current {
            await old.terminate(grace: stopGrace)
        }
        restarts += 1
        current = try ChildProcess.spawn(command, foreground: foreground)
    }

    /// Stops the command; returns how it ended, `nil` when it never ran.
    @discardableResult
    public func stop() async -> ExitStatus? {
        guard let current else { return nil }
        return await current.terminate(grace: stopGrace)
    }

    /// Waits until the command ends for good: an end caused by ``restart()`` does not count.
    public func waitForExit() async -> ExitStatus? {
        while let child = current {
            let status = await child.wait()
            if current === child, !restarting { return status }
            if restarting { try? await Task.sleep(for: .milliseconds(10)) }
        }
        return nil
    }
}
