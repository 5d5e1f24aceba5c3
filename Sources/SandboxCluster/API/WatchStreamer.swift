import Foundation
import KubeModel

/// Serves `?watch=true`: one JSON event per line, bookmarks, `timeoutSeconds`, and an ERROR
/// event with a 410 Expired Status for a resourceVersion older than the store's history.
enum WatchStreamer {
    /// How often a bookmark is sent when the client allows them.
    static let bookmarkInterval: Duration = .seconds(5)

    static func stream(_ request: APIRequest, type: ResourceType, namespace: String?, labels: LabelSelector, fields: FieldSelector?, store: ObjectStore) throws -> APIResponse {
        let start: WatchStart
        let rvText = request.parameter("resourceVersion") ?? ""
        if rvText.isEmpty || rvText == "0" {
            start = .current
        } else if let rv = Int(rvText) {
            start = .after(rv)
        } else {
            throw APIError.badRequest("resourceVersion \(rvText) is not one the sandbox issued; use the value from a list")
        }
        let version = type.api.group.isEmpty ? (APIPath(request.path)?.version ?? "v1") : "\(type.api.group)/\(APIPath(request.path)?.version ?? type.api.version)"
        let (output, continuation) = AsyncStream<Data>.makeStream()
        let events: AsyncStream<StoreEvent>
        do {
            events = try store.watch(resource: type.key, namespace: type.api.namespaced ? namespace : nil, from: start)
        } catch let expired as WatchExpired {
            let status = KubeStatus(code: 410, reason: "Expired", message: "too old resource version: \(expired.requested) (\(expired.oldest))")
            continuation.yield(line(type: "ERROR", object: status.json))
            continuation.finish()
            return .stream(status: 200, contentType: "application/json", output)
        }
        let timeout = request.parameter("timeoutSeconds").flatMap(Int.init)
        let bookmarks = request.boolParameter("allowWatchBookmarks")
        let lastRevision = RevisionBox(initial: {
            if case .after(let rv) = start { return rv }
            return store.currentRevision
        }())
        let pump = Task {
            for await event in events {
                guard labels.matches(event.object.labels), fields?.matches(event.object) ?? true else {
                    lastRevision.set(event.revision)
                    continue
                }
                var object = event.object
                object["apiVersion"] = .string(version)
                object["kind"] = .string(type.api.kind)
                continuation.yield(line(type: event.kind.rawValue, object: object))
                lastRevision.set(event.revision)
            }
            continuation.finish()
        }
        let ticker = Task {
            let deadline = timeout.map { ContinuousClock.now + .seconds($0) }
            while !Task.isCancelled {
                let next = ContinuousClock.now + (bookmarks ? bookmarkInterval : .seconds(3600))
                let wake = deadline.map { min($0, next) } ?? next
                try? await Task.sleep(until: wake, clock: .continuous)
                if Task.isCancelled { return }
                if let deadline, ContinuousClock.now >= deadline {
                    pump.cancel()
                    continuation.finish()
                    return
                }
                if bookmarks {
                    let object: JSONValue = ["kind": .string(type.api.kind), "apiVersion": .string(version),
                                             "metadata": ["resourceVersion": .string(String(lastRevision.get()))]]
                    continuation.yield(line(type: "BOOKMARK", object: object))
                }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            ticker.cancel()
        }
        return .stream(status: 200, contentType: "application/json", output)
    }

    static func line(type: String, object: JSONValue) -> Data {
        var data = JSONValue.object(["type": .string(type), "object": object]).serialized()
        data.append(UInt8(ascii: "\n"))
        return data
    }
}

/// The last revision a watch has passed on, shared between its pump and its bookmark timer.
final class RevisionBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int

    init(initial: Int) { value = initial }

    func get() -> Int { lock.withLock { value } }
    func set(_ newValue: Int) { lock.withLock { value = max(value, newValue) } }
}
