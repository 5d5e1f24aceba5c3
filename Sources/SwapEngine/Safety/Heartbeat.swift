import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// Renews the swap's `swapdev.dev/heartbeat` annotation while the swap is up.
///
/// Each beat is a JSON patch that first tests that the Deployment still carries this swap's
/// id: once someone restored the swap (the dead-man switch, `swapdev restore`), a late beat must
/// not put a stray heartbeat annotation back — the Deployment would then differ from before.
public final class Heartbeat: Sendable {
    /// What a beat found.
    public enum Beat: Sendable, Hashable {
        case renewed
        /// The record is gone or belongs to another swap: this swap was restored behind our back.
        case lost
        /// The API server could not be reached or refused; the next beat retries.
        case failed(String)
    }

    public let client: KubeClient
    public let namespace: String
    public let deployment: String
    public let swapID: String
    public let interval: Duration

    /// `restoreAfter / 6`, at most 30 s and at least 1 s: several beats fit in the timeout, so
    /// one lost request or a short API-server restart never fires the dead-man switch.
    public static func interval(restoreAfter: Duration) -> Duration {
        let sixth = restoreAfter / 6
        return min(max(sixth, .seconds(1)), .seconds(30))
    }

    public init(client: KubeClient, namespace: String, deployment: String, swapID: String, interval: Duration) {
        self.client = client
        self.namespace = namespace
        self.deployment = deployment
        self.swapID = swapID
        self.interval = interval
    }

    /// The JSON patch of one beat: `test` the swap id, then set the heartbeat.
    public static func patch(swapID: String, at date: Date) -> JSONValue {
        let heartbeat = SwapRecord.heartbeatPatch(at: date)[path: ["metadata", "annotations", SwapRecord.Key.heartbeat]] ?? .null
        return [
            ["op": "test", "path": .string(pointer(SwapRecord.Key.id)), "value": .string(swapID)],
            ["op": "add", "path": .string(pointer(SwapRecord.Key.heartbeat)), "value": heartbeat],
        ]
    }

    /// `/metadata/annotations/<key>` with `/` escaped as `~1` (RFC 6901).
    static func pointer(_ annotation: String) -> String {
        "/metadata/annotations/" + annotation.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// Sends one beat now.
    public func beat(at date: Date = Date()) async -> Beat {
        do {
            _ = try await client.patch(.deployments, namespace: namespace, name: deployment, type: .json,
                                       patch: Self.patch(swapID: swapID, at: date))
            return .renewed
        } catch let error as KubeError {
            switch error {
            case .notFound:
                return .lost
            case .invalid, .api:
                // A failed `test` (422, or 500 from some servers): check that it really is gone.
                let current = try? await client.get(.deployments, namespace: namespace, name: deployment)
                if let current, current.annotations[SwapRecord.Key.id] != swapID { return .lost }
                return .failed("\(error)")
            default:
                return .failed("\(error)")
            }
        } catch {
            return .failed("\(error)")
        }
    }

    /// Beats every ``interval`` until cancelled. `onChange` hears about the first failure after
    /// success, the recovery, and a lost record (after which the loop ends).
    public func run(onChange: @escaping @Sendable (Beat) -> Void) async {
        var last: Beat = .renewed
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let beat = await beat()
            switch (last, beat) {
            case (_, .lost):
                onChange(beat)
                return
            case (.renewed, .failed), (.failed, .renewed):
                onChange(beat)
            default:
                break
            }
            last = beat
        }
    }
}
