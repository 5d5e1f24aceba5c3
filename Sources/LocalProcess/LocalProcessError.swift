/// Why a local command could not be started.
public enum LocalProcessError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyCommand
    case spawnFailed(command: String, errno: Int32, message: String)

    public var description: String {
        switch self {
        case .emptyCommand:
            return "no command given to run; pass one after --run"
        case .spawnFailed(let command, let code, let message):
            let hint = code == 2 ? " (is it installed and on PATH?)" : ""
            return "cannot start \(command): \(message)\(hint)"
        }
    }
}
