import Foundation
import Testing
@testable import SandboxRuntime

/// Every test that touches the host (bridge, namespaces, mounts) lives under this suite so
/// they run one after another: they share the test bridge `swrt0` and its address ranges.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct HostTests {}

/// Creates a fixture, runs `body`, and always shuts the runtime down.
func withFixture(restartBackoff: Duration = .milliseconds(300), _ body: (RuntimeFixture) async throws -> Void) async throws {
    let fixture = try RuntimeFixture(restartBackoff: restartBackoff)
    do {
        try await body(fixture)
    } catch {
        await fixture.shutdown()
        throw error
    }
    await fixture.shutdown()
}
