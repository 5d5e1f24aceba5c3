import Foundation
import KubeModel
import Testing
@testable import SandboxCluster

@Suite("Watch", .serialized, .timeLimit(.minutes(1)))
struct WatchTests {
    /// Reads watch lines from a response stream until `count` lines or the deadline.
    private func lines(_ response: APIResponse, count: Int, timeout: Duration = .seconds(5)) async -> [JSONValue] {
        guard case .stream(_, _, let stream) = response else { return [] }
        return await withTaskGroup(of: [JSONValue].self) { group in
            group.addTask {
                var result: [JSONValue] = []
                var buffer = Data()
                for await chunk in stream {
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        if let value = try? JSONValue(parsing: buffer[buffer.startIndex..<newline]) { result.append(value) }
                        buffer.removeSubrange(buffer.startIndex...newline)
                    }
                    if result.count >= count { break }
                }
                return result
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return []
            }
            let first = await group.next() ?? []
            group.cancelAll()
            return first
        }
    }

    @Test func resumesFromAResourceVersionWithLaterEventsOnly() async throws {
        let sandbox = try await TestCluster.start()
        defer { Task { await sandbox.stop() } }
        let created = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("w1"))
        let rv = created.body.resourceVersion ?? ""
        _ = await sandbox.patch("/api/v1/namespaces/default/configmaps/w1", #"{"data":{"a":"2"}}"#, contentType: "application/merge-patch+json")
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", Fixtures.configMap("w2"))
        _ = await sandbox.call("DELETE", "/api/v1/namespaces/default/configmaps/w1")

        let request = APIRequest(method: "GET", uri: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(rv)",
                                 headers: ["authorization": "Bearer test-token"], body: Data())
        let events = await lines(await sandbox.cluster.router.handle(request), count: 3)
        #expect(events.map { $0["type"]?.string ?? "" } == ["MODIFIED", "ADDED", "DELETED"])
        #expect(events.map { $0["object"]?.name ?? "" } == ["w1", "w2", "w1"])
        #expect(events.first?["object"]?["kind"]?.string == "ConfigMap")

        // Without a resourceVersion: synthetic ADDED for what exists, filtered by label.
        _ = await sandbox.call("POST", "/api/v1/namespaces/default/configmaps", ["metadata": ["name": "w3", "labels": ["pick": "me"]]])
        let selected = APIRequest(method: "GET", uri: "/api/v1/namespaces/default/configmaps?watch=1&labelSelector=pick%3Dme",
                                  headers: ["authorization": "Bearer test-token"], body: Data())
        let initial = await lines(await sandbox.cluster.router.handle(selected), count: 1)
        #expect(initial.map { $0["object"]?.name ?? "" } == ["w3"])
    }

    @Test func tooOldResourceVersionGets410AndBookmarksAndTimeoutWork() async throws {
        let store = ObjectStore(historyLimit: 3)
        let registry = Registry(store: store)
        try registry.create(ResourceCatalog.namespaces, namespace: nil, body: ["metadata": ["name": "default"]])
        for index in 0..<6 {
            try registry.create(ResourceCatalog.configMaps, namespace: "default", body: ["metadata": ["name": .string("c\(index)")]])
        }
        let old = APIRequest(method: "GET", uri: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2", headers: [:], body: Data())
        let expired = await lines(try WatchStreamer.stream(old, type: ResourceCatalog.configMaps, namespace: "default", labels: .everything, fields: nil, store: store), count: 1)
        #expect(expired.first?["type"]?.string == "ERROR")
        #expect(expired.first?[path: ["object", "code"]]?.int == 410)
        #expect(expired.first?[path: ["object", "reason"]]?.string == "Expired")

        let recent = store.currentRevision
        let timed = APIRequest(method: "GET", uri: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(recent)&timeoutSeconds=1",
                               headers: [:], body: Data())
        let started = ContinuousClock.now
        let none = await lines(try WatchStreamer.stream(timed, type: ResourceCatalog.configMaps, namespace: "default", labels: .everything, fields: nil, store: store), count: 1, timeout: .seconds(5))
        #expect(none.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(4), "timeoutSeconds=1 ends the watch")
    }
}
