import Foundation

/// A value guarded by a lock, for state shared between the runtime's helper threads and tasks.
///
/// Plain `NSLock` instead of an actor because the reaper threads, reader threads and NIO
/// handlers that touch this state are not async.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value.
    @discardableResult
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

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
