import Foundation
import SystemSupport

#if canImport(Glibc)
import Glibc
#endif

/// A running pod: its address, files, namespaces and container supervisors.
final class PodHandle: Sendable {
    let spec: PodLaunchSpec
    let ip: String
    let filesystem: PodFilesystem
    let netnsPath: String
    private let supervisorList = Locked<[ContainerSupervisor]>([])
    private let publishLock = NSLock()
    private let continuation: AsyncStream<PodRuntimeStatus>.Continuation

    init(spec: PodLaunchSpec, ip: String, filesystem: PodFilesystem, netnsPath: String,
         continuation: AsyncStream<PodRuntimeStatus>.Continuation) {
        self.spec = spec
        self.ip = ip
        self.filesystem = filesystem
        self.netnsPath = netnsPath
        self.continuation = continuation
    }

    var supervisors: [ContainerSupervisor] {
        get { supervisorList.current }
        set { supervisorList.withLock { $0 = newValue } }
    }

    func supervisor(named name: String) -> ContainerSupervisor? { supervisors.first { $0.context.spec.name == name } }

    var status: PodRuntimeStatus { PodRuntimeStatus(uid: spec.uid, podIP: ip, containers: supervisors.map(\.status)) }

    /// Sends the pod's whole current status; serialized so updates arrive in the order they happened.
    func publish() {
        publishLock.lock()
        defer { publishLock.unlock() }
        continuation.yield(status)
    }

    /// Kills whatever still runs in the pod's namespaces after its containers stopped
    /// (daemons that left the container's process group), so nothing of the pod outlives it.
    func killStragglers() async {
        let namespaceInodes = Set([netnsPath, filesystem.mountNamespacePath].compactMap(Self.inode))
        guard !namespaceInodes.isEmpty else { return }
        for _ in 0..<100 {
            let stragglers = Self.processes(inNamespaces: namespaceInodes)
            if stragglers.isEmpty { return }
            for pid in stragglers { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func inode(_ path: String) -> UInt? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt(info.st_ino) : nil
    }

    private static func processes(inNamespaces inodes: Set<UInt>) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry) else { return nil }
            for kind in ["net", "mnt"] {
                if let inode = inode("/proc/\(pid)/ns/\(kind)"), inodes.contains(inode) {
                    // A zombie still shows its namespaces but is already dead; its parent reaps it.
                    if let state = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                       let close = state.lastIndex(of: ")"),
                       state[state.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") {
                        return nil
                    }
                    return pid
                }
            }
            return nil
        }
    }
}
