import SystemSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Serialized: the descriptor these tests leave open without close-on-exec would leak into any
/// process another test of this suite spawned meanwhile.
@Suite("SpawnFileActions: the child keeps only 0, 1 and 2", .serialized, .timeLimit(.minutes(1)))
struct SpawnFileActionsTests {
    /// The descriptors still open in the shell itself: the glob's own directory descriptor is
    /// closed again by the time `[ -e ]` looks, so it is not listed.
    static let listDescriptors = #"for f in /proc/$$/fd/*; do [ -e "$f" ] && echo "${f##*/}"; done; true"#

    /// Spawns `/bin/sh -c script` (stdin and stderr on /dev/null, stdout into a pipe) and returns
    /// the lines it printed.
    func spawnShell(_ script: String, closeFrom: Bool) throws -> [String] {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0, "pipe: \(String(cString: strerror(errno)))")
        // Close-on-exec, so only the descriptor under test can leak; dup2 onto 1 clears it there.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        defer { close(fds[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if closeFrom {
            try #require(SpawnFileActions.addCloseFrom(&actions, lowest: 3),
                         "posix_spawn_file_actions_addclosefrom_np is missing: glibc 2.34 or newer is needed")
        }

        let arguments: [String] = ["/bin/sh", "-c", script]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        close(fds[1])
        try #require(spawned == 0, "posix_spawn /bin/sh: \(String(cString: strerror(spawned)))")

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output += buffer[0..<count]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// A descriptor of this process that is not close-on-exec, as SwiftNIO's listeners are.
    func openInheritable() throws -> Int32 {
        let fd = open("/dev/null", O_RDONLY)
        try #require(fd >= 0, "open /dev/null: \(String(cString: strerror(errno)))")
        return fd
    }

    @Test("without the action, the child inherits a descriptor that is not close-on-exec")
    func withoutCloseFromTheDescriptorLeaks() throws {
        let extra = try openInheritable()
        defer { close(extra) }
        let seen = try spawnShell(Self.listDescriptors, closeFrom: false)
        #expect(seen.contains(String(extra)), "saw \(seen)")
    }

    @Test("with addCloseFrom(lowest: 3), the child sees only 0, 1 and 2")
    func closeFromLeavesOnlyStandardDescriptors() throws {
        let extra = try openInheritable()
        defer { close(extra) }
        let seen = try spawnShell(Self.listDescriptors, closeFrom: true)
        #expect(seen == ["0", "1", "2"])
    }
}
