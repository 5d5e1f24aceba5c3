import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// glibc functions and constants Swift's Glibc module does not import (they sit behind
/// `_GNU_SOURCE`/`_XOPEN_SOURCE`). Looked up with `dlsym` so the package needs no C target.
enum LinuxCalls {
    static let cloneNewNet: Int32 = 0x4000_0000
    /// `POSIX_SPAWN_SETSID` (glibc ≥ 2.26).
    static let spawnSetSID: Int32 = 0x80

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private typealias UnlockPT = @convention(c) (Int32) -> Int32
    private typealias PtsNameR = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32

    /// A pipe whose ends are close-on-exec from the start (`pipe2(O_CLOEXEC)`), so a process
    /// spawned concurrently by another thread cannot inherit them.
    static func cloexecPipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        if let symbol = dlsym(nil, "pipe2") {
            guard unsafeBitCast(symbol, to: Pipe2.self)(&fds, O_CLOEXEC) == 0 else { return nil }
        } else {
            guard pipe(&fds) == 0 else { return nil }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    /// `setns(2)`; returns -1 with `ENOSYS` semantics when the symbol is missing.
    static func setns(_ fd: Int32, _ type: Int32) -> Int32 {
        guard let symbol = dlsym(nil, "setns") else { return -1 }
        return unsafeBitCast(symbol, to: SetNS.self)(fd, type)
    }

    /// Opens a pseudo-terminal pair's master and returns it with the slave's path.
    static func openPTY() -> (master: Int32, slavePath: String)? {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { return nil }
        guard let unlockSymbol = dlsym(nil, "unlockpt"), let nameSymbol = dlsym(nil, "ptsname_r") else {
            close(master)
            return nil
        }
        var buffer = [CChar](repeating: 0, count: 128)
        guard unsafeBitCast(unlockSymbol, to: UnlockPT.self)(master) == 0,
              unsafeBitCast(nameSymbol, to: PtsNameR.self)(master, &buffer, buffer.count) == 0
        else {
            close(master)
            return nil
        }
        return (master, String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// TCP connections made from inside a pod's network namespace.
enum NamespaceSocket {
    /// Connects to 127.0.0.1:`port` inside the namespace at `netnsPath`, the way the kubelet's
    /// port-forward does, so listeners bound to the pod's localhost are reachable.
    ///
    /// Runs on a fresh thread that enters the namespace with `setns`, creates and connects the
    /// socket there, and then returns to the host namespace; a socket keeps the namespace it
    /// was created in. The caller owns the returned descriptor.
    static func connectLocalhost(netnsPath: String, port: Int, timeout: Duration = .seconds(5)) async -> Result<Int32, Errno> {
        await onDedicatedThread("netns-connect") {
            let target = open(netnsPath, O_RDONLY | O_CLOEXEC)
            guard target >= 0 else { return .failure(Errno(errno)) }
            defer { close(target) }
            let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            guard home >= 0 else { return .failure(Errno(errno)) }
            defer { close(home) }
            guard LinuxCalls.setns(target, LinuxCalls.cloneNewNet) == 0 else { return .failure(Errno(errno)) }
            let result = TCPConnect.connect(host: "127.0.0.1", port: port, timeout: timeout)
            // If returning fails, this thread stays in the pod's namespace; it ends right here
            // anyway, so nothing else ever runs on it.
            _ = LinuxCalls.setns(home, LinuxCalls.cloneNewNet)
            return result
        }
    }
}

/// Blocking TCP connect with a timeout; call only from a dedicated thread.
enum TCPConnect {
    /// Returns the connected (blocking) descriptor, or the errno (`ETIMEDOUT` on timeout).
    static func connect(host: String, port: Int, timeout: Duration) -> Result<Int32, Errno> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            return .failure(Errno(EINVAL))
        }
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            return .failure(Errno(code))
        }
        if started != 0 {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&poller, 1, max(1, milliseconds))
            guard ready == 1 else {
                close(fd)
                return .failure(Errno(ready == 0 ? ETIMEDOUT : errno))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                close(fd)
                return .failure(Errno(error))
            }
        }
        // Callers read and write with plain blocking calls.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return .success(fd)
    }
}

/// An `errno` value as an error.
struct Errno: Error, Sendable, CustomStringConvertible {
    var code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}
