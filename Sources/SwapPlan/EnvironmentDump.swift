import Foundation
import KubeEnvironment

/// Reads the environment the proxy entrypoint dumps to `$SWAPDEV_STATE_DIR/env`.
///
/// The format is `env -0`: `NAME=VALUE` entries each ended by a NUL byte, so values may hold
/// newlines and `=`. The proxy's own additions (`SWAPDEV_*` it was given, and what the
/// container runtime adds for any process: `HOSTNAME`, `HOME`, `PATH`, …) are not the app's
/// environment and are dropped by ``appEnvironment(_:)``.
public enum EnvironmentDump {
    /// Variables the proxy container gets only because it is the proxy.
    public static let proxyVariables: Set<String> = ["SWAPDEV_AUTHORIZED_KEY", "SWAPDEV_STATE_DIR"]

    /// Parses a dump; entries in file order. Without any NUL byte the text is read one entry per
    /// line, so a dump written by a plain `env` still works for single-line values.
    public static func parse(_ data: Data) throws(SwapPlanError) -> [EnvironmentVariable] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidEnvironmentDump(reason: "not UTF-8")
        }
        let separator: Character = text.contains("\0") ? "\0" : "\n"
        var variables: [EnvironmentVariable] = []
        for entry in text.split(separator: separator, omittingEmptySubsequences: true) {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                if separator == "\n" { continue }
                throw .invalidEnvironmentDump(reason: "entry without NAME= \"\(entry.prefix(40))\"")
            }
            variables.append(EnvironmentVariable(name: String(entry[..<equals]), value: String(entry[entry.index(after: equals)...])))
        }
        return variables
    }

    /// The dump minus the proxy's own `SWAPDEV_*` variables.
    public static func appEnvironment(_ variables: [EnvironmentVariable]) -> [EnvironmentVariable] {
        variables.filter { !proxyVariables.contains($0.name) }
    }
}
