import Foundation
import SystemSupport
import Testing

@Suite("Locked: a value behind a mutex", .timeLimit(.minutes(1)))
struct LockedTests {
    /// Runs `body` on `count` threads at once and returns when all have finished.
    func onThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                body()
                group.leave()
            }
            thread.name = "locked-test-\(index)"
            thread.start()
        }
        group.wait()
    }

    @Test("increments from several threads add up exactly")
    func concurrentIncrements() {
        let counter = Locked(0)
        onThreads(8) {
            for _ in 0..<20_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.current == 160_000)
    }

    @Test("setOnce: exactly one of the racing callers wins")
    func setOnceHasOneWinner() {
        let flag = Locked(false)
        let winners = Locked(0)
        onThreads(8) {
            if flag.setOnce() { winners.withLock { $0 += 1 } }
        }
        #expect(winners.current == 1)
        #expect(flag.current)
        #expect(!flag.setOnce())
    }
}
