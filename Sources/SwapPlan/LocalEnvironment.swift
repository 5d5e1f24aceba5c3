import KubeEnvironment

/// The environment the local process runs with: the local one, overlaid with the container's.
///
/// Variables that describe the machine rather than the app (`PATH`, `HOME`, the terminal, …)
/// stay local — a container's `PATH` from the proxy image would break `go run`.
public enum LocalEnvironment {
    /// Names never taken from the container.
    public static let machineVariables: Set<String> = [
        "PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHLVL", "_", "TERM", "USER", "LOGNAME", "SHELL",
        "LANG", "LC_ALL", "TMPDIR", "DISPLAY", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR",
    ]

    /// The variable naming the local copy of the container's volumes.
    public static let rootVariable = "SWAPDEV_ROOT"

    /// The container's variables an env file should hold: everything but ``machineVariables``,
    /// plus `SWAPDEV_ROOT` and the `extra` variables (proxy settings).
    public static func containerVariables(
        _ container: [EnvironmentVariable], root: String?, extra: [EnvironmentVariable] = []
    ) -> [EnvironmentVariable] {
        var result = container.filter { !machineVariables.contains($0.name) }
        if let root { result.append(EnvironmentVariable(name: rootVariable, value: root)) }
        for variable in extra {
            result.removeAll { $0.name == variable.name }
            result.append(variable)
        }
        return result
    }

    /// `local` overlaid with `variables` (later wins).
    public static func merge(local: [String: String], _ variables: [EnvironmentVariable]) -> [String: String] {
        var result = local
        for variable in variables { result[variable.name] = variable.value }
        return result
    }
}
