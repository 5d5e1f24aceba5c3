import Foundation

/// Hands out Service ClusterIPs from 10.96.0.0/16; 10.96.0.1 is reserved for `kubernetes`.
final class ClusterIPAllocator: @unchecked Sendable {
    private let lock = NSLock()
    private var used: Set<String> = ["10.96.0.1"]
    private var next = 10

    /// Marks a requested address as used; `false` when it is taken or outside the range.
    func reserve(_ ip: String) -> Bool {
        lock.withLock {
            guard ip.hasPrefix("10.96."), !used.contains(ip) || ip == "10.96.0.1" else { return false }
            used.insert(ip)
            return true
        }
    }

    func allocate() -> String? {
        lock.withLock {
            for _ in 0..<65_000 {
                let candidate = "10.96.\(next / 256).\(next % 256)"
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
