import CLibSSH2
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Opens a direct-tcpip channel (the pod connects to remoteHost:remotePort) for an already
/// connected local fd, then hands both to a `Splice`. Owns the fd until then. With `replies`,
/// the fd first gets the reply for the outcome (see ``DirectOpenReplies``).
final class DirectOpenTask: LoopTask {
    private var fd: Int32
    private let remoteHost: String
    private let remotePort: Int
    private let replies: DirectOpenReplies?
    private var continuation: CheckedContinuation<Void, any Error>?
    private var done = false

    init(fd: Int32, remoteHost: String, remotePort: Int, replies: DirectOpenReplies? = nil,
         continuation: CheckedContinuation<Void, any Error>?) {
        self.fd = fd
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.replies = replies
        self.continuation = continuation
    }

    var isDone: Bool { done }
    func pollInterest(_ add: (Int32, Int16) -> Void) {}
    func noteReady(fd: Int32, revents: Int16) {}

    func step(_ loop: SessionLoop) -> StepOutcome {
        guard !done, let session = loop.session else { return .finished }
        guard loop.mayOpen(self) else { return .idle }
        if let channel = libssh2_channel_direct_tcpip_ex(session, remoteHost, Int32(remotePort), "127.0.0.1", 0) {
            loop.openPending(self, false)
            // The reply goes out before the splice can write the far end's first bytes. A client
            // already gone gets no splice: fd -1 makes it close the channel at once.
            if let replies, !SocketWrites.sendAll(fd, replies.opened) {
                close(fd)
                fd = -1
            }
            loop.startSplice(channel: channel, fd: fd)
            fd = -1
            done = true
            continuation?.resume()
            continuation = nil
            return .finished
        }
        let code = loop.lastErrorCode()
        switch loop.classify(Int(code)) {
        case .again:
            loop.openPending(self, true)
            return .idle
        case .fatal:
            loop.transportFailed(code)
            return .idle
        case .ok, .failed:
            loop.openPending(self, false)
            let reason = loop.lastErrorMessage()
            finish(SSHTunnelError.channelOpenFailed(what: "\(remoteHost):\(remotePort)", reason: reason))
            return .finished
        }
    }

    func abort(_ error: SSHTunnelError) { finish(error) }

    private func finish(_ error: SSHTunnelError) {
        if fd >= 0 {
            if let replies { _ = SocketWrites.sendAll(fd, replies.failed) }
            close(fd)
            fd = -1
        }
        done = true
        continuation?.resume(throwing: error)
        continuation = nil
    }
}

/// A listener on 127.0.0.1 whose every accepted connection becomes a direct-tcpip channel.
final class LocalListenerTask: LoopTask {
    let id: Int
    private var listenFD: Int32
    private let remoteHost: String
    private let remotePort: Int
    private var readable = true

    init(id: Int, listenFD: Int32, remoteHost: String, remotePort: Int) {
        self.id = id
        self.listenFD = listenFD
        self.remoteHost = remoteHost
        self.remotePort = remotePort
    }

    var isDone: Bool { listenFD < 0 }

    func pollInterest(_ add: (Int32, Int16) -> Void) {
        if listenFD >= 0 && !readable { add(listenFD, Int16(POLLIN)) }
    }

    func noteReady(fd: Int32, revents: Int16) { readable = true }

    func step(_ loop: SessionLoop) -> StepOutcome {
        guard listenFD >= 0 else { return .finished }
        guard readable else { return .idle }
        var progressed = false
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                // EAGAIN, or a transient error such as EMFILE: wait for the next readiness.
                readable = false
                break
            }
            Sockets.setCloseOnExec(client)
            Sockets.setNonBlocking(client)
            Sockets.setNoDelay(client)
            loop.add(DirectOpenTask(fd: client, remoteHost: remoteHost, remotePort: remotePort, continuation: nil))
            progressed = true
        }
        return progressed ? .progress : .idle
    }

    /// Stops listening; connections already accepted keep running.
    func stop() {
        if listenFD >= 0 {
            close(listenFD)
            listenFD = -1
        }
    }

    func abort(_ error: SSHTunnelError) { stop() }
}
