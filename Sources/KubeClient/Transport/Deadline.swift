import SystemSupport

/// Runs `body`, failing with ``KubeError/timeout(operation:seconds:)`` if it takes longer than `limit`.
///
/// On timeout the caller gets the error at once and `body` is cancelled; unlike a task group this does
/// not wait for a body stuck in a non-cancellable wait (a NIO future). Transport code closes its channel
/// when it sees the timeout, which completes such futures.
func withDeadline<T: Sendable>(_ limit: Duration, operation: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = Locked<CheckedContinuation<T, any Error>?>(nil)
    let work = Locked<Task<Void, Never>?>(nil)
    let timer = Locked<Task<Void, Never>?>(nil)
    @Sendable func resume(_ result: Result<T, any Error>) {
        let continuation = outcome.withLock { value -> CheckedContinuation<T, any Error>? in
            defer { value = nil }
            return value
        }
        continuation?.resume(with: result)
        timer.current?.cancel()
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.withLock { $0 = continuation }
            let running = Task {
                do { resume(.success(try await body())) } catch { resume(.failure(error)) }
            }
            work.withLock { $0 = running }
            let deadline = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
                resume(.failure(KubeError.timeout(operation: operation, seconds: seconds)))
                work.current?.cancel()
            }
            timer.withLock { $0 = deadline }
            // The body may already have finished before the timer existed.
            if outcome.current == nil { timer.current?.cancel() }
        }
    } onCancel: {
        work.current?.cancel()
        resume(.failure(CancellationError()))
    }
}
