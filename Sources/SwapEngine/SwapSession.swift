import Foundation
import KubeClient
import KubeModel
import LocalProcess
import Logging
import SwapPlan
import SystemSupport

/// `swapdev swap`: preflight → record → proxy pod → sshd → tunnel → env, volumes, outbound →
/// local command → inbound forwards → proxy Ready → scale to 0 → wait → restore.
///
/// ```swift
/// let session = SwapSession(client: client, options: options, reporter: PhaseReporter(quiet: false))
/// let exitCode = try await session.run()   // restores before returning, also on errors
/// ```
///
/// Make-before-break both ways: the inbound forwards open only once the local command listens,
/// the original is scaled to 0 only once the proxy is Ready (its readiness follows the
/// tunnel), and restore brings the original back Ready before the proxy goes. Signals: the
/// first SIGINT/SIGTERM/SIGHUP goes to the local command (or ends the wait) and swapdev
/// restores; a second one still restores; the third aborts and prints what is left and the
/// command that undoes it.
public final class SwapSession: Sendable {
    public let client: KubeClient
    public let options: SwapOptions
    public let reporter: PhaseReporter
    let logger: Logger
    let namespace: String
    let state = SwapState()
    let interrupts = Locked(Interrupts())
    let stopRequests: AsyncStream<Int32>
    let stopContinuation: AsyncStream<Int32>.Continuation

    public init(client: KubeClient, options: SwapOptions, reporter: PhaseReporter, logger: Logger = Logger(label: "swapdev.swap")) {
        self.client = client
        self.options = options
        self.reporter = reporter
        self.logger = logger
        self.namespace = options.namespace ?? client.namespace
        (stopRequests, stopContinuation) = AsyncStream<Int32>.makeStream()
    }

    /// Runs the swap to the end and restores. Returns the local command's exit code (0 when
    /// there is no command and the swap ended with a signal, 130 when a signal interrupted setup).
    public func run() async throws -> Int32 {
        // Bad --watch paths are input errors: said before anything in the cluster changes.
        for path in options.reload?.paths ?? [] { _ = try WatchedTree(path: path) }
        let trap = SignalTrap()
        defer { trap.cancel() }
        let monitor = Task { await monitorSignals(trap) }
        defer { monitor.cancel() }

        // Both only read (the guards: HPAs, ScaledObjects, access reviews; the preflight: the
        // Deployment and its Services), so they run at once; a guard's refusal still wins.
        async let guardsChecked = reporter.phase("check guards", done: "guards passed") {
            try await safety.checkGuards(deployment: try await client.get(.deployments, namespace: namespace, name: options.target.deployment))
        }
        async let deploymentChecked = reporter.phase("read deployment \(options.target.deployment)",
                                                     done: "deployment \(namespace)/\(options.target.deployment) checked") {
            try await SwapPreflight.run(client: client, namespace: namespace, options: options)
        }
        let guardReport = try await guardsChecked
        let preflight = try await deploymentChecked

        var exitCode: Int32 = 0
        var failure: (any Error)?
        var reloading: Reloading?
        let running = RunningSwap()
        running.guardReport = guardReport
        do {
            try await cancellableStep { try await self.setUp(preflight, running) }
            reloading = try await startLocalCommand(running)
            try await cancellableStep { try await self.activate(preflight, running) }
            exitCode = reloading == nil ? await waitUntilDone() : await waitWhileReloading()
        } catch {
            failure = error
        }
        reloading?.reloader.stop()
        reloading?.task.cancel()
        return try await finish(preflight, running, exitCode: exitCode, failure: failure)
    }

    /// A `--watch` reloader and the task running it.
    private typealias Reloading = (reloader: LocalReloader, task: Task<Void, Never>)

    /// Starts the user's command, if there is one, with the swap's environment, and with
    /// `--watch` the reloader that restarts it on changes.
    private func startLocalCommand(_ running: RunningSwap) async throws -> Reloading? {
        guard let arguments = options.command, !arguments.isEmpty else { return nil }
        let supervisor = ProcessSupervisor(command: LocalCommand(arguments: arguments, environment: running.environment))
        try await supervisor.start()
        state.supervisor = supervisor
        reporter.line("✓ local command started: \(arguments.joined(separator: " "))")
        guard let reload = options.reload else { return nil }
        let reloader = try LocalReloader(reload, supervisor: supervisor, reporter: reporter)
        let task = Task { await reloader.run() }
        reporter.line("✓ watching \(reload.paths.map(\.path).joined(separator: ", ")): a change restarts the local command")
        return (reloader, task)
    }

