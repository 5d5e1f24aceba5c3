import Foundation
import KubeClient
import SyncCore

/// One container directory that local files are synced into, driven over exec.
///
/// Only reads local files; every write and delete happens in the container, so a failed or
/// interrupted sync can never lose local work.
public struct RemoteTree: Sendable {
    public let client: KubeClient
    public let namespace: String?
    public let pod: String
    public let container: String
    /// Absolute directory in the container.
    public let path: String

    public init(client: KubeClient, namespace: String?, pod: String, container: String, path: String) {
        self.client = client
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.path = path
    }

    /// Checks `sh`, `tar` and writability, then lists the remote files.
    public func manifest() async throws -> Manifest {
        let result: ExecResult
        do {
            result = try await client.execCollect(namespace: namespace, pod: pod, container: container,
                                                  command: RemoteCommands.manifest(remote: path), timeout: .seconds(120))
        } catch {
            // Runtimes refuse an exec whose binary is missing with an error, not an exit code;
            // any other failure (connection, pod gone) must not be blamed on the image.
            let detail = Self.oneLine(error)
            if DevPodState.mentionsMissingShell(detail) { throw DevError.noShell(pod: pod, container: container, detail: detail) }
            throw DevError.syncFailed(pod: pod, path: path, detail: "listing: \(detail)")
        }
        switch result.exitCode {
        case 0: return RemoteCommands.parseManifest(result.stdoutText)
        case RemoteCommands.noTarExitCode: throw DevError.noTar(pod: pod, container: container)
        case RemoteCommands.notWritableExitCode: throw DevError.remoteNotWritable(pod: pod, container: container, path: path)
        case 126, 127:
            // 126/127 is `sh` itself missing, unless sh ran and names another tool (find, stat).
            let stderr = Self.oneLine(result.stderrText)
            if stderr.isEmpty || DevPodState.mentionsMissingShell(stderr) {
                throw DevError.noShell(pod: pod, container: container, detail: stderr.isEmpty ? "exit code \(result.exitCode)" : stderr)
            }
            throw DevError.syncFailed(pod: pod, path: path, detail: "listing exited \(result.exitCode): \(stderr)")
        default:
            // find/stat complaining about unreadable entries still lists the rest.
            if !result.stdout.isEmpty { return RemoteCommands.parseManifest(result.stdoutText) }
            throw DevError.syncFailed(pod: pod, path: path, detail: "listing exited \(result.exitCode): \(Self.oneLine(result.stderrText))")
        }
    }

    /// Streams `entries` from `localRoot` through `tar -xof -`; returns what was sent.
    @discardableResult
    public func upload(_ entries: [FileEntry], from localRoot: URL) async throws -> [FileEntry] {
        guard !entries.isEmpty else { return [] }
        let session = try await client.exec(namespace: namespace, pod: pod, container: container,
                                            command: RemoteCommands.extract(remote: path), stdin: true)
        let stderr = StderrCollector()
        let drain = Task {
            for try await part in session.output {
                if case .stderr(let bytes) = part { stderr.append(bytes) }
            }
        }
        let sent: [FileEntry]
        do {
            sent = try await TarStreamer(root: localRoot).stream(entries, to: ExecTarSink(session: session))
            // GNU tar reads whole 10 KiB records: pad so it never waits for bytes that will not
            // come when stdin cannot be half-closed (channel protocol v4).
            if try await !session.closeStdin() {
                try await session.write(stdin: [UInt8](repeating: 0, count: 10240))
            }
            _ = try? await drain.value
            let code = try await session.exitCode()
            guard code == 0 else {
                throw DevError.syncFailed(pod: pod, path: path, detail: "tar exited \(code): \(Self.oneLine(stderr.text))")
            }
        } catch let error as DevError {
            session.cancel()
            throw error
        } catch {
            session.cancel()
            throw DevError.syncFailed(pod: pod, path: path, detail: Self.oneLine(error))
        }
        return sent
    }

    /// Removes relative paths (files or whole directories) below ``path``.
    public func delete(_ paths: [String]) async throws {
        guard !paths.isEmpty else { return }
        let result: ExecResult
        do {
            result = try await client.execCollect(namespace: namespace, pod: pod, container: container,
                                                  command: RemoteCommands.delete(remote: path),
                                                  stdin: Data(RemoteCommands.deletionInput(paths)))
        } catch {
            throw DevError.syncFailed(pod: pod, path: path, detail: Self.oneLine(error))
        }
        guard result.exitCode == 0 else {
            throw DevError.syncFailed(pod: pod, path: path, detail: "rm exited \(result.exitCode): \(Self.oneLine(result.stderrText))")
        }
    }

    static func oneLine(_ value: Any) -> String {
        String(describing: value).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Collects stderr bytes from the exec drain task.
final class StderrCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ more: [UInt8]) {
        lock.withLock { if bytes.count < 4096 { bytes += more } }
    }

    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}
