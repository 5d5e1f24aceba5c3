#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands the controlling terminal's foreground to the local command and takes it back.
///
/// With the terminal in its foreground, the command gets Ctrl-C, Ctrl-\ and keyboard input
/// directly from the kernel, exactly as when a shell runs it; swapdev, in the background,
/// does not see those keys.
enum Terminal {
    /// Whether stdin is a terminal whose foreground group is swapdev's, i.e. there is a
    /// terminal to hand over.
    static func ownsForeground() -> Bool {
        isatty(STDIN_FILENO) == 1 && tcgetpgrp(STDIN_FILENO) == getpgrp()
    }

    /// Makes `group` the terminal's foreground process group.
    static func give(to group: pid_t) {
        ignoreBackgroundWrites()
        _ = tcsetpgrp(STDIN_FILENO, group)
    }

    /// Makes swapdev's own group the foreground again.
    static func takeBack() {
        ignoreBackgroundWrites()
        _ = tcsetpgrp(STDIN_FILENO, getpgrp())
    }

    /// A background process calling `tcsetpgrp` gets SIGTTOU, which would stop swapdev;
    /// shells ignore it for the same reason. The child gets the default back at spawn.
    private static func ignoreBackgroundWrites() {
        signal(SIGTTOU, SIG_IGN)
    }
}
