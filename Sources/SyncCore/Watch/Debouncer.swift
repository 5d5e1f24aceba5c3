import Foundation

/// Groups bursts of ``WatchEvent``s into ``ChangeBatch``es.
///
/// A batch is emitted when no event arrived for `quiet`, or at the latest `maxDelay` after its
/// first event, so a continuous stream of writes (a build writing hundreds of files) still
/// syncs regularly instead of never.
///
/// ```swift
/// let debouncer = Debouncer(quiet: .milliseconds(50))
/// Task { for await batch in debouncer.batches { restart(batch) } }
/// await debouncer.add(.changed("main.go"))
/// ```
public actor Debouncer {
    /// The batches, in order.
    public nonisolated let batches: AsyncStream<ChangeBatch>
    private let continuation: AsyncStream<ChangeBatch>.Continuation
    private let quiet: Duration
    private let maxDelay: Duration
    private var paths: Set<String> = []
    private var rescan = false
    private var firstAt: Date?
    private var firstInstant: ContinuousClock.Instant?
    private var flushTask: Task<Void, Never>?
    private var generation = 0

    public init(quiet: Duration = .milliseconds(50), maxDelay: Duration = .seconds(1)) {
        self.quiet = quiet
        self.maxDelay = maxDelay
        (batches, continuation) = AsyncStream.makeStream(of: ChangeBatch.self, bufferingPolicy: .unbounded)
    }

    /// Records one event and (re)arms the quiet timer.
    public func add(_ event: WatchEvent) {
        switch event {
        case .changed(let path): paths.insert(path)
        case .rescan: rescan = true
        }
        let now = ContinuousClock.now
        if firstAt == nil {
            firstAt = Date()
            firstInstant = now
        }
        flushTask?.cancel()
        generation += 1
        if let firstInstant, now - firstInstant >= maxDelay {
            flush(generation: generation)
            return
        }
        let mine = generation
        var delay = quiet
        if let firstInstant {
            let deadline = firstInstant + maxDelay
            if deadline - now < delay { delay = max(.zero, deadline - now) }
        }
        flushTask = Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            await self?.flush(generation: mine)
        }
    }

    /// Emits whatever is pending now (used when the watcher stops).
    public func flushNow() {
        flush(generation: generation)
    }

    /// Ends ``batches`` after emitting what is pending.
    public func finish() {
        flushTask?.cancel()
        flush(generation: generation)
        continuation.finish()
    }

    private func flush(generation expected: Int) {
        guard expected == generation, let firstAt, !paths.isEmpty || rescan else { return }
        continuation.yield(ChangeBatch(paths: paths, needsRescan: rescan, firstChangeAt: firstAt))
        paths = []
        rescan = false
        self.firstAt = nil
        firstInstant = nil
    }
}