    /// The end of a swap, however it came (the command exited, a signal, a failure): stops the
    /// local command — at once, or after the proxy is drained when a signal was deferred to keep
    /// it serving — restores, and returns the exit code or throws the first error.
    private func finish(_ preflight: SwapPreflight, _ running: RunningSwap, exitCode: Int32, failure: (any Error)?) async throws -> Int32 {
        var exitCode = exitCode
        var failure = failure
        var childStatus: ExitStatus?
        let deferredStop = failure == nil ? interrupts.current.deferredSignal.flatMap { signal in state.supervisor.map { (signal, $0) } } : nil
        if deferredStop == nil, let supervisor = state.supervisor {
            // Setup failed or was interrupted after the command started: it must not outlive the swap.
            childStatus = await supervisor.stop()
            state.supervisor = nil
        }
        if failure != nil, interrupts.current.count > 0 {
            // A signal cancelled setup: not an error, the user asked to stop.
            reporter.line("interrupted; restoring")
            failure = nil
            exitCode = childStatus?.code ?? 130
        }

        running.heartbeat?.cancel()
        running.watchTunnel?.cancel()
        // The local command's end when teardown stopped it (after a deferred signal).
        let stoppedCommand = Locked<ExitStatus?>(nil)
        var stopCommand: (@Sendable () async -> Void)?
        if let (signal, supervisor) = deferredStop {
            let reporter = self.reporter
            stopCommand = {
                // The original serves and the proxy is drained: now the command gets the signal.
                await supervisor.signal(signal)
                let escalation = Task {
                    try await Task.sleep(for: supervisor.stopGrace)
                    _ = await supervisor.stop()   // SIGTERM, then SIGKILL: it ignored the signal
                }
                let status = await supervisor.waitForExit()
                escalation.cancel()
                stoppedCommand.withLock { $0 = status }
                if let status { reporter.line("local command \(status)") }
            }
        }
        let restoreError = await tearDown(preflight, beforeRemovingProxy: stopCommand)
        if let (_, supervisor) = deferredStop {
            // Restore failed before the drain: the command must not outlive the swap either way.
            if stoppedCommand.current == nil {
                let status = await supervisor.stop()
                stoppedCommand.withLock { $0 = status }
            }
            state.supervisor = nil
            exitCode = stoppedCommand.current?.code ?? 0
        }
        if let failure { throw failure }
        if let restoreError { throw restoreError }
        return exitCode
    }

    /// Runs `body` as a task the first signal can cancel.
    private func cancellableStep(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = Task { try await body() }
        state.setup = task
        defer { state.setup = nil }
        if interrupts.current.count > 0 { task.cancel() }
        try await task.value
    }

    /// Waits for the local command to end, or without one for a signal.
    private func waitUntilDone() async -> Int32 {
        guard let supervisor = state.supervisor else {
            reporter.line("swap is up; press Ctrl-C to restore")
            var iterator = stopRequests.makeAsyncIterator()
            _ = await iterator.next()
            return 0
        }
        // Whichever comes first: the command ends, or a stop request whose signal is deferred
        // (then the supervisor stays for teardown, which stops the command after the drain).
        let stopRequests = self.stopRequests
        let interrupts = self.interrupts
        let decided = Locked(false)
        var listener: Task<Void, Never>?
        let outcome: CommandWait = await withCheckedContinuation { continuation in
            Task {
                let status = await supervisor.waitForExit()
                if decided.setOnce() { continuation.resume(returning: .exited(status)) }
            }
            listener = Task {
                for await _ in stopRequests where interrupts.current.deferredSignal != nil {
                    if decided.setOnce() { continuation.resume(returning: .stopDeferred) }
                    return
                }
            }
        }
        listener?.cancel()
        guard case .exited(let status) = outcome else { return 0 }
        state.supervisor = nil
        if let status { reporter.line("local command \(status)") }
        return status?.code ?? 0
    }

