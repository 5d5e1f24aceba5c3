import Foundation
import SandboxRuntime

/// Hands out Service ClusterIPs from the sandbox's Service /16 (10.96.0.0/16 by default);
/// its first address is reserved for `kubernetes`.
final class ClusterIPAllocator: @unchecked Sendable {
    private let lock = NSLock()
    private let prefix: String
    private let kubernetesIP: String
    private var used: Set<String>
    private var next = 10

    init(network: SandboxNetwork = .standard) {
        prefix = network.servicePrefix + "."
        kubernetesIP = network.kubernetesServiceIP
        used = [network.kubernetesServiceIP]
    }

    /// The range, for error messages.
    var range: String { prefix + "0.0/16" }

    /// Marks a requested address as used; `false` when it is taken or outside the range.
    func reserve(_ ip: String) -> Bool {
        lock.withLock {
            guard ip.hasPrefix(prefix), !used.contains(ip) || ip == kubernetesIP else { return false }
            used.insert(ip)
            return true
        }
    }

    func allocate() -> String? {
        lock.withLock {
            for _ in 0..<65_000 {
                let candidate = "\(prefix)\(next / 256).\(next % 256)"
                next = next >= 65_533 ? 10 : next + 1
                if !used.contains(candidate) {
                    used.insert(candidate)
                    return candidate
                }
            }
            return nil
        }
    }

    func release(_ ip: String) {
        lock.withLock { _ = used.remove(ip) }
    }
}
