import Foundation
import SystemSupport

/// Mount points the runtime had to create on the host, counted per pod that uses them — across
/// every sandbox process on the host.
///
/// A pod's bind mounts need their target to exist in the host filesystem (the pod's mount
/// namespace shares it). Paths that did not exist are created, and removed again when the last
/// pod using them is gone, so the host ends up exactly as it was.
///
/// Why across processes: two sandboxes on one host (a test suite beside the fault-injection
/// suite) mount at the same paths (`/var/run/swapdev-deadman`). Removing a directory that is a
/// mount point in another mount namespace succeeds on Linux and detaches that mount, so one
/// sandbox's cleanup used to empty a running pod's volume in the other (its dead-man switch
/// then lost its CA file). So each created path has a marker file under ``stateDirectory``;
/// every process using the path holds a shared `flock` on its marker, and a path is removed only
/// by whoever can take the marker's lock exclusively — nobody else uses it then. One host-wide
/// lock file serialises acquire and release, so a path is never seen half-created.
final class MountPointRegistry: Sendable {
    /// A path this process holds: how many of its pods use it, and the open marker whose shared
    /// lock tells other processes it is in use.
    private struct Held {
        var users: Int
        let marker: Int32
    }

    private let held = Locked<[String: Held]>([:])
    private let stateDirectory: String

    /// - Parameter stateDirectory: host-wide directory for the lock and the markers.
    init(stateDirectory: String = "/run/swapdev-sandbox/mount-points") {
        self.stateDirectory = stateDirectory
    }

    /// Makes sure `path` exists (a directory, or an empty file when `isFile`) and returns the
    /// paths this pod now holds a reference on, shallowest first.
    func acquire(_ path: String, isFile: Bool) throws -> [String] {
        try withHostLock {
            try held.withLock { held in
                var taken: [String] = []
                let components = path.split(separator: "/").map(String.init)
                var current = ""
                for (offset, component) in components.enumerated() {
                    current += "/" + component
                    if held[current] != nil {
                        held[current]?.users += 1
                        taken.append(current)
                        continue
                    }
                    let markerPath = marker(for: current)
                    var info = stat()
                    let exists = lstat(current, &info) == 0
                    // Present without a marker: the host's own path, never ours to remove.
                    if exists && lstat(markerPath, &info) != 0 { continue }
                    if !exists {
                        try create(current, asFile: offset == components.count - 1 && isFile)
                    }
                    let fd = open(markerPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
                    guard fd >= 0, flock(fd, LOCK_SH) == 0 else {
                        let reason = String(cString: strerror(errno))
                        if fd >= 0 { close(fd) }
                        throw SandboxRuntimeError.fileError(path: markerPath, reason: reason)
                    }
                    held[current] = Held(users: 1, marker: fd)
                    taken.append(current)
                }
                return taken
            }
        }
    }

    /// Drops references taken by ``acquire(_:isFile:)``; removes paths no pod of any sandbox
    /// uses any more.
    func release(_ paths: [String]) {
        try? withHostLock {
            held.withLock { held in
                // Deepest first, so directories are empty when their turn comes.
                for path in paths.sorted(by: { $0.count > $1.count }) {
                    guard let entry = held[path] else { continue }
                    if entry.users > 1 {
                        held[path]?.users -= 1
                        continue
                    }
                    held[path] = nil
                    // Upgrading our own lock to exclusive succeeds only when no other process
                    // holds its shared lock; otherwise the last of them removes the path.
                    if flock(entry.marker, LOCK_EX | LOCK_NB) == 0 {
                        if unlink(path) != 0 { rmdir(path) }
                        unlink(marker(for: path))
                    }
                    close(entry.marker)
                }
            }
        }
    }

    /// Whether any created path is still held (used by tests and shutdown checks).
    var isEmpty: Bool { held.current.isEmpty }

    private func marker(for path: String) -> String {
        stateDirectory + "/" + path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }

    private func create(_ path: String, asFile: Bool) throws {
        let ok: Bool
        if asFile {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            ok = fd >= 0
            if ok { close(fd) }
        } else {
            ok = mkdir(path, 0o755) == 0
        }
        guard ok else { throw SandboxRuntimeError.fileError(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Runs `body` holding the host-wide lock (blocking: acquire and release are short).
    private func withHostLock<Result>(_ body: () throws -> Result) throws -> Result {
        try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let lockPath = stateDirectory + "/.lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SandboxRuntimeError.fileError(path: lockPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SandboxRuntimeError.fileError(path: lockPath, reason: String(cString: strerror(errno))) }
        }
        return try body()
    }
}
