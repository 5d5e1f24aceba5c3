import Foundation
import KubeModel
import NIOCore

/// One change seen by a watch.
public struct WatchEvent: Sendable, Hashable {
    public enum EventType: String, Sendable, Hashable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    public var type: EventType
    /// The object after the change (for `deleted`, its last state).
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }
}

extension KubeClient {
    /// Watches objects, resuming transparently.
    ///
    /// - Without `resourceVersion`, the current objects are listed first and delivered as `added`.
    /// - When the server ends the watch (its timeout) or the connection drops, it resumes from the last
    ///   resourceVersion seen (events and bookmarks both advance it; bookmarks are not delivered).
    /// - When that version is too old (HTTP 410 or an `ERROR` event with code 410), it lists again and
    ///   delivers the listed objects as `added`, then watches from the list's version.
    /// - Other `ERROR` events and API errors end the stream with a ``KubeError``; five transport failures
    ///   in a row do too.
    ///
    /// Cancel by dropping the stream or cancelling the consuming task.
    public func watch(
        _ resource: APIResource, namespace: String? = nil, name: String? = nil,
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self)
        let fields = [fieldSelector, name.map { "metadata.name=\($0)" }].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ",")
        let task = Task { [self] in
            do {
                try await runWatch(resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fields.isEmpty ? nil : fields, resourceVersion: resourceVersion) {
                    continuation.yield($0)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runWatch(
        _ resource: APIResource, namespace: String?, labelSelector: String?, fieldSelector: String?,
        resourceVersion start: String?, deliver: (WatchEvent) -> Void
    ) async throws {
        var resourceVersion = start
        var failures = 0
        func relist() async throws -> String? {
            let list = try await self.list(resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
            for item in list.items { deliver(WatchEvent(type: .added, object: item)) }
            return list.resourceVersion
        }
        if resourceVersion == nil { resourceVersion = try await relist() }
        while !Task.isCancelled {
            var query: [(String, String)] = [("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "600")]
            if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
            if let labelSelector { query.append(("labelSelector", labelSelector)) }
            if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
            let path = resource.path(namespace: resolveNamespace(resource, namespace))
            var expired = false
            do {
                let body = try await performStreaming(.GET, path, query: query)
                var lines = LineSplitter()
                streamLoop: for try await chunk in body {
                    failures = 0
                    for line in lines.feed(chunk) {
                        guard let json = try? JSONValue(parsing: Data(line)), let type = json["type"]?.string else {
                            throw KubeError.protocolViolation("watch of \(resource.plural) sent a line that is not a watch event: \(oneLine(String(decoding: line.prefix(100), as: UTF8.self)))")
                        }
                        let object = json["object"] ?? .emptyObject
                        switch type {
                        case "BOOKMARK":
                            resourceVersion = object.resourceVersion ?? resourceVersion
                        case "ERROR":
                            let status = KubeStatus(json: object) ?? KubeStatus(code: object["code"]?.int ?? 500, reason: object["reason"]?.string ?? "", message: object["message"]?.string ?? "watch error")
                            if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" {
                                expired = true
                                break streamLoop
                            }
                            throw KubeError(status: status)
                        default:
                            guard let eventType = WatchEvent.EventType(rawValue: type) else { continue }
                            resourceVersion = object.resourceVersion ?? resourceVersion
                            deliver(WatchEvent(type: eventType, object: object))
                        }
                    }
                }
            } catch KubeError.expired {
                expired = true
            } catch let error as KubeError where error.status == nil && !Task.isCancelled {
                // Transport trouble: back off and resume from the last version seen.
                failures += 1
                if failures >= 5 { throw error }
                logger.debug("watch of \(resource.plural) interrupted (\(error)); resuming from \(resourceVersion ?? "now")")
                try await Task.sleep(for: .milliseconds(200 * failures))
                continue
            }
            if expired {
                logger.debug("watch of \(resource.plural): resourceVersion \(resourceVersion ?? "") expired; listing again")
                resourceVersion = try await relist()
            }
        }
    }
}

/// Splits a byte stream into newline-terminated lines, skipping blank ones.
struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func feed(_ chunk: ByteBuffer) -> [[UInt8]] {
        pending.append(contentsOf: chunk.readableBytesView)
        var lines: [[UInt8]] = []
        var start = 0
        for index in pending.indices where pending[index] == UInt8(ascii: "\n") {
            let line = pending[start..<index]
            if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) { lines.append(Array(line)) }
            start = index + 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// What is left after the stream ended without a final newline.
    var remainder: [UInt8] { pending }
}
