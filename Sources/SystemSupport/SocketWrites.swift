#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a short message whole to a socket, blocking or not.
public enum SocketWrites {
    /// Sends all of `bytes` (retrying after EINTR and partial sends; on a non-blocking socket
    /// that is full, waiting up to `waitMilliseconds` for room each time); `false` when the peer
    /// is gone or never made room. Meant for handshakes and replies of a few bytes, which a
    /// socket's buffer takes at once.
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8], waitMilliseconds: Int32 = 1000) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, noSignal) }
            if sent > 0 {
                offset += sent
                continue
            }
            guard sent < 0, errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK else { return false }
            if errno != EINTR {
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&ready, 1, waitMilliseconds) > 0 else { return false }
            }
        }
        return true
    }

    #if canImport(Darwin)
    // Darwin has no MSG_NOSIGNAL; its sockets get SO_NOSIGPIPE instead.
    private static let noSignal: Int32 = 0
    #else
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #endif
}
