#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `posix_spawn` file actions the C library has but Swift's Glibc module does not import.
public enum SpawnFileActions {
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34), looked up at run time with
    /// `dlsym` because the Glibc module map does not export it (it sits behind `_GNU_SOURCE`).
    private static let closeFrom: AddCloseFrom? = {
        #if canImport(Darwin)
        // Darwin has no close-from action; spawners there set POSIX_SPAWN_CLOEXEC_DEFAULT and
        // inherit 0...2 explicitly instead.
        return nil
        #else
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
        #endif
    }()

    /// Adds "close every descriptor from `lowest` up" to a spawn's file actions; `false` when
    /// the C library cannot (glibc before 2.34, Darwin), and then the child inherits every
    /// descriptor that is not close-on-exec.
    ///
    /// Not every descriptor in this process is close-on-exec (SwiftNIO's listening sockets,
    /// Foundation's pipes and process-monitor sockets). An inherited listener would keep a
    /// forwarded port or a Service's port open after its owner closed it, and an inherited
    /// monitor socket keeps another child of this process from ever being reaped. Add it
    /// after any `dup2` into 0...2, so the child keeps exactly those.
    public static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, lowest: Int32) -> Bool {
        guard let closeFrom else { return false }
        return closeFrom(&actions, lowest) == 0
    }
}
