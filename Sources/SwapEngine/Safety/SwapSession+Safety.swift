import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// How a running ``SwapSession`` uses crash safety: the guards' facade, the heartbeat, and the
/// end of a swap whose proxy pod is gone.
extension SwapSession {
    /// Guards, record, KEDA pause, dead-man switch and clean-up for this swap's options.
    var safety: SwapSafety {
        SwapSafety(client: client, namespace: namespace, restoreAfter: options.restoreAfter, force: options.force, reporter: reporter)
    }

    /// Beats until cancelled; when the record is gone (the dead-man switch or someone's
    /// `swapdev restore` undid the swap), ends the swap.
    func startHeartbeat(_ record: SwapRecord) -> Task<Void, any Error> {
        let heartbeat = safety.heartbeat(record, deployment: options.target.deployment)
        let seconds = Int(options.restoreAfter.components.seconds)
        return Task { [reporter] in
            await heartbeat.run { beat in
                switch beat {
                case .renewed:
                    reporter.line("✓ heartbeat renewed again")
                case .failed(let reason):
                    reporter.warning("cannot renew the swap's heartbeat (\(reason)); retrying — after \(seconds)s without one the proxy restores the original")
                case .lost:
                    reporter.warning("swap \(record.id) was undone behind swapdev's back (dead-man switch or swapdev restore); ending the swap")
                    Task { await self.endSwap() }
                }
            }
        }
    }

    /// After the tunnel keeper stopped: when the proxy pod is gone (deleted, evicted), the swap
    /// cannot come back — end it, so swapdev restores instead of leaving the original at 0.
    func endIfProxyGone(_ podName: String) async {
        // Cancelled: the swap is ending anyway (teardown closes the tunnel on purpose).
        guard !Task.isCancelled else { return }
        let reason: String?
        do {
            let pod = try await client.get(.pods, namespace: namespace, name: podName)
            reason = pod[path: ["metadata", "deletionTimestamp"]] == nil ? nil : "is being deleted"
        } catch KubeError.notFound {
            reason = "was deleted"
        } catch {
            reason = nil
        }
        guard let reason, state.recorded else { return }
        reporter.warning("proxy pod \(podName) \(reason); ending the swap and restoring the original")
        await endSwap()
    }

    /// Ends the swap as a first Ctrl-C would: the local command gets SIGTERM, the wait ends.
    func endSwap() async {
        if let supervisor = state.supervisor { await supervisor.signal(SIGTERM) }
        stopContinuation.yield(SIGTERM)
    }
}
