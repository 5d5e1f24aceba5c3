import Foundation
import KubeModel

extension KubeClient {
    /// A pod's log. With `follow`, the stream stays open and delivers lines as the container writes them.
    ///
    /// Chunks are raw bytes as the server sends them (not split into lines).
    public func logs(
        namespace: String? = nil, pod: String, container: String? = nil, follow: Bool = false,
        tailLines: Int? = nil, sinceSeconds: Int? = nil, previous: Bool = false, timestamps: Bool = false
    ) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        if let sinceSeconds { query.append(("sinceSeconds", String(sinceSeconds))) }
        if previous { query.append(("previous", "true")) }
        if timestamps { query.append(("timestamps", "true")) }
        let path = APIResource.pods.path(namespace: resolveNamespace(.pods, namespace), name: pod, subresource: "log")
        let body = try await performStreaming(.GET, path, query: query)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let task = Task {
            do {
                for try await chunk in body { continuation.yield(Array(chunk.readableBytesView)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The whole (non-followed) log as text.
    public func logText(namespace: String? = nil, pod: String, container: String? = nil, tailLines: Int? = nil) async throws -> String {
        var bytes: [UInt8] = []
        for try await chunk in try await logs(namespace: namespace, pod: pod, container: container, tailLines: tailLines) { bytes += chunk }
        return String(decoding: bytes, as: UTF8.self)
    }
}
