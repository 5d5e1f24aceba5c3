import Foundation
import SystemSupport

/// One pod's files and its private mount (and UTS) namespace.
///
/// Volumes live under the pod's state folder on the host and are bind-mounted at their mount
/// paths inside a mount namespace only this pod's processes enter. The pod's own `/etc/hosts`,
/// `/etc/resolv.conf` and `/etc/hostname` are bind-mounted over the host's, and the runtime's
/// state folder is hidden under an empty tmpfs, so a pod sees neither other pods' files nor
/// the sandbox's bookkeeping. The namespaces are kept alive by bind-mounting them onto files
/// (`unshare --mount=FILE`), so containers and `exec` can enter them later with `nsenter`.
final class PodFilesystem: Sendable {
    let root: URL
    let mountNamespacePath: String
    let utsNamespacePath: String
    private let stateDirectory: URL
    private let heldMountPoints = Locked<[String]>([])

    init(stateDirectory: URL, uid: String) {
        let tag = SandboxNetwork.shortTag(uid)
        self.stateDirectory = stateDirectory
        self.root = stateDirectory.appendingPathComponent("pods/\(tag)")
        self.mountNamespacePath = stateDirectory.appendingPathComponent("ns/\(tag).mnt").path
        self.utsNamespacePath = stateDirectory.appendingPathComponent("ns/\(tag).uts").path
    }

    func volumePath(_ name: String) -> String { root.appendingPathComponent("volumes/\(name)").path }
    var hostsPath: String { root.appendingPathComponent("etc/hosts").path }

    /// Writes volumes and `/etc` files, creates missing mount points and the namespaces.
    func prepare(_ spec: PodLaunchSpec, podIP: String, services: [ServiceRoute], registry: MountPointRegistry) async throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
            try fm.createDirectory(at: root.appendingPathComponent("logs"), withIntermediateDirectories: true)
        } catch {
            throw SandboxRuntimeError.fileError(path: root.path, reason: "\(error)")
        }
        var readOnlyVolumes: Set<String> = []
        for volume in spec.volumes {
            let path = volumePath(volume.name)
            try makeDirectory(path, mode: 0o777)
            if case .files(let files, let mode) = volume.source {
                // configMap, secret and token volumes are read-only in Kubernetes, whatever the mount says.
                readOnlyVolumes.insert(volume.name)
                for (relative, data) in files {
                    let file = URL(fileURLWithPath: path).appendingPathComponent(relative)
                    try makeDirectory(file.deletingLastPathComponent().path, mode: 0o755)
                    do { try data.write(to: file) } catch {
                        throw SandboxRuntimeError.fileError(path: file.path, reason: "\(error)")
                    }
                    chmod(file.path, mode_t(mode))
                }
            }
        }
        try write(Self.hostsFile(podIP: podIP, hostname: spec.hostname, namespace: spec.namespace, services: services), to: hostsPath)
        try write("search \(spec.namespace).svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
                  to: root.appendingPathComponent("etc/resolv.conf").path)
        try write("\(spec.hostname)\n", to: root.appendingPathComponent("etc/hostname").path)

        var script = ["set -e"]
        var seen: Set<String> = []
        for container in spec.containers {
            for mount in container.volumeMounts where !seen.contains(mount.mountPath) {
                seen.insert(mount.mountPath)
                var source = volumePath(mount.volumeName)
                if let subPath = mount.subPath, !subPath.isEmpty {
                    source += "/" + subPath
                    // A subPath that does not exist yet becomes a directory, as in Kubernetes.
                    if !fm.fileExists(atPath: source) { try makeDirectory(source, mode: 0o777) }
                }
                var isDirectory: ObjCBool = false
                let isFile = fm.fileExists(atPath: source, isDirectory: &isDirectory) && !isDirectory.boolValue
                let held = try registry.acquire(mount.mountPath, isFile: isFile)
                heldMountPoints.withLock { $0 += held }
                script.append("mount --bind \(Self.quote(source)) \(Self.quote(mount.mountPath))")
                if mount.readOnly || readOnlyVolumes.contains(mount.volumeName) {
                    script.append("mount -o remount,bind,ro \(Self.quote(mount.mountPath))")
                }
            }
        }
        for name in ["hosts", "resolv.conf", "hostname"] {
            let held = try registry.acquire("/etc/\(name)", isFile: true)
            heldMountPoints.withLock { $0 += held }
            script.append("mount --bind \(Self.quote(root.appendingPathComponent("etc/\(name)").path)) /etc/\(name)")
        }
        // The pod's own UTS namespace gets its hostname (no dependency on the hostname tool).
        script.append("printf %s \(Self.quote(spec.hostname)) > /proc/sys/kernel/hostname")
        // Drop this namespace's copies of other pods' namespace handles: they would keep those
        // namespaces alive after their pods stopped. Then hide the runtime's state folder.
        script.append("umount -l /run/netns 2>/dev/null || true")
        script.append("umount -l \(Self.quote(stateDirectory.appendingPathComponent("ns").path)) 2>/dev/null || true")
        script.append("mount -t tmpfs -o size=64k,mode=0755 swapdev-hidden \(Self.quote(stateDirectory.path))")
        for path in [mountNamespacePath, utsNamespacePath] { try write("", to: path) }
        try await HostProcess.run([
            "unshare", "--mount=\(mountNamespacePath)", "--uts=\(utsNamespacePath)", "--propagation", "private",
            "/bin/sh", "-c", script.joined(separator: "\n"),
        ])
    }

    /// Rewrites `/etc/hosts` in place: the pod's bind mount points at this inode, so a new file would not be seen.
    func updateHosts(podIP: String, hostname: String, namespace: String, services: [ServiceRoute]) {
        let text = Self.hostsFile(podIP: podIP, hostname: hostname, namespace: namespace, services: services)
        guard let handle = FileHandle(forWritingAtPath: hostsPath) else { return }
        defer { try? handle.close() }
        try? handle.truncate(atOffset: 0)
        try? handle.write(contentsOf: Data(text.utf8))
    }

    /// Unmounts the namespace files, releases created mount points and deletes the pod's files.
    func tearDown(registry: MountPointRegistry) async {
        for path in [mountNamespacePath, utsNamespacePath] {
            _ = try? await HostProcess.run(["umount", path], allowFailure: true)
            unlink(path)
        }
        registry.release(heldMountPoints.withLock { held in
            defer { held.removeAll() }
            return held
        })
        try? FileManager.default.removeItem(at: root)
    }

    /// The pod's hosts file: its own name, then every Service under the names a pod resolves.
    /// The bare `NAME` is only listed for Services in the pod's namespace, as the search path would find them.
    static func hostsFile(podIP: String, hostname: String, namespace: String, services: [ServiceRoute]) -> String {
        var lines = [
            "# Written by the swapdev sandbox (not Kubernetes): pod and Service names.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "\(podIP)\t\(hostname)",
        ]
        for service in services.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) where !service.clusterIP.isEmpty && service.clusterIP != "None" {
            let qualified = "\(service.name).\(service.namespace)"
            var names = [qualified, "\(qualified).svc", "\(qualified).svc.cluster.local"]
            if service.namespace == namespace { names.insert(service.name, at: 0) }
            lines.append("\(service.clusterIP)\t\(names.joined(separator: " "))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    private func makeDirectory(_ path: String, mode: mode_t) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SandboxRuntimeError.fileError(path: path, reason: "\(error)")
        }
        chmod(path, mode)
    }

    private func write(_ text: String, to path: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
            throw SandboxRuntimeError.fileError(path: path, reason: "\(error)")
        }
    }
}
