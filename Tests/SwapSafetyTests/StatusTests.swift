import Foundation
import KubeModel
import SwapPlan
import Testing
@testable import SwapEngine

@Suite("swapdev status: health of every swap")
struct StatusTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func deployment(_ name: String, namespace: String = "dev", heartbeatAgo: TimeInterval?, extra: [String: String] = [:]) -> JSONValue {
        var value: JSONValue = ["metadata": ["name": .string(name), "namespace": .string(namespace)], "spec": ["replicas": 0]]
        if let heartbeatAgo {
            let record = SwapRecord(id: "id-\(name)", originalReplicas: 1, container: "app", owner: "ann@desk",
                                    startedAt: now.addingTimeInterval(-7200), heartbeat: now.addingTimeInterval(-heartbeatAgo),
                                    proxyPod: "\(name)-swapdev-x")
            value.annotations = record.annotations.merging(extra) { _, new in new }
        }
        return value
    }

    static func pod(for name: String, namespace: String = "dev", terminating: Bool = false) -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string("\(name)-swapdev-x"), "namespace": .string(namespace),
                                           "labels": [SwapRecord.swapLabel: .string("id-\(name)")]]]
        if terminating { pod[path: ["metadata", "deletionTimestamp"]] = "2027-01-15T08:00:00Z" }
        return pod
    }

    @Test func healthIsHealthyStaleOrProxyMissing() throws {
        let deployments = [
            Self.deployment("a", heartbeatAgo: 10),
            Self.deployment("b", heartbeatAgo: 600),
            Self.deployment("c", heartbeatAgo: 10),
            Self.deployment("d", heartbeatAgo: 10),
            Self.deployment("plain", heartbeatAgo: nil),
        ]
        let pods = [Self.pod(for: "a"), Self.pod(for: "b"), Self.pod(for: "d", terminating: true)]
        let entries = SwapStatus.entries(deployments: deployments, proxyPods: pods, now: Self.now)
        #expect(entries.map(\.deployment) == ["a", "b", "c", "d"])
        #expect(entries.map(\.health) == [.healthy, .staleHeartbeat, .proxyMissing, .proxyMissing])
        #expect(entries[1].detail == "last heartbeat 10m ago")
        #expect(entries[0].owner == "ann@desk")
        #expect(entries[0].container == "app")
    }

    @Test func aShortRestoreAfterMakesTheHeartbeatStaleSooner() {
        let fast = Self.deployment("a", heartbeatAgo: 20, extra: [DeadManPlan.restoreAfterAnnotation: "20"])
        let slow = Self.deployment("b", heartbeatAgo: 20)
        let entries = SwapStatus.entries(deployments: [fast, slow], proxyPods: [Self.pod(for: "a"), Self.pod(for: "b")], now: Self.now)
        // restore-after 20 s beats every ~3.3 s; 20 s is six missed beats.
        #expect(entries.map(\.health) == [.staleHeartbeat, .healthy])
    }

    @Test func aMalformedRecordIsShownNotHidden() {
        var broken: JSONValue = ["metadata": ["name": "e", "namespace": "dev"]]
        broken.annotations = [SwapRecord.Key.id: "x", SwapRecord.Key.owner: "bob@box"]
        let entries = SwapStatus.entries(deployments: [broken], proxyPods: [], now: Self.now)
        #expect(entries.count == 1)
        #expect(entries.first?.health == .malformed)
        #expect(entries.first?.owner == "bob@box")
    }

    @Test func tableAndJSONCarryEveryColumn() throws {
        let entries = SwapStatus.entries(deployments: [Self.deployment("a", heartbeatAgo: 10)], proxyPods: [Self.pod(for: "a")], now: Self.now)
        let table = SwapStatus.table(entries, now: Self.now, showNamespace: true)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("NAMESPACE   DEPLOYMENT"))
        for cell in ["dev", "a", "app", "ann@desk", "2h", "10s ago", "healthy"] { #expect(lines[1].contains(cell)) }
        #expect(SwapStatus.table([], now: Self.now, showNamespace: false) == "no active swaps")
        let json = try #require(entries.first?.json(now: Self.now))
        #expect(json["health"] == "healthy")
        #expect(json["heartbeatAgeSeconds"] == 10)
        #expect(json["ageSeconds"] == 7200)
        #expect(json["swapID"] == "id-a")
    }

    @Test func heartbeatIntervalFitsWellInsideTheTimeout() {
        #expect(Heartbeat.interval(restoreAfter: .seconds(600)) == .seconds(30))
        #expect(Heartbeat.interval(restoreAfter: .seconds(60)) == .seconds(10))
        #expect(Heartbeat.interval(restoreAfter: .seconds(20)) == .seconds(20) / 6)
        #expect(Heartbeat.interval(restoreAfter: .seconds(3)) == .seconds(1))
    }

    @Test func aBeatTestsTheSwapIDBeforeWriting() {
        let patch = Heartbeat.patch(swapID: "abc", at: Self.now)
        #expect(patch[0]?["op"] == "test")
        #expect(patch[0]?["path"] == "/metadata/annotations/swapdev.dev~1swap-id")
        #expect(patch[0]?["value"] == "abc")
        #expect(patch[1]?["op"] == "add")
        #expect(patch[1]?["path"] == "/metadata/annotations/swapdev.dev~1heartbeat")
        #expect(patch[1]?["value"] == "2027-01-15T08:00:00Z")
    }
}
