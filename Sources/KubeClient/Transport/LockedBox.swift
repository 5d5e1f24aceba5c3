import Foundation

/// A value shared between tasks and NIO callbacks, guarded by a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    /// Mutates the value under the lock and returns the closure's result.
    func withValue<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&stored) }
    }
}
