import Foundation
import Logging
import SystemSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs one container: starts its process, restarts it with back-off when it exits
/// (restartPolicy Always), runs its probes and keeps its status.
///
/// Back-off is `restartBackoff` × 2ⁿ⁻¹ capped at `maxBackoff` (the kubelet uses 10 s capped at
/// 5 min; the sandbox defaults to 1 s capped at 10 s so tests and demos stay quick). It resets
/// once an instance has run for a minute.
final class ContainerSupervisor: Sendable {
    struct State {
        var status: PodRuntimeStatus.Container
        var pid: pid_t?
        var instance = 0
        var stopping = false
        var finished = false
        var loopTask: Task<Void, Never>?
    }

    /// How often probes are retried until they first succeed, so a pod turns Ready as soon as
    /// it can instead of one full `periodSeconds` later.
    static let eagerProbeInterval: Duration = .milliseconds(100)

    let context: ContainerContext
    private let argv: Result<[String], ContainerStartError>
    private let restartBackoff: Duration
    private let maxBackoff: Duration
    private let logger: Logger
    private let onChange: @Sendable () -> Void
    private let state: Locked<State>

    init(context: ContainerContext, argv: Result<[String], ContainerStartError>, restartBackoff: Duration, maxBackoff: Duration,
         logger: Logger, onChange: @escaping @Sendable () -> Void) {
        self.context = context
        self.argv = argv
        self.restartBackoff = restartBackoff
        self.maxBackoff = maxBackoff
        self.logger = logger
        self.onChange = onChange
        self.state = Locked(State(status: .init(
            name: context.spec.name, state: .waiting(reason: "ContainerCreating", message: nil),
            ready: false, started: false, restartCount: 0, lastTermination: nil)))
    }

    var status: PodRuntimeStatus.Container { state.current.status }
    var mainPID: pid_t? { state.current.pid }
    var instance: Int { state.current.instance }

    func logPath(instance: Int) -> String { "\(context.logDirectory)/\(context.spec.name).\(instance).log" }

    /// Whether instance `instance` has ended for good (exited, or superseded by a restart).
    func hasEnded(instance: Int) -> Bool {
        state.withLock { $0.instance != instance || $0.finished || ($0.pid == nil && !Self.isRunning($0.status.state)) }
    }

    func start() {
        let task = Task { await self.runLoop() }
        state.withLock { $0.loopTask = task }
    }

    /// SIGTERM to the container's process group, SIGKILL after `gracePeriod`; returns once it is gone.
    func stop(gracePeriod: Duration) async {
        let (pid, task) = state.withLock { state -> (pid_t?, Task<Void, Never>?) in
            state.stopping = true
            return (state.pid, state.loopTask)
        }
        task?.cancel()
        if let pid {
            kill(-pid, SIGTERM)
            if !(await waitUntilFinished(within: gracePeriod)) {
                kill(-pid, SIGKILL)
            }
        }
        _ = await waitUntilFinished(within: .seconds(10))
    }

    private func waitUntilFinished(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if state.current.finished { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return state.current.finished
    }

    private func update<Result>(_ body: (inout State) -> Result) -> Result {
        let result = state.withLock(body)
        onChange()
        return result
    }

    private func runLoop() async {
        var consecutiveFailures = 0
        while !state.current.stopping {
            let instance = state.current.instance
            let startedAt = Date()
            let pid: pid_t
            do {
                pid = try launch(instance: instance)
            } catch {
                logger.warning("container \(context.spec.name) of pod \(context.podName) failed to start: \(error)")
                update { $0.status.state = .waiting(reason: "RunContainerError", message: "\(error)") }
                consecutiveFailures += 1
                guard await backOff(consecutiveFailures) else { break }
                continue
            }
            let stopNow = update { state -> Bool in
                state.pid = pid
                state.status.state = .running(startedAt: startedAt)
                state.status.started = context.spec.startupProbe == nil
                state.status.ready = context.spec.startupProbe == nil && context.spec.readinessProbe == nil
                return state.stopping
            }
            if stopNow { kill(-pid, SIGKILL) }
            let probes = Task { await self.runProbes(pid: pid) }
            let code = await HostProcess.waitForExit(pid)
            probes.cancel()
            // Background children of the container's shell die with it, as in a real container.
            kill(-pid, SIGKILL)
            let finishedAt = Date()
            let terminated = PodRuntimeStatus.Container.State.terminated(
                exitCode: code, reason: code == 0 ? "Completed" : "Error", startedAt: startedAt, finishedAt: finishedAt)
            let stopping = update { state -> Bool in
                state.pid = nil
                state.status.ready = false
                if state.stopping { state.status.state = terminated }
                return state.stopping
            }
            if stopping { break }
            consecutiveFailures = finishedAt.timeIntervalSince(startedAt) > 60 ? 1 : consecutiveFailures + 1
            let delay = backoffDelay(consecutiveFailures)
            logger.info("container \(context.spec.name) of pod \(context.podName) exited with \(code); restarting in \(delay)")
            update { state in
                state.status.lastTermination = terminated
                state.status.started = false
                state.status.state = .waiting(
                    reason: "CrashLoopBackOff",
                    message: "back-off \(delay) restarting failed container=\(context.spec.name) pod=\(context.podName)")
            }
            guard await backOff(consecutiveFailures) else {
                update { $0.status.state = terminated }
                break
            }
            update { state in
                state.instance += 1
                state.status.restartCount += 1
            }
        }
        update { $0.finished = true }
    }

    private func backoffDelay(_ failures: Int) -> Duration {
        var delay = restartBackoff
        for _ in 1..<max(1, failures) where delay < maxBackoff { delay = delay * 2 }
        return min(delay, maxBackoff)
    }

    /// Sleeps the back-off; `false` when the container is being stopped meanwhile.
    private func backOff(_ failures: Int) async -> Bool {
        do { try await Task.sleep(for: backoffDelay(failures)) } catch { return false }
        return !state.current.stopping
    }

    private func launch(instance: Int) throws -> pid_t {
        let command = try argv.get()
        let path = logPath(instance: instance)
        let logFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw SandboxRuntimeError.fileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(logFD) }
        return try HostProcess.spawn(
            executable: context.nsenterPath, argv: context.nsenterArgv(command), environment: context.environment,
            fds: [.open(path: "/dev/null", flags: O_RDONLY, mode: 0, target: 0),
                  .dup(source: logFD, target: 1), .dup(source: logFD, target: 2)])
    }

