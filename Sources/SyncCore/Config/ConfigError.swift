/// A problem with `swapdev.yaml` or with a dev flag.
public enum ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(file: String, reason: String)
    case invalidYAML(file: String, reason: String)
    case unknownKey(key: String, file: String, known: [String])
    case wrongType(key: String, file: String, expected: String)
    case invalidSyncRule(String)
    case invalidPort(String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read \(file) (\(reason)): check the path given to -f"
        case .invalidYAML(let file, let reason):
            return "\(file) is not valid YAML (\(reason)): fix the syntax"
        case .unknownKey(let key, let file, let known):
            return "unknown key '\(key)' in \(file): remove it or use one of \(known.joined(separator: ", "))"
        case .wrongType(let key, let file, let expected):
            return "key '\(key)' in \(file) must be \(expected)"
        case .invalidSyncRule(let text):
            return "sync rule '\(text)' is not LOCAL:REMOTE with an absolute REMOTE path: write e.g. .:/app"
        case .invalidPort(let text):
            return "port forward '\(text)' is not [LOCAL:]REMOTE with ports 1-65535: write e.g. 8080 or 9000:8080"
        }
    }
}
