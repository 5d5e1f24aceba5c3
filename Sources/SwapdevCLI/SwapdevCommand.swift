import ArgumentParser
import Foundation

/// The `swapdev` root command; subcommands do the work.
struct SwapdevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swapdev",
        abstract: "Develop against Kubernetes: swap a container for a local process, or sync a dev loop.",
        discussion: """
            swapdev talks to the Kubernetes API itself (no kubectl needed) and reads kubeconfig like kubectl.
            Shell completions: `swapdev --generate-completion-script bash|zsh|fish`.
            """,
        subcommands: [DoctorCommand.self, SwapCommand.self, StatusCommand.self, RestoreSwapCommand.self, DevCommand.self])
}

/// The one line `swapdev` prints for a failure (after `error: `).
///
/// argument-parser's own output for a bad flag is three to six lines (message, `Help:`, usage,
/// "See ... --help"); scripts and people scanning a terminal want one line that names the
/// problem and the next step, so the usage block becomes a pointer to `--help`.
enum CommandLineError {
    /// `error`'s message on one line; for command-line (validation) errors with the argument's
    /// help text and "see 'swapdev SUBCOMMAND --help'".
    static func line(for error: any Error, arguments: [String]) -> String {
        var text = oneLine(SwapdevCommand.message(for: error))
        guard SwapdevCommand.exitCode(for: error) == .validationFailure else { return text }
        if text.isEmpty { text = "invalid arguments" }
        let help = SwapdevCommand.fullMessage(for: error, columns: 10_000)
            .split(separator: "\n").first { $0.hasPrefix("Help:") }
            .map { oneLine(String($0.dropFirst("Help:".count))) }
        if let help, !help.isEmpty { text += " (\(help))" }
        return text + "; see '\(helpCommand(arguments: arguments))'"
    }

    /// `swapdev SUBCOMMAND --help` for the subcommand on the command line, else `swapdev --help`.
    static func helpCommand(arguments: [String]) -> String {
        let names = Set(SwapdevCommand.configuration.subcommands.compactMap { $0.configuration.commandName })
        if let subcommand = arguments.dropFirst().first(where: { names.contains($0) }) {
            return "swapdev \(subcommand) --help"
        }
        return "swapdev --help"
    }

    /// Lines joined with single spaces, blank ones dropped.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
