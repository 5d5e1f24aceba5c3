import Foundation
import KubeClient
import KubeModel
import SwapPlan

/// Waits for the proxy pod's sshd and learns the host key to pin.
///
/// Polls the pod rather than watching, so a dropped watch cannot make swapdev miss the moment:
/// every 50 ms for the first seconds (each poll that could have seen the change earlier is
/// start-up time), then every 150 ms, so a slow start (an image pull) costs the API server no
/// more than a few cheap requests a second. Every distinct state is shown as progress,
/// and states that will not cure themselves (image pull, unschedulable, crash loop) end the
/// wait at once with the reason.
struct ProxyStartup {
    let client: KubeClient
    let namespace: String
    let pod: String
    let container: String
    let reporter: PhaseReporter

    /// The marker line the entrypoint prints with the fingerprint.
    static let hostKeyPrefix = "swapdev-proxy: host key "
    static let readyLine = "swapdev-proxy: ready"

    /// The interval between polls, `elapsed` into a wait: `fast` while the change is likely
    /// imminent, `slow` once the wait has lasted a few seconds.
    static func pollInterval(after elapsed: Duration, fast: Duration = .milliseconds(50),
                             then slow: Duration = .milliseconds(150)) -> Duration {
        elapsed < fastPollingFor ? fast : slow
    }

    static let fastPollingFor: Duration = .seconds(5)

    /// sshd listens in the proxy pod.
    struct SSHDReady: Sendable {
        /// The host-key fingerprint (`SHA256:…`) to pin.
        let fingerprint: String
        /// The running pod as last read (its spec holds the admission-injected volume mounts).
        let pod: JSONValue
    }

    /// Returns the host-key fingerprint and the running pod once sshd listens.
    func waitForSSHD(timeout: Duration) async throws -> SSHDReady {
        let start = ContinuousClock.now
        let deadline = start + timeout
        var lastState = "not created yet"
        while ContinuousClock.now < deadline {
            let object = try? await client.get(.pods, namespace: namespace, name: pod)
            if let object {
                switch ProxyPodState.of(object, container: container) {
                case .failed(let failure):
                    throw SwapError.proxyFailed(pod: pod, failure: failure, log: await log(failure: failure))
                case .starting(let state):
                    if state != lastState { reporter.progress("proxy pod: \(state)") }
                    lastState = state
                case .running:
                    let text = (try? await client.logText(namespace: namespace, pod: pod, container: container)) ?? ""
                    if let fingerprint = Self.fingerprint(in: text), text.contains(Self.readyLine) {
                        return SSHDReady(fingerprint: fingerprint, pod: object)
                    }
                    if lastState != "running" { reporter.progress("proxy pod: running, waiting for sshd") }
                    lastState = "running"
                }
            }
            try await Task.sleep(for: Self.pollInterval(after: ContinuousClock.now - start))
        }
        if lastState == "running" {
            let text = (try? await client.logText(namespace: namespace, pod: pod, container: container)) ?? ""
            throw SwapError.noHostKey(pod: pod, log: text)
        }
        throw SwapError.proxyTimedOut(pod: pod, seconds: Self.seconds(timeout), lastState: lastState)
    }

    /// Waits for the pod's Ready condition — which follows the tunnel, since readiness probes
    /// the app port that only the remote forward binds.
    func waitForReady(timeout: Duration) async throws {
        let start = ContinuousClock.now
        let deadline = start + timeout
        while ContinuousClock.now < deadline {
            if let object = try? await client.get(.pods, namespace: namespace, name: pod) {
                switch ProxyPodState.of(object, container: container) {
                case .running(ready: true): return
                case .failed(let failure): throw SwapError.proxyFailed(pod: pod, failure: failure, log: await log(failure: failure))
                default: break
                }
            }
            try await Task.sleep(for: Self.pollInterval(after: ContinuousClock.now - start, then: .milliseconds(100)))
        }
        throw SwapError.notReady(pod: pod, seconds: Self.seconds(timeout))
    }

    /// The proxy's log for a crash (the previous instance's, which holds the error), else nothing.
    private func log(failure: ProxyFailure) async -> String? {
        guard case .crashLoop = failure else { return nil }
        var text = ""
        if let stream = try? await client.logs(namespace: namespace, pod: pod, container: container, tailLines: 30, previous: true) {
            do { for try await chunk in stream { text += String(decoding: chunk, as: UTF8.self) } } catch {}
        }
        if text.isEmpty { text = (try? await client.logText(namespace: namespace, pod: pod, container: container, tailLines: 30)) ?? "" }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `SHA256:…` from the entrypoint's `swapdev-proxy: host key` line (the last one, in
    /// case the container restarted with a new key).
    static func fingerprint(in log: String) -> String? {
        var found: String?
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: hostKeyPrefix) else { continue }
            found = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        }
        return found
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
