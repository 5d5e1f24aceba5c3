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
    ///
    /// Entries are split as bytes, so one binary value (a Secret's bytes in `env`, which a real
    /// kubelet passes through) is reported by name instead of failing the whole dump as "not UTF-8".
    public static func parse(_ data: Data) throws(SwapPlanError) -> [EnvironmentVariable] {
        let bytes = [UInt8](data)
        let separator: UInt8 = bytes.contains(0) ? 0 : UInt8(ascii: "\n")
        var variables: [EnvironmentVariable] = []
        for entry in bytes.split(separator: separator, omittingEmptySubsequences: true) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")), equals != entry.startIndex else {
                if separator == UInt8(ascii: "\n") { continue }
                throw .invalidEnvironmentDump(reason: "entry without NAME= \"\(String(decoding: entry.prefix(40), as: UTF8.self))\"")
            }
            guard let name = String(validating: entry[..<equals], as: UTF8.self) else {
                throw .invalidEnvironmentDump(reason: "a variable name is not UTF-8")
            }
            guard let value = String(validating: entry[(equals + 1)...], as: UTF8.self) else {
                throw .binaryEnvironmentValue(name: name)
            }
            variables.append(EnvironmentVariable(name: name, value: value))
        }
        return variables
    }

    /// The dump minus the proxy's own `SWAPDEV_*` variables.
    public static func appEnvironment(_ variables: [EnvironmentVariable]) -> [EnvironmentVariable] {
        variables.filter { !proxyVariables.contains($0.name) }
    }
}
