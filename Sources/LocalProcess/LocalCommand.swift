/// A command to run locally: argv, its whole environment and a working directory.
public struct LocalCommand: Sendable, Hashable {
    /// `arguments[0]` is looked up on the `PATH` of ``environment`` (or swapdev's when unset).
    public var arguments: [String]
    /// The complete environment of the process; nothing else is inherited.
    public var environment: [String: String]
    /// `nil` runs in swapdev's working directory.
    public var workingDirectory: String?

    public init(arguments: [String], environment: [String: String], workingDirectory: String? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}
