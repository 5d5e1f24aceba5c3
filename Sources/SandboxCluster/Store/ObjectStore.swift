import Foundation
import KubeModel

/// One change to one stored object, as watchers and controllers see it.
struct StoreEvent: Sendable {
    enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    var kind: Kind
    /// The store bucket (`ResourceType.key`).
    var resource: String
    var object: JSONValue
    var revision: Int
}

/// Where a watch should start.
enum WatchStart: Sendable {
    /// Synthetic ADDED events for what exists now, then changes.
    case current
    /// Only changes after this revision.
    case after(Int)
}

/// All objects of the sandbox in memory, with one global revision counter and a bounded change
/// history for watches.
///
/// A lock rather than an actor: the REST layer needs read-check-write steps to be atomic
/// (optimistic concurrency), and synchronous calls keep those steps in one critical section.
final class ObjectStore: @unchecked Sendable {
    private struct Subscriber {
        var resource: String?
        var namespace: String?
        var continuation: AsyncStream<StoreEvent>.Continuation
    }

    private let lock = NSLock()
    private var buckets: [String: [String: JSONValue]] = [:]
    private var revision = 1
    private var history: [StoreEvent] = []
    private let historyLimit: Int
    private var subscribers: [UUID: Subscriber] = [:]

    /// `historyLimit` bounds how far back a watch may resume; older revisions get 410 Expired.
    init(historyLimit: Int = 2000) {
        self.historyLimit = historyLimit
    }

    private static func objectKey(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    /// The latest revision handed out.
    var currentRevision: Int { lock.withLock { revision } }

    func get(_ resource: String, namespace: String?, name: String) -> JSONValue? {
        lock.withLock { buckets[resource]?[Self.objectKey(namespace, name)] }
    }

    /// Objects of a kind, optionally in one namespace, sorted by namespace and name, with the revision they reflect.
    func list(_ resource: String, namespace: String?) -> (items: [JSONValue], revision: Int) {
        lock.withLock {
            let all = (buckets[resource] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            let items = namespace.map { ns in all.filter { $0.namespace == ns } } ?? all
            return (items, revision)
        }
    }

    /// Runs `body` on the stored object (or `nil`) while holding the lock and does what it returns:
    /// `.keep` leaves the store untouched, `.put` writes with a new revision, `.remove` deletes.
    /// This is the only write path, so every check inside `body` is atomic with its write.
    /// Returns the object as stored (with its new resourceVersion), as removed, or as it was.
    @discardableResult
    func mutate(
        _ resource: String, namespace: String?, name: String,
        _ body: (JSONValue?) throws -> StoreChange
    ) throws -> JSONValue? {
        try lock.withLock {
            let key = Self.objectKey(namespace, name)
            let existing = buckets[resource]?[key]
            switch try body(existing) {
            case .keep:
                return existing
            case .keepReturning(let value):
                return value
            case .put(var object):
                revision += 1
                object.resourceVersion = String(revision)
                buckets[resource, default: [:]][key] = object
                record(StoreEvent(kind: existing == nil ? .added : .modified, resource: resource, object: object, revision: revision))
                return object
            case .remove:
                guard var object = existing else { return nil }
                revision += 1
                object.resourceVersion = String(revision)
                buckets[resource]?[key] = nil
                record(StoreEvent(kind: .deleted, resource: resource, object: object, revision: revision))
                return object
            }
        }
    }

    /// Stores the event in the history and hands it to subscribers; called with the lock held so
    /// every subscriber sees events in revision order.
    private func record(_ event: StoreEvent) {
        history.append(event)
        if history.count > historyLimit { history.removeFirst(history.count - historyLimit) }
        for subscriber in subscribers.values where matches(subscriber, event) {
            subscriber.continuation.yield(event)
        }
    }

    private func matches(_ subscriber: Subscriber, _ event: StoreEvent) -> Bool {
        if let resource = subscriber.resource, resource != event.resource { return false }
        if let namespace = subscriber.namespace, namespace != event.object.namespace { return false }
        return true
    }

    /// Events of one kind (or of all kinds with `resource == nil`) from `start` on.
    /// Throws `WatchExpired` when `start` is older than the retained history.
    func watch(resource: String?, namespace: String?, from start: WatchStart) throws -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream(bufferingPolicy: .unbounded)
        let id = UUID()
        try lock.withLock {
            let subscriber = Subscriber(resource: resource, namespace: namespace, continuation: continuation)
            switch start {
            case .current:
                let buckets = resource.map { [$0: self.buckets[$0] ?? [:]] } ?? self.buckets
                for (bucket, objects) in buckets {
                    for (_, object) in objects.sorted(by: { $0.key < $1.key }) {
                        let event = StoreEvent(kind: .added, resource: bucket, object: object, revision: revision)
                        if matches(subscriber, event) { continuation.yield(event) }
                    }
                }
            case .after(let since):
                if since < revision {
                    let oldest = history.first?.revision ?? (revision + 1)
                    // Revisions between `since` and `oldest` may have been dropped from the history.
                    if since + 1 < oldest { throw WatchExpired(requested: since, oldest: oldest) }
                    for event in history where event.revision > since && matches(subscriber, event) {
                        continuation.yield(event)
                    }
                }
            }
            subscribers[id] = subscriber
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.withLock { _ = self.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// What `ObjectStore.mutate` should do with the object.
enum StoreChange: Sendable {
    case keep
    /// Leaves the store untouched but answers with this value (dry runs).
    case keepReturning(JSONValue)
    case put(JSONValue)
    case remove
}

/// A watch asked for a revision older than the history holds.
struct WatchExpired: Error, Sendable {
    var requested: Int
    var oldest: Int
}
