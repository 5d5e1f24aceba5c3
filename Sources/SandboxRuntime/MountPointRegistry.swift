import Foundation

/// Mount points the runtime had to create on the host, counted per pod that uses them.
///
/// A pod's bind mounts need their target to exist in the host filesystem (the pod's mount
/// namespace shares it). Paths that did not exist are created, recorded, and removed again
/// when the last pod using them is gone, so the host ends up exactly as it was.
final class MountPointRegistry: Sendable {
    private let created = Locked<[String: Int]>([:])

    /// Makes sure `path` exists (a directory, or an empty file when `isFile`) and returns the
    /// paths this pod now holds a reference on, shallowest first.
    func acquire(_ path: String, isFile: Bool) throws -> [String] {
        try created.withLock { created in
            var held: [String] = []
            let components = path.split(separator: "/").map(String.init)
            var current = ""
            for (offset, component) in components.enumerated() {
                current += "/" + component
                let last = offset == components.count - 1
                if let count = created[current] {
                    created[current] = count + 1
                    held.append(current)
                    continue
                }
                var info = stat()
                if lstat(current, &info) == 0 { continue }
                let ok: Bool
                if last && isFile {
                    let fd = open(current, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                    ok = fd >= 0
                    if ok { close(fd) }
                } else {
                    ok = mkdir(current, 0o755) == 0
                }
                guard ok else {
                    throw SandboxRuntimeError.fileError(path: current, reason: String(cString: strerror(errno)))
                }
                created[current] = 1
                held.append(current)
            }
            return held
        }
    }

    /// Drops references taken by ``acquire(_:isFile:)``; removes paths nobody uses any more.
    func release(_ paths: [String]) {
        created.withLock { created in
            // Deepest first, so directories are empty when their turn comes.
            for path in paths.sorted(by: { $0.count > $1.count }) {
                guard let count = created[path] else { continue }
                if count > 1 {
                    created[path] = count - 1
                } else {
                    created[path] = nil
                    if unlink(path) != 0 { rmdir(path) }
                }
            }
        }
    }

    /// Whether any created path is still held (used by tests and shutdown checks).
    var isEmpty: Bool { created.current.isEmpty }
}
