import Foundation

/// Runs a child process to completion and collects its output, without blocking a concurrency thread.
enum ProcessRunner {
    struct Result: Sendable {
        var exitCode: Int32
        var stdout: String
        var stderr: String
    }

    static func run(executable: String, arguments: [String], environment: [String: String], passStdin: Bool, timeout: TimeInterval) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = passStdin ? FileHandle.standardInput : FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw KubeConfigError.execPluginFailed(command: executable, reason: "cannot start: \(error.localizedDescription)", hint: nil)
        }
        // Reading blocks, so it happens on dedicated threads; pipes are drained before waiting to avoid deadlock.
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let timer = DispatchSource.makeTimerSource()
                timer.schedule(deadline: .now() + timeout)
                timer.setEventHandler { if process.isRunning { process.terminate() } }
                timer.resume()
                let stderrBox = DataBox()
                let group = DispatchGroup()
                group.enter()
                Thread.detachNewThread {
                    stderrBox.data = err.fileHandleForReading.readDataToEndOfFile()
                    group.leave()
                }
                let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                timer.cancel()
                continuation.resume(returning: Result(
                    exitCode: process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus,
                    stdout: String(decoding: stdoutData, as: UTF8.self),
                    stderr: String(decoding: stderrBox.data, as: UTF8.self)))
            }
        }
    }

    /// Hands data from the stderr reader thread to the waiting thread; `group.wait()` orders the accesses.
    private final class DataBox: @unchecked Sendable {
        var data = Data()
    }
}
