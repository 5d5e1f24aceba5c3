import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes tar entries under a root directory, refusing anything that would land outside it.
/// Directories get 0700 and files 0600 whatever the archive says: these are secrets.
struct TarExtractor {
    let root: URL

    func extract(_ entries: [TarEntry]) throws -> [String] {
        try makeDirectory(root.path)
        var written: [String] = []
        for entry in entries {
            let components = try safeComponents(entry.path)
            if components.isEmpty { continue }
            let relative = components.joined(separator: "/")
            let path = root.path + "/" + relative
            try makeDirectory(root.path + "/" + components.dropLast().joined(separator: "/"))
            switch entry.kind {
            case .directory:
                try makeDirectory(path)
            case .file:
                try writeFile(path, entry.contents)
                written.append(relative)
            case let .symlink(target):
                // Only relative links that stay inside the copy (e.g. `token -> ..data/token`).
                guard !target.hasPrefix("/") else {
                    throw SSHTunnelError.invalidArchive(reason: "symlink \(relative) points outside the copy (\(target))")
                }
                var depth = components.count - 1
                for part in target.split(separator: "/") {
                    if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
                    if depth < 0 {
                        throw SSHTunnelError.invalidArchive(reason: "symlink \(relative) points outside the copy (\(target))")
                    }
                }
                unlink(path)
                guard symlink(target, path) == 0 else {
                    throw SSHTunnelError.localFileError(path: path, reason: String(cString: strerror(errno)))
                }
                written.append(relative)
            case .other:
                continue
            }
        }
        return written
    }

    /// Splits a member name, rejecting absolute names and `..` components.
    private func safeComponents(_ name: String) throws -> [String] {
        if name.hasPrefix("/") {
            throw SSHTunnelError.invalidArchive(reason: "absolute member name \(name)")
        }
        var parts: [String] = []
        for part in name.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { throw SSHTunnelError.invalidArchive(reason: "member name with '..': \(name)") }
            parts.append(String(part))
        }
        return parts
    }

    private func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw SSHTunnelError.localFileError(path: path, reason: "exists and is not a directory")
            }
            chmod(path, 0o700)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SSHTunnelError.localFileError(path: path, reason: "\(error)")
        }
        chmod(path, 0o700)
    }

    private func writeFile(_ path: String, _ contents: Data) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SSHTunnelError.localFileError(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        fchmod(fd, 0o600)
        try contents.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = write(fd, raw.baseAddress?.advanced(by: offset), raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SSHTunnelError.localFileError(path: path, reason: String(cString: strerror(errno)))
                }
                offset += count
            }
        }
    }
}
