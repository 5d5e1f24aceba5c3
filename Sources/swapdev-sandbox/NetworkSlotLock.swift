import Foundation
import SandboxRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Exclusive use of one sandbox network slot on this host, held as an `flock` on
/// `/run/swapdev-sandbox/slot-N.lock` for as long as the process lives.
///
/// Two sandboxes on one host (parallel test suites, a demo next to a test run) would otherwise
/// fight over the bridge `swapdev0` and the same address ranges. The kernel drops the lock when
/// the process dies, even by SIGKILL, so a crashed sandbox never holds a slot forever.
struct NetworkSlotLock {
    let index: Int
    private let descriptor: Int32

    static let directory = "/run/swapdev-sandbox"

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Takes `requested`, or the first free slot when `nil`.
    static func acquire(requested: Int?) throws -> NetworkSlotLock {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let candidates = requested.map { [$0] } ?? Array(0..<SandboxNetwork.slotCount)
        for index in candidates {
            let path = "\(directory)/slot-\(index).lock"
            let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw Unavailable(description: "cannot open \(path): \(String(cString: strerror(errno))) (is /run writable?)")
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                return NetworkSlotLock(index: index, descriptor: descriptor)
            }
            close(descriptor)
        }
        if let requested {
            throw Unavailable(description: "network slot \(requested) is in use by another sandbox; leave --network-slot out to pick a free one")
        }
        throw Unavailable(description: "all \(SandboxNetwork.slotCount) network slots are in use; stop another swapdev-sandbox first")
    }

    func release() {
        close(descriptor)
    }
}
