import Foundation

/// Everything needed to start a process "inside" a container: the pod's namespaces, the
/// container's environment and working directory. Shared by the container itself, `exec`
/// and exec probes.
struct ContainerContext: Sendable {
    var podUID: String
    var podName: String
    var podIP: String
    var spec: ContainerLaunchSpec
    var netnsPath: String
    var mountNamespacePath: String
    var utsNamespacePath: String
    var logDirectory: String
    var nsenterPath: String

    var environment: [String] { spec.environment.map { "\($0.name)=\($0.value)" } }

    /// The container's `PATH`, which is what its command is looked up in.
    var searchPath: String? { spec.environment.last(where: { $0.name == "PATH" })?.value }

    /// `nsenter` argv that runs `argv` in the pod's network, mount and UTS namespaces, in the
    /// container's working directory (resolved inside the mount namespace, so volume paths work).
    ///
    /// `argv[0]` is resolved against the container's `PATH` on the host first; a command that
    /// only exists inside the pod's mounts is left for `nsenter`'s own `execvp` to find.
    func nsenterArgv(_ argv: [String]) -> [String] {
        var command = argv
        if let first = command.first, let resolved = HostProcess.resolve(first, searchPath: searchPath) {
            command[0] = resolved
        }
        return [
            nsenterPath, "--net=\(netnsPath)", "--mount=\(mountNamespacePath)", "--uts=\(utsNamespacePath)",
            "--wdns=\(spec.workingDirectory.flatMap { $0.isEmpty ? nil : $0 } ?? "/")", "--",
        ] + command
    }
}
