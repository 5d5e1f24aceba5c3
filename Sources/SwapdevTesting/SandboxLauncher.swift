import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a sandbox could not be started for a test; each says what to do.
public enum SandboxLauncherError: Error, Sendable, CustomStringConvertible {
    case binaryNotFound(String)
    case notRoot
    case exitedEarly(status: Int32, stderr: String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .binaryNotFound(let path):
            return "swapdev-sandbox not found at \(path); build it in the same scratch path (swift build --scratch-path … --product swapdev-sandbox) or set SWAPDEV_SANDBOX_BINARY"
        case .notRoot:
            return "the sandbox needs root (network namespaces); run the tests as root"
        case .exitedEarly(let status, let stderr):
            return "swapdev-sandbox exited with status \(status) before writing its kubeconfig: \(stderr)"
        case .timedOut(let path):
            return "swapdev-sandbox did not write \(path) in time; see its stderr in the same directory (sandbox.log)"
        }
    }
}

/// Runs the `swapdev-sandbox` executable for a test, in a fresh temporary directory.
///
/// ```swift
/// let sandbox = try await SandboxLauncher.start()
/// // kubectl --kubeconfig \(sandbox.kubeconfigPath) …
/// await sandbox.stop()
/// ```
///
/// The executable is looked up in `SWAPDEV_SANDBOX_BINARY`, else next to the running test
/// bundle (same scratch path). The launcher owns the process and the directory: ``stop()``
/// sends SIGTERM, waits for the sandbox to clean up, and removes the directory.
public final class SandboxLauncher: @unchecked Sendable {
    /// The sandbox's directory (CA, kubeconfig, runtime state, `sandbox.log`).
    public let directory: URL
    /// `directory/kubeconfig`, complete once ``start(token:port:timeout:)`` returns.
    public let kubeconfigPath: String
    /// The sandbox's process id.
    public let pid: Int32
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    private init(directory: URL, process: Process) {
        self.directory = directory
        self.kubeconfigPath = directory.appendingPathComponent("kubeconfig").path
        self.process = process
        self.pid = process.processIdentifier
    }

    /// The `swapdev-sandbox` binary next to the test bundle (or from the environment).
    public static func binaryPath() -> String {
        if let path = ProcessInfo.processInfo.environment["SWAPDEV_SANDBOX_BINARY"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // macOS-style bundles nest the binary in Contents/MacOS.
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("swapdev-sandbox")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            if folder.lastPathComponent == "debug" || folder.lastPathComponent == "release" { break }
            folder = folder.deletingLastPathComponent()
        }
        return executable.deletingLastPathComponent().appendingPathComponent("swapdev-sandbox").path
    }

    /// Starts the sandbox and waits until its kubeconfig exists.
    public static func start(token: String? = nil, port: Int = 0, proxyImageDirectory: String? = nil,
                             timeout: Duration = .seconds(60)) async throws -> SandboxLauncher {
        guard geteuid() == 0 else { throw SandboxLauncherError.notRoot }
        let binary = binaryPath()
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw SandboxLauncherError.binaryNotFound(binary) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swapdev-sandbox-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logPath = directory.appendingPathComponent("sandbox.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["serve", "--dir", directory.path, "--port", String(port)]
        if let token { arguments += ["--token", token] }
        if let proxyImageDirectory { arguments += ["--proxy-image-dir", proxyImageDirectory] }
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let launcher = SandboxLauncher(directory: directory, process: process)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: launcher.kubeconfigPath) { return launcher }
            if !process.isRunning {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw SandboxLauncherError.exitedEarly(status: process.terminationStatus, stderr: text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await launcher.stop()
        throw SandboxLauncherError.timedOut(launcher.kubeconfigPath)
    }

    /// The sandbox's output so far.
    public var log: String {
        (try? String(contentsOfFile: directory.appendingPathComponent("sandbox.log").path, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, wait up to `timeout` for a clean exit (SIGKILL after), then remove the directory.
    /// Returns the exit status. Idempotent.
    @discardableResult
    public func stop(timeout: Duration = .seconds(30), removeDirectory: Bool = true) async -> Int32 {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first, process.isRunning { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        if removeDirectory, first { try? FileManager.default.removeItem(at: directory) }
        return process.terminationStatus
    }
}
