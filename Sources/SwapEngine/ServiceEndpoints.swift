import KubeClient
import KubeModel

/// The Services that route to a workload, and waits on their Endpoints — so a swap switches
/// traffic only once the Service actually lists the new backend (readiness is not enough:
/// endpoints follow it a moment later).
struct ServiceEndpoints {
    let client: KubeClient
    let namespace: String
    let reporter: PhaseReporter

    /// Names of the Services whose selector matches `labels`.
    func services(selecting labels: [String: String]) async -> [String] {
        let services = (try? await client.list(.services, namespace: namespace).items) ?? []
        return services.compactMap { service in
            guard let selector = service[path: ["spec", "selector"]]?.stringMap, !selector.isEmpty,
                  selector.allSatisfy({ labels[$0.key] == $0.value })
            else { return nil }
            return service.name
        }
    }

    /// The pod names behind the ready addresses of `service`.
    func readyPods(service: String) async -> [String] {
        guard let endpoints = try? await client.get(.endpoints, namespace: namespace, name: service) else { return [] }
        return (endpoints["subsets"]?.array ?? []).flatMap { subset in
            (subset["addresses"]?.array ?? []).compactMap { $0[path: ["targetRef", "name"]]?.string }
        }
    }

    /// Polls until `condition` holds for the ready pods of every service (every 50 ms for the
    /// first seconds, then every 100 ms); `false` on timeout.
    func waitUntil(services: [String], timeout: Duration, describe: String,
                   _ condition: @escaping ([String]) -> Bool) async -> Bool
    {
        let start = ContinuousClock.now
        let deadline = start + timeout
        var announced = false
        while ContinuousClock.now < deadline {
            var satisfied = true
            for service in services where !condition(await readyPods(service: service)) {
                satisfied = false
                break
            }
            if satisfied { return true }
            if !announced {
                reporter.progress("waiting until \(describe)")
                announced = true
            }
            try? await Task.sleep(for: ProxyStartup.pollInterval(after: ContinuousClock.now - start, then: .milliseconds(100)))
        }
        return false
    }
}
