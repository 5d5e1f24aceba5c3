import Foundation

/// Runs blocking work on a dedicated thread so it never stalls Swift's cooperative pool
/// (waitpid, blocking connect, pipe reads).
func onDedicatedThread<Result: Sendable>(_ name: String, _ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
        let thread = Thread {
            continuation.resume(returning: body())
        }
        thread.name = name
        thread.start()
    }
}
