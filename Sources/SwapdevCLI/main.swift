import ArgumentParser
import Foundation
import KubeClient

/// Calls the async `run()`; on an existential the synchronous default (which prints help) would win.
func runAsync<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}

// Errors a user can fix print as one `error: ...` line; argument errors keep argument-parser's usage output.
do {
    var command = try SwapdevCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch let error as KubeConfigError {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
} catch let error as KubeError {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
} catch {
    SwapdevCommand.exit(withError: error)
}
