import ArgumentParser
import Foundation
import KubeClient

/// Calls the async `run()`; on an existential the synchronous default (which prints help) would win.
func runAsync<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}

// Every failure prints exactly one `error: ...` line on stderr that says what to do, and exits
// non-zero; help, --version and completion scripts still go to stdout with status 0.
do {
    var command = try SwapdevCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch {
    let code = SwapdevCommand.exitCode(for: error)
    if code == .success { SwapdevCommand.exit(withError: error) }
    // A command that printed its own error line ends with a bare ExitCode.
    if error is ExitCode { exit(code.rawValue) }
    let line = CommandLineError.line(for: error, arguments: CommandLine.arguments)
    FileHandle.standardError.write(Data("error: \(line)\n".utf8))
    exit(code.rawValue)
}
