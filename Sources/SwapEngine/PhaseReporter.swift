import Foundation

/// Prints one line per phase with its duration (`✓ proxy pod running (0.42s)`) on stderr, so
/// the local command keeps stdout to itself. `--quiet` prints only warnings and errors.
public final class PhaseReporter: Sendable {
    public let quiet: Bool
    private let clock = ContinuousClock()

    public init(quiet: Bool) { self.quiet = quiet }

    /// Runs `body` as a phase: on success prints `✓ done (time)`; on failure `✗ title (time)`.
    public func phase<Result: Sendable>(_ title: String, done: String? = nil, _ body: () async throws -> Result) async throws -> Result {
        let start = clock.now
        do {
            let result = try await body()
            line("✓ \(done ?? title) (\(Self.format(clock.now - start)))")
            return result
        } catch {
            emit("✗ \(title) (\(Self.format(clock.now - start)))")
            throw error
        }
    }

    /// A progress note inside a phase (`… proxy pod: ContainerCreating`).
    public func progress(_ text: String) { line("  … \(text)") }

    /// A line shown unless quiet.
    public func line(_ text: String) {
        guard !quiet else { return }
        emit(text)
    }

    /// A line shown even when quiet.
    public func warning(_ text: String) { emit("! \(text)") }

    private func emit(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.2fs", seconds)
    }
}
