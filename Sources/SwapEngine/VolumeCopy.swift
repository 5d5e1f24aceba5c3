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
    /// included) except swapdev's own (the state directory and the dead-man switch's token,
    /// which the original container never had), plus the service-account path.
    static func mountPaths(pod: JSONValue, container: String) -> [String] {
        let spec = (pod[path: ["spec", "containers"]]?.array ?? []).first { $0["name"]?.string == container }
        var paths = (spec?["volumeMounts"]?.array ?? []).compactMap { mount -> String? in
            let name = mount["name"]?.string
            guard name != ProxyPodBuilder.stateVolume, name != DeadManPlan.volumeName else { return nil }
            return mount["mountPath"]?.string
        }
        if pod[path: ["spec", "automountServiceAccountToken"]]?.bool != false, !paths.contains(serviceAccountPath) {
            paths.append(serviceAccountPath)
        }
        return paths
    }

    /// Copies each path; returns what was copied and warnings for what could not be, both in
    /// the order of `paths`. Each path is one or two exec channels on the session; unless one
    /// mount lies inside another (then the outer one must land first), they run at once.
    func copy(paths: [String]) async throws -> (copied: [String], warnings: [String]) {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var outcomes: [Outcome] = []
        if Self.anyNested(paths) {
            for path in paths { outcomes.append(await copy(path: path)) }
        } else {
            outcomes = await withTaskGroup(of: (Int, Outcome).self) { group in
                for (index, path) in paths.enumerated() {
                    group.addTask { (index, await self.copy(path: path)) }
                }
                var results = [Outcome](repeating: .skipped, count: paths.count)
                for await (index, outcome) in group { results[index] = outcome }
                return results
            }
        }
        var copied: [String] = []
        var warnings: [String] = []
        for (path, outcome) in zip(paths, outcomes) {
            switch outcome {
            case .copied: copied.append(path)
            case .failed(let warning): warnings.append(warning)
            case .skipped: break
            }
        }
        return (copied, warnings)
    }

    enum Outcome: Sendable {
        case copied
        case failed(String)
        /// Missing, and allowed to be (the service-account path).
        case skipped
    }

    private func copy(path: String) async -> Outcome {
        let destination = root.appendingPathComponent(String(path.drop { $0 == "/" }))
        do {
            try makeParents(of: destination)
            try await session.copyDirectory(remote: path, to: destination)
            return .copied
        } catch {
            // A subPath mount may be a single file; tar -C fails on it, cat does not. A path
            // tar found missing is missing for cat too: no second round trip.
            if !Self.isMissing(error), let data = try? await session.readFile(path) {
                _ = FileManager.default.createFile(atPath: destination.path, contents: data, attributes: [.posixPermissions: 0o600])
                return .copied
            } else if path != Self.serviceAccountPath {
                return .failed("volume at \(path) not copied: \(error)")
            }
            return .skipped
        }
    }

    /// `tar -C` failed because the path does not exist (GNU tar and busybox both print strerror(ENOENT)).
    static func isMissing(_ error: any Error) -> Bool {
        guard case SSHTunnelError.remoteCommandFailed(_, _, let stderr) = error else { return false }
        return stderr.contains("No such file or directory")
    }

    /// Whether a path lies below another (`/etc/app` and `/etc/app/extra`).
    static func anyNested(_ paths: [String]) -> Bool {
        let directories = paths.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        return directories.enumerated().contains { index, outer in
            directories.enumerated().contains { other, inner in other != index && inner.hasPrefix(outer) }
        }
    }

    private func makeParents(of url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
