import SystemSupport

/// Counters for logs. Snapshot of one session.
public struct SSHSessionStats: Sendable, Equatable {
    /// Payload bytes sent into channels (local → pod).
    public var bytesToRemote: Int64 = 0
    /// Payload bytes received from channels (pod → local).
    public var bytesFromRemote: Int64 = 0
    /// Forwarded and direct channels currently open.
    public var activeChannels: Int = 0
    /// Forwarded and direct channels opened since the session started.
    public var totalChannels: Int = 0
}

/// The state both the I/O thread and callers see: stats and how the session ended.
final class SessionShared: Sendable {
    private struct State {
        var stats = SSHSessionStats()
        var ending: Result<Void, SSHTunnelError>?
        var threadDone = false
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var threadWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    var stats: SSHSessionStats { state.withLock { $0.stats } }

    var isFinished: Bool { state.withLock { $0.ending != nil } }

    /// The error for operations attempted after the end.
    var terminalError: SSHTunnelError {
        state.withLock { state in
            if case let .failure(error) = state.ending { return error }
            return .sessionClosed
        }
    }

    func count(toRemote: Int, toLocal: Int) {
        state.withLock {
            $0.stats.bytesToRemote += Int64(toRemote)
            $0.stats.bytesFromRemote += Int64(toLocal)
        }
    }

    func channelOpened() {
        state.withLock {
            $0.stats.activeChannels += 1
            $0.stats.totalChannels += 1
        }
    }

    func channelClosed() { state.withLock { $0.stats.activeChannels -= 1 } }

    /// Records how the session ended and wakes `waitUntilClosed` callers.
    func finish(with ending: Result<Void, SSHTunnelError>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard state.ending == nil else { return [] }
            state.ending = ending
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: ending.mapError { $0 as any Error }) }
    }

    /// Everything (fds, session) is released; the thread is about to return.
    func markThreadDone() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.threadDone = true
            defer { state.threadWaiters.removeAll() }
            return state.threadWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilClosed() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ending = state.withLock { state -> Result<Void, SSHTunnelError>? in
                if state.ending == nil { state.waiters.append(continuation) }
                return state.ending
            }
            if let ending { continuation.resume(with: ending.mapError { $0 as any Error }) }
        }
    }

    func waitUntilReleased() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if !state.threadDone { state.threadWaiters.append(continuation) }
                return state.threadDone
            }
            if done { continuation.resume() }
        }
    }
}
