import CLibSSH2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A remote forward: asks sshd to listen (`tcpip-forward`), then accepts each forwarded
/// channel and splices it to a fresh non-blocking connection to the local target.
final class RemoteListenerTask: LoopTask {
    /// How many not-yet-accepted forwarded channels libssh2 queues; when full it rejects opens,
    /// so it is sized for bursts of hundreds of connections.
    static let queueSize: Int32 = 1024

    private enum State { case requesting, listening, cancelling, done }

    let id: Int
    let bindHost: String
    let requestedPort: Int
    let target: ForwardTarget
    private var state = State.requesting
    private var listener: OpaquePointer?
    private var boundPort: Int = 0
    /// The target's address, resolved at the first forwarded connection and kept: resolving
    /// (getaddrinfo) for every connection is measurable on short requests. Dropped when a
    /// connect fails, so a target that moved is looked up again.
    private var resolvedTarget: ResolvedAddress?
    private var started: CheckedContinuation<RemoteForward, any Error>?
    private var cancelled: CheckedContinuation<Void, any Error>?

    init(id: Int, bindHost: String, port: Int, target: ForwardTarget,
         continuation: CheckedContinuation<RemoteForward, any Error>) {
        self.id = id
        self.bindHost = bindHost
        self.requestedPort = port
        self.target = target
        self.started = continuation
    }

    /// Asks for the listener to be cancelled; `continuation` resumes when sshd confirms.
    func cancel(_ continuation: CheckedContinuation<Void, any Error>) {
        cancelled = continuation
        if state == .listening { state = .cancelling }
    }

    var isDone: Bool { state == .done }
    func pollInterest(_ add: (Int32, Int16) -> Void) {}
    func noteReady(fd: Int32, revents: Int16) {}

    func step(_ loop: SessionLoop) -> StepOutcome {
        switch state {
        case .requesting: return request(loop)
        case .listening: return accept(loop)
        case .cancelling: return callCancel(loop)
        case .done: return .finished
        }
    }

    func abort(_ error: SSHTunnelError) {
        started?.resume(throwing: error)
        started = nil
        // A cancel racing with the session's end has nothing left to cancel.
        cancelled?.resume()
        cancelled = nil
        listener = nil
        state = .done
    }

    private func request(_ loop: SessionLoop) -> StepOutcome {
        guard let session = loop.session, loop.mayListen(self) else { return .idle }
        var bound: Int32 = 0
        if let created = libssh2_channel_forward_listen_ex(session, bindHost, Int32(requestedPort), &bound, Self.queueSize) {
            loop.listenPending(self, false)
            listener = created
            boundPort = requestedPort == 0 ? Int(bound) : requestedPort
            state = cancelled == nil ? .listening : .cancelling
            started?.resume(returning: RemoteForward(id: id, bindHost: bindHost, port: boundPort, target: target))
            started = nil
            return .progress
        }
        let code = loop.lastErrorCode()
        switch loop.classify(Int(code)) {
        case .again:
            loop.listenPending(self, true)
            return .idle
        case .fatal:
            loop.transportFailed(code)
            return .idle
        case .ok, .failed:
            loop.listenPending(self, false)
            // sshd only answers "request denied"; the usual reason is a port already in use.
            started?.resume(throwing: SSHTunnelError.remoteForwardRefused(bindHost: bindHost, port: requestedPort))
            started = nil
            cancelled?.resume()
            cancelled = nil
            state = .done
            return .finished
        }
    }

    private func accept(_ loop: SessionLoop) -> StepOutcome {
        guard let listener else { return .idle }
        var progressed = false
        while let channel = libssh2_channel_forward_accept(listener) {
            progressed = true
            loop.startSplice(channel: channel, fd: connectTarget(), connecting: true)
        }
        let code = loop.lastErrorCode()
        switch loop.classify(Int(code)) {
        case .again:
            break
        case .fatal:
            loop.transportFailed(code)
        case .failed:
            // After sshd dies the first report is "channel not found" (-23); the pump's next read
            // reports the real socket error, so only check the transport here.
            loop.probeTransport()
        case .ok:
            break
        }
        return progressed ? .progress : .idle
    }

    /// Starts a non-blocking connect to the target; -1 when it cannot even be dialled (the
    /// splice then just closes the channel: the client in the pod sees EOF).
    private func connectTarget() -> Int32 {
        do {
            let address: ResolvedAddress
            if let resolvedTarget {
                address = resolvedTarget
            } else {
                address = try Sockets.resolveFirst(host: target.host, port: target.port)
                resolvedTarget = address
            }
            return try Sockets.startConnect(to: address, name: self.target.description)
        } catch {
            resolvedTarget = nil
            return -1
        }
    }

    private func callCancel(_ loop: SessionLoop) -> StepOutcome {
        guard let listener else {
            state = .done
            cancelled?.resume()
            cancelled = nil
            return .finished
        }
        switch loop.classify(Int(libssh2_channel_forward_cancel(listener))) {
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        case .ok, .failed:
            self.listener = nil
            state = .done
            cancelled?.resume()
            cancelled = nil
            return .finished
        }
    }
}
