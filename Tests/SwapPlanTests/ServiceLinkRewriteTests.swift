import KubeEnvironment
import KubeModel
import Testing
@testable import SwapPlan

@Suite("Service-link variables point at local forwards")
struct ServiceLinkRewriteTests {
    static let redis: JSONValue = [
        "metadata": ["name": "redis-cache", "namespace": "dev"],
        "spec": ["clusterIP": "10.96.0.20", "ports": [["name": "redis", "port": 6379, "protocol": "TCP"], ["name": "sentinel", "port": 26379]]],
    ]
    static let dns: JSONValue = [
        "metadata": ["name": "dns", "namespace": "dev"],
        "spec": ["clusterIP": "10.96.0.10", "ports": [["name": "dns", "port": 53, "protocol": "UDP"]]],
    ]

    @Test func targetsAndRewrite() {
        let environment = ServiceLinks.variables(for: Self.redis) + [EnvironmentVariable(name: "OTHER", value: "6379")]
        let targets = ServiceLinkRewrite.targets(environment: environment, services: [Self.redis, Self.dns])
        #expect(targets == [
            ServicePortTarget(service: "redis-cache", clusterIP: "10.96.0.20", port: 6379),
            ServicePortTarget(service: "redis-cache", clusterIP: "10.96.0.20", port: 26379),
        ])
        let rewritten = ServiceLinkRewrite.rewrite(environment: environment, localPorts: [targets[0]: 41000, targets[1]: 41001])
        var values: [String: String] = [:]
        for variable in rewritten { values[variable.name] = variable.value }
        #expect(values == [
            "REDIS_CACHE_SERVICE_HOST": "127.0.0.1",
            "REDIS_CACHE_SERVICE_PORT": "41000",
            "REDIS_CACHE_SERVICE_PORT_REDIS": "41000",
            "REDIS_CACHE_SERVICE_PORT_SENTINEL": "41001",
            "REDIS_CACHE_PORT": "tcp://127.0.0.1:41000",
            "REDIS_CACHE_PORT_6379_TCP": "tcp://127.0.0.1:41000",
            "REDIS_CACHE_PORT_6379_TCP_PROTO": "tcp",
            "REDIS_CACHE_PORT_6379_TCP_PORT": "41000",
            "REDIS_CACHE_PORT_6379_TCP_ADDR": "127.0.0.1",
            "REDIS_CACHE_PORT_26379_TCP": "tcp://127.0.0.1:41001",
            "REDIS_CACHE_PORT_26379_TCP_PROTO": "tcp",
            "REDIS_CACHE_PORT_26379_TCP_PORT": "41001",
            "REDIS_CACHE_PORT_26379_TCP_ADDR": "127.0.0.1",
            "OTHER": "6379",
        ])
        #expect(rewritten.map(\.name) == environment.map(\.name), "order is kept")
    }

    @Test func overriddenHostIsNotALink() {
        let environment = [EnvironmentVariable(name: "REDIS_CACHE_SERVICE_HOST", value: "redis.example")]
        #expect(ServiceLinkRewrite.targets(environment: environment, services: [Self.redis]).isEmpty)
    }
}
