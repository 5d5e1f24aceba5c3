import Foundation

/// Why ``ProcessPodRuntime`` could not set up or run something on the host.
public enum SandboxRuntimeError: Error, Sendable, CustomStringConvertible {
    /// The runtime creates network namespaces, bridges and mounts: it needs root on Linux.
    case notRoot(uid: UInt32)
    /// A host command (`ip`, `unshare`, `mount`) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// A host tool the runtime relies on is not installed.
    case toolMissing(String)
    /// `posix_spawn` refused to start a process.
    case spawnFailed(executable: String, errno: Int32)
    /// No more pod addresses are free in the pod range.
    case addressesExhausted(cidr: String)
    /// A file the runtime needed could not be written.
    case fileError(path: String, reason: String)

    public var description: String {
        switch self {
        case .notRoot(let uid):
            return "the sandbox pod runtime needs root (uid 0) to create network namespaces, bridges and mounts, but runs as uid \(uid): run it with sudo"
        case .commandFailed(let command, let status, let output):
            let detail = output.split(separator: "\n").first.map(String.init) ?? ""
            return "host command `\(command)` failed with status \(status): \(detail) — check that iproute2/util-linux are installed and the host allows namespaces"
        case .toolMissing(let tool):
            return "\(tool) is not installed: run scripts/install-deps.sh"
        case .spawnFailed(let executable, let code):
            return "could not start \(executable): \(String(cString: strerror(code))) — check the container's command"
        case .addressesExhausted(let cidr):
            return "no free pod address left in \(cidr): delete some pods"
        case .fileError(let path, let reason):
            return "could not write \(path): \(reason) — check the state directory's permissions and free space"
        }
    }
}
