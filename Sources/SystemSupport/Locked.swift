#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a mutex, for state shared between threads that cannot `await` (I/O and
/// waiter threads, NIO handlers) and async callers.
///
/// A pthread mutex rather than an actor because those threads are not async, and rather than
/// `Synchronization.Mutex` because that needs macOS 15 while the package supports macOS 14.
/// Keep the work under the lock short: never a blocking call, never across an `await`.
public final class Locked<Value>: @unchecked Sendable {
    // On the heap: a pthread mutex must not move, and a stored property's address is not stable.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// Guards `value` from now on.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value and returns what it returns.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// A copy of the value as it is now; it may change as soon as this returns.
    public var current: Value { withLock { $0 } }
}

extension Locked where Value == Bool {
    /// Sets a set-once flag: `true` only for the one call that found it unset, so exactly one
    /// of several racing callers goes on (resumes a continuation, closes a descriptor).
    public func setOnce() -> Bool {
        withLock { isSet in
            if isSet { return false }
            isSet = true
            return true
        }
    }
}
