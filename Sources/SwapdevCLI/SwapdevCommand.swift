import ArgumentParser

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
