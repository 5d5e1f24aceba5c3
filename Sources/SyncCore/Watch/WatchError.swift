#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a tree cannot be watched with inotify (the caller then polls).
public enum WatchError: Error, CustomStringConvertible, Sendable {
    case inotifyUnavailable(errno: Int32)
    case watchLimitReached(directory: String)

    public var description: String {
        switch self {
        case .inotifyUnavailable(let code):
            return "inotify is unavailable (\(String(cString: strerror(code)))): swapdev falls back to polling; use --poll to choose it explicitly"
        case .watchLimitReached(let directory):
            return "the inotify watch limit was reached at \(directory): raise fs.inotify.max_user_watches or ignore large directories in .swapdevignore"
        }
    }
}
