import Foundation
import KubeEnvironment

/// Why an environment file could not be written.
public struct EnvironmentFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write environment file \(path): \(reason); check the directory exists and is writable" }
}

/// `--env-file` (dotenv) and `--env-json` for IDEs and tools that start the process themselves.
public enum EnvironmentFile {
    /// Dotenv text, one `NAME=value` a line.
    ///
    /// Quoting is chosen so that docker compose, godotenv, python-dotenv and `set -a; . file`
    /// all read back the exact value: plain values bare, values with shell or dotenv syntax in
    /// single quotes (taken literally by all of them), and only values holding `'` or a line
    /// break in double quotes with `\\`, `\"`, `\n`, `\r`, `\t` and `\$` escapes.
    public static func dotenv(_ variables: [EnvironmentVariable]) -> String {
        variables.map { "\($0.name)=\(quote($0.value))\n" }.joined()
    }

    /// A JSON object `{"NAME": "value", …}` with sorted keys.
    public static func json(_ variables: [EnvironmentVariable]) -> String {
        var members: [String: String] = [:]
        for variable in variables { members[variable.name] = variable.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(members)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Quotes one dotenv value.
    public static func quote(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_./:,@%+".unicodeScalars.contains($0)
        }
        if plain, !value.isEmpty { return value }
        if !value.contains("'"), !value.contains("\n"), !value.contains("\r") { return "'\(value)'" }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "$": escaped += "\\$"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }

    /// Writes `contents` to `path` with mode 0600, atomically (a temp file renamed into place),
    /// so that secrets are never readable by others, not even briefly.
    public static func save(_ contents: String, to path: String) throws(EnvironmentFileError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EnvironmentFileError(path: path, reason: String(cString: strerror(errno))) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + written }, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw EnvironmentFileError(path: path, reason: reason)
            }
            written += result
        }
        fchmod(fd, 0o600)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EnvironmentFileError(path: path, reason: reason)
        }
    }
}
