import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors of the sshd launcher; each names what to install or check.
public enum SSHDLauncherError: Error, CustomStringConvertible {
    case missingBinary(String)
    case failedToStart(String)

    public var description: String {
        switch self {
        case let .missingBinary(path):
            return "\(path) not found; install openssh-server (scripts/install-deps.sh)"
        case let .failedToStart(output):
            return "the proxy's sshd did not become ready: \(output.split(separator: "\n").suffix(3).joined(separator: " | "))"
        }
    }
}

/// Runs the proxy image's own `entrypoint.sh` and `sshd_config` with the host's OpenSSH on
/// 127.0.0.1, as the sandbox does: a temp state directory, a port, the given public key.
///
/// The port is `port`, else `$SWAPDEV_SSHD_PORT`, else a free port (so parallel test runs do not
/// collide). The host key fingerprint is parsed from the `swapdev-proxy: host key …` line.
public final class SSHDLauncher: @unchecked Sendable {
    /// The port sshd listens on (127.0.0.1).
    public let port: Int
    /// `SHA256:…` of the fresh host key, from the entrypoint's log.
    public let hostKeyFingerprint: String
    /// The state directory (env file, keys, config, pid).
    public let stateDirectory: URL
    /// The user to log in as: the current user (root when the tests run as root).
    public let username: String
    private let process: Process
    private let log: LogBuffer

    /// The repository root, found from this file's path.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private init(port: Int, fingerprint: String, state: URL, username: String, process: Process, log: LogBuffer) {
        self.port = port
        self.hostKeyFingerprint = fingerprint
        self.stateDirectory = state
        self.username = username
        self.process = process
        self.log = log
    }

    /// Starts sshd and waits (up to `timeout`) for `swapdev-proxy: ready`.
    /// - Parameter environment: extra variables for the entrypoint (they end up in the env file).
    public static func start(authorizedKey: String, port: Int? = nil, environment: [String: String] = [:],
                             timeout: Duration = .seconds(15)) async throws -> SSHDLauncher {
        for binary in ["/usr/sbin/sshd", "/usr/bin/ssh-keygen"] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw SSHDLauncherError.missingBinary(binary)
        }
        let chosenPort = try port ?? ProcessInfo.processInfo.environment["SWAPDEV_SSHD_PORT"].flatMap { Int($0) } ?? freePort()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-sshd-\(UUID().uuidString.prefix(8))")
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent("proxy-image/entrypoint.sh")
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWAPDEV_") }
        env.merge(environment) { _, new in new }
        env["SWAPDEV_AUTHORIZED_KEY"] = authorizedKey
        env["SWAPDEV_STATE_DIR"] = state.path
        env["SWAPDEV_SSHD_PORT"] = String(chosenPort)
        env["SWAPDEV_SSHD_LISTEN"] = "127.0.0.1"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let log = LogBuffer()
        try process.run()
        log.drain(pipe.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = log.text
            if text.contains("swapdev-proxy: ready"), let fingerprint = parseFingerprint(text) {
                let user = String(cString: getpwuid(getuid()).pointee.pw_name)
                return SSHDLauncher(port: chosenPort, fingerprint: fingerprint, state: state, username: user, process: process, log: log)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { process.terminate() }
        throw SSHDLauncherError.failedToStart(log.text)
    }

    /// The `SHA256:…` value of the `swapdev-proxy: host key` line.
    public static func parseFingerprint(_ log: String) -> String? {
        for line in log.split(separator: "\n") where line.hasPrefix("swapdev-proxy: host key ") {
            return String(line.dropFirst("swapdev-proxy: host key ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Everything sshd and the entrypoint printed so far.
    public var output: String { log.text }

    /// The process ids of sshd and every process it forked (per-connection children).
    public var processTree: [Int32] {
        var result: [Int32] = [process.processIdentifier]
        var frontier = result
        while let parent = frontier.popLast() {
            for child in Self.children(of: parent) where !result.contains(child) {
                result.append(child)
                frontier.append(child)
            }
        }
        return result
    }

    /// Sends `signal` to sshd and all its children (by pid): SIGKILL simulates a dead pod.
    public func kill(signal: Int32 = SIGKILL) {
        for pid in processTree.reversed() { Glibc.kill(pid, signal) }
    }

    /// Stops sshd and removes the state directory.
    public func stop() async {
        kill(signal: SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(signal: SIGKILL) }
        try? FileManager.default.removeItem(at: stateDirectory)
    }

    private static func children(of pid: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let candidate = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? candidate : nil
        }
    }

    /// A free TCP port on 127.0.0.1 (bound to 0, read back, released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SSHDLauncherError.failedToStart("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard ok else { throw SSHDLauncherError.failedToStart("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Collects a child's output on a reader thread.
final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    func drain(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            try? handle.close()
        }
        thread.start()
    }
}
