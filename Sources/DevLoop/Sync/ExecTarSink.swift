import KubeClient
import SyncCore

/// A ``TarSink`` that writes to the stdin of a running exec (`tar -xof -` in the container).
struct ExecTarSink: TarSink {
    let session: ExecSession

    func write(_ bytes: [UInt8]) async throws {
        try await session.write(stdin: bytes)
    }
}