    // MARK: Probes

    private func runProbes(pid: pid_t) async {
        let spec = context.spec
        if let startup = spec.startupProbe {
            guard await startupSucceeds(startup) else {
                if !Task.isCancelled {
                    logger.info("startup probe of \(spec.name) in pod \(context.podName) failed; killing it")
                    kill(-pid, SIGKILL)
                }
                return
            }
            update { state in
                state.status.started = true
                if spec.readinessProbe == nil { state.status.ready = true }
            }
        }
        await withTaskGroup(of: Void.self) { group in
            if let readiness = spec.readinessProbe { group.addTask { await self.readinessLoop(readiness) } }
            if let liveness = spec.livenessProbe { group.addTask { await self.livenessLoop(liveness, pid: pid) } }
        }
    }

    private func startupSucceeds(_ probe: ProbeSpec) async -> Bool {
        let deadline = ContinuousClock.now + probe.initialDelay + probe.period * probe.failureThreshold
        do { try await Task.sleep(for: probe.initialDelay) } catch { return false }
        while !Task.isCancelled {
            if await ProbeRunner.check(probe, context: context) { return true }
            if ContinuousClock.now > deadline { return false }
            do { try await Task.sleep(for: min(probe.period, Self.eagerProbeInterval)) } catch { return false }
        }
        return false
    }

    private func readinessLoop(_ probe: ProbeSpec) async {
        do { try await Task.sleep(for: probe.initialDelay) } catch { return }
        var successes = 0
        var failures = 0
        var everReady = false
        while !Task.isCancelled {
            let ok = await ProbeRunner.check(probe, context: context)
            if Task.isCancelled { return }
            if ok {
                successes += 1
                failures = 0
                if successes >= max(1, probe.successThreshold) && !state.current.status.ready {
                    everReady = true
                    update { $0.status.ready = true }
                }
            } else {
                failures += 1
                successes = 0
                if failures >= max(1, probe.failureThreshold) && state.current.status.ready {
                    update { $0.status.ready = false }
                }
            }
            let interval = everReady ? probe.period : min(probe.period, Self.eagerProbeInterval)
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    private func livenessLoop(_ probe: ProbeSpec, pid: pid_t) async {
        do { try await Task.sleep(for: probe.initialDelay) } catch { return }
        var failures = 0
        while !Task.isCancelled {
            let ok = await ProbeRunner.check(probe, context: context)
            if Task.isCancelled { return }
            failures = ok ? 0 : failures + 1
            if failures >= max(1, probe.failureThreshold) {
                logger.info("liveness probe of \(context.spec.name) in pod \(context.podName) failed \(failures) times; restarting it")
                kill(-pid, SIGKILL)
                return
            }
            do { try await Task.sleep(for: probe.period) } catch { return }
        }
    }

    private static func isRunning(_ state: PodRuntimeStatus.Container.State) -> Bool {
        if case .running = state { return true }
        return false
    }
}

/// Why a container's process cannot be started at all (reported as `RunContainerError`).
struct ContainerStartError: Error, CustomStringConvertible {
    var description: String
}