    /// `--watch`: the swap outlives the local command. When the command exits (a crash, a
    /// compile error) the tunnels stay up and the next change starts it again, as nodemon or
    /// air do; only a signal ends the swap.
    private func waitWhileReloading() async -> Int32 {
        reporter.line("swap is up; edits restart the local command; press Ctrl-C to restore")
        let exits = Task { [state, reporter] in
            // Reports exits the user did not ask for; restarts replace `process`, which ends the inner wait.
            while !Task.isCancelled, let supervisor = state.supervisor, let child = await supervisor.process {
                let status = await child.wait()
                let isCurrent = await supervisor.process === child
                let isRestarting = await supervisor.isRestarting
                let replaced = !isCurrent || isRestarting
                if !replaced, self.interrupts.current.count == 0 {
                    reporter.line("local command \(status); waiting for a change to start it again (Ctrl-C restores)")
                }
                while !Task.isCancelled, await supervisor.process === child {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        defer { exits.cancel() }
        var iterator = stopRequests.makeAsyncIterator()
        _ = await iterator.next()
        return 0
    }

    /// Ends the swap as SIGTERM would: the local command gets SIGTERM, setup still under way
    /// stops, and ``run()`` restores and returns. For embedders (an IDE plugin) and tests.
    public func requestStop() async {
        await stop(with: SIGTERM)
    }

    private func monitorSignals(_ trap: SignalTrap) async {
        for await signal in trap.signals {
            await stop(with: signal)
        }
    }

    private func stop(with signal: Int32) async {
        let count = interrupts.withLock { $0.count += 1; return $0.count }
        if count >= 3 { abortSwap() }
        if count == 1, state.scaledDown, state.supervisor != nil {
            // The swap serves traffic: the command keeps serving until the original is back
            // and the proxy drained (make-before-break), then gets this signal. A Ctrl-C in the
            // terminal reaches the command directly; this is for SIGTERM from an IDE or kill.
            interrupts.withLock { $0.deferredSignal = signal }
            reporter.line("restoring before stopping the local command (signal \(signal))")
        } else if let supervisor = state.supervisor {
            // During setup, or a second signal: the command gets it now.
            await supervisor.signal(signal)
        }
        // Setup still under way stops, then swapdev restores.
        state.setup?.cancel()
        stopContinuation.yield(signal)
        if count == 2 { reporter.warning("restoring; press Ctrl-C once more to abort and leave the swap in place") }
    }

    private func abortSwap() -> Never {
        let left = state.leftovers
        reporter.warning("aborted. Left in the cluster: \(left.isEmpty ? "nothing" : left.joined(separator: ", "))")
        reporter.warning("undo it with: swapdev restore \(options.target.deployment) -n \(namespace)")
        exit(130)
    }

    /// Restores the cluster (if anything was recorded) while the tunnel is still up, then
    /// closes the local side. Returns the restore error instead of throwing, so a setup error
    /// is not hidden by it.
    private func tearDown(_ preflight: SwapPreflight, beforeRemovingProxy: (@Sendable () async -> Void)? = nil) async -> (any Error)? {
        var restoreError: (any Error)?
        state.tunnel?.stopReconnecting()
        if state.recorded {
            do {
                let restorer = SwapRestorer(client: client, namespace: namespace, deployment: options.target.deployment,
                                            timeout: options.timeout, reporter: reporter)
                try await restorer.restore(before: preflight.deployment, fallbackRecord: state.record,
                                           beforeRemovingProxy: beforeRemovingProxy)
            } catch {
                restoreError = error
            }
            if let record = state.record { await safety.cleanUp(record) }
        } else if let pod = state.proxyPod {
            _ = try? await client.delete(.pods, namespace: namespace, name: pod)
        }
        state.outboundProxy?.stop()
        if let tunnel = state.tunnel { await tunnel.close() }
        if let root = state.root, state.rootCreated {
            try? FileManager.default.removeItem(at: root)
        }
        for path in state.writtenSecretFiles {
            try? FileManager.default.removeItem(atPath: path)
        }
        return restoreError
    }
}

/// How waiting for the local command ended.
private enum CommandWait: Sendable {
    case exited(ExitStatus?)
    /// A signal arrived while the swap served traffic; the command runs on until teardown.
    case stopDeferred
}

/// Results of setup that later phases need.
final class RunningSwap: @unchecked Sendable {
    private let lock = NSLock()
    private var _environment: [String: String] = [:]
    private var _summary: SwapSummary?
    private var _heartbeat: Task<Void, any Error>?
    private var _watchTunnel: Task<Void, Never>?
    private var _guardReport: GuardReport?

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var environment: [String: String] {
        get { locked { _environment } }
        set { locked { _environment = newValue } }
    }
    var summary: SwapSummary? {
        get { locked { _summary } }
        set { locked { _summary = newValue } }
    }
    var heartbeat: Task<Void, any Error>? {
        get { locked { _heartbeat } }
        set { locked { _heartbeat = newValue } }
    }
    var watchTunnel: Task<Void, Never>? {
        get { locked { _watchTunnel } }
        set { locked { _watchTunnel = newValue } }
    }
    var guardReport: GuardReport? {
        get { locked { _guardReport } }
        set { locked { _guardReport = newValue } }
    }
}
