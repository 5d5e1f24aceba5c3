import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches SIGINT, SIGTERM and SIGHUP for swapdev instead of letting them kill it, so that a
/// swap is always restored; the signals arrive as an async sequence.
///
/// A real handler (not SIG_IGN, which on Linux drops the signal before anyone can see it)
/// writes the signal number to a pipe — the only async-signal-safe way out of a handler — and
/// a reader thread turns the bytes into stream elements. ``cancel()`` puts the default
/// dispositions back. Spawned commands get the defaults regardless (see ``ChildProcess``).
public final class SignalTrap: Sendable {
    /// The trapped signals, in arrival order.
    public let signals: AsyncStream<Int32>
    private let trapped: [Int32]
    private let continuation: AsyncStream<Int32>.Continuation
    private let token: Int

    /// The signals a swap must survive.
    public static let terminationSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    public init(signals trapped: [Int32] = SignalTrap.terminationSignals) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.signals = stream
        self.continuation = continuation
        self.trapped = trapped
        self.token = SignalPipe.shared.subscribe(continuation, signals: trapped)
    }

    /// Stops trapping: once no other trap holds them, the signals kill swapdev again.
    public func cancel() {
        SignalPipe.shared.unsubscribe(token)
        continuation.finish()
    }
}

/// The write end of the signal pipe, read by the C handler (a global, as handlers take no context).
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private func signalPipeHandler(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    let saved = errno
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = saved
}

/// One pipe and one reader thread for the process, fanning signals out to the traps that asked
/// for them. Dispositions are process-wide, so they are reference-counted: the handler goes in
/// with the first trap of a signal and the default comes back with the last.
private final class SignalPipe: @unchecked Sendable {
    static let shared = SignalPipe()
    private let lock = NSLock()
    private var subscribers: [Int: (signals: Set<Int32>, continuation: AsyncStream<Int32>.Continuation)] = [:]
    private var holders: [Int32: Int] = [:]
    private var next = 0

    private init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        signalPipeWriteEnd = fds[1]
        let readEnd = fds[0]
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                deliver(Int32(byte))
            }
        }
        thread.name = "swapdev-signals"
        thread.start()
    }

    func subscribe(_ continuation: AsyncStream<Int32>.Continuation, signals: [Int32]) -> Int {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        subscribers[next] = (Set(signals), continuation)
        for number in Set(signals) {
            holders[number, default: 0] += 1
            if holders[number] == 1 { Self.install(number) }
        }
        return next
    }

    func unsubscribe(_ token: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard let subscriber = subscribers.removeValue(forKey: token) else { return }
        for number in subscriber.signals {
            holders[number, default: 1] -= 1
            if holders[number] == 0 {
                holders[number] = nil
                signal(number, SIG_DFL)
            }
        }
    }

    private static func install(_ number: Int32) {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = signalPipeHandler
        #else
        action.__sigaction_u.__sa_handler = signalPipeHandler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }

    private func deliver(_ number: Int32) {
        lock.lock()
        let targets = subscribers.values.filter { $0.signals.contains(number) }.map(\.continuation)
        lock.unlock()
        for target in targets { target.yield(number) }
    }
}
