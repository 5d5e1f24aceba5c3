import CLibSSH2

/// What one step of a task achieved; the loop keeps stepping while anything makes progress,
/// because libssh2 queues packets of every channel internally and poll() cannot see them.
enum StepOutcome {
    /// Bytes moved or state changed: step again.
    case progress
    /// Waiting for the socket, a local fd or the peer.
    case idle
    /// The task is done and its resources are released.
    case finished
}

/// One unit of work owned by the session's I/O thread: a spliced channel, a remote listener,
/// a local listener, a channel being opened, an exec. Only the I/O thread calls these.
protocol LoopTask: AnyObject {
    /// Whether the task has ended and released its resources (the loop then drops it).
    var isDone: Bool { get }
    /// Registers the local fds (and events) this task wants polled.
    func pollInterest(_ add: (Int32, Int16) -> Void)
    /// Tells the task which events poll() reported for one of its fds.
    func noteReady(fd: Int32, revents: Int16)
    /// Advances the task as far as it can without blocking.
    func step(_ loop: SessionLoop) -> StepOutcome
    /// The session is ending: release fds and fail pending continuations. libssh2 handles are
    /// freed with the session, so tasks must not call libssh2 here.
    func abort(_ error: SSHTunnelError)
}

/// How the loop reads a libssh2 return code.
enum LibSSH2Result {
    case ok(Int)
    /// Nothing to do until the peer sends more (libssh2's EAGAIN). Never "the socket is full":
    /// the send hook takes every packet in loop mode (see `outboundBacklogged`).
    case again
    case fatal(Int32)
    case failed(Int32)
}

extension SessionLoop {
    /// Classifies a return code.
    func classify(_ rc: Int) -> LibSSH2Result {
        if rc >= 0 { return .ok(rc) }
        let code = Int32(rc)
        if code == LIBSSH2_ERROR_EAGAIN { return .again }
        if Self.fatalCodes.contains(code) { return .fatal(code) }
        return .failed(code)
    }

    /// The code of the last error on the session, for calls that return NULL.
    func lastErrorCode() -> Int32 {
        guard let session else { return LIBSSH2_ERROR_SOCKET_DISCONNECT }
        return libssh2_session_last_errno(session)
    }

    /// The text of the last libssh2 error.
    func lastErrorMessage() -> String {
        guard let session else { return "no session" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? "unknown"
        return "\(text) (libssh2 error \(code))"
    }


    /// Errors after which the transport is unusable: the session is dead.
    static let fatalCodes: Set<Int32> = [
        LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV,
        LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT,
        LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_PROTO,
        LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE, LIBSSH2_ERROR_BAD_SOCKET,
        LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
    ]
}
