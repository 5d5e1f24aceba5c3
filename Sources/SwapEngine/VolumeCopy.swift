import Foundation
import KubeModel
import SSHTunnel
import SwapPlan

/// Copies the target container's mounted volumes from the pod to `SWAPDEV_ROOT`, each at its
/// mount path below the root (`/etc/app` → `$SWAPDEV_ROOT/etc/app`); directories 0700, files 0600.
struct VolumeCopy {
    let session: SSHSession
    /// The local root; created 0700 if missing.
    let root: URL

    /// The service-account token's mount path, added by admission when automounted.
    static let serviceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The mount paths to copy: the live pod's mounts of `container` (admission-injected ones
    /// included) except swapdev's state directory, plus the service-account path.
    static func mountPaths(pod: JSONValue, container: String) -> [String] {
        let spec = (pod[path: ["spec", "containers"]]?.array ?? []).first { $0["name"]?.string == container }
        var paths = (spec?["volumeMounts"]?.array ?? []).compactMap { mount -> String? in
            guard mount["name"]?.string != ProxyPodBuilder.stateVolume else { return nil }
            return mount["mountPath"]?.string
        }
        if pod[path: ["spec", "automountServiceAccountToken"]]?.bool != false, !paths.contains(serviceAccountPath) {
            paths.append(serviceAccountPath)
        }
        return paths
    }

    /// Copies each path; returns what was copied and warnings for what could not be.
    func copy(paths: [String]) async throws -> (copied: [String], warnings: [String]) {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var copied: [String] = []
        var warnings: [String] = []
        for path in paths {
            let destination = root.appendingPathComponent(String(path.drop { $0 == "/" }))
            do {
                try makeParents(of: destination)
                try await session.copyDirectory(remote: path, to: destination)
                copied.append(path)
            } catch {
                // A subPath mount may be a single file; tar -C fails on it, cat does not.
                if let data = try? await session.readFile(path) {
                    FileManager.default.createFile(atPath: destination.path, contents: data, attributes: [.posixPermissions: 0o600])
                    copied.append(path)
                } else if path != Self.serviceAccountPath {
                    warnings.append("volume at \(path) not copied: \(error)")
                }
            }
        }
        return (copied, warnings)
    }

    private func makeParents(of url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
