import CLibSSH2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Copies bytes both ways between one SSH channel and one local socket, with half-close
/// carried through: local EOF → `channel_send_eof`; channel EOF → `shutdown(SHUT_WR)`.
/// Each direction has a bounded queue; a full queue stops reading from its source, so a slow
/// reader never makes memory grow (and libssh2's channel window stops the peer in turn).
/// The splice owns both the channel and the fd.
final class Splice: LoopTask {
    /// Bytes read per `channel_read`; libssh2 sizes its receive window as 2 MiB + this, so a
    /// larger buffer keeps the window open on high-latency links (libssh2-notes.md).
    static let toLocalCapacity = 1 << 20
    static let toRemoteCapacity = 256 << 10
    /// libssh2's `channel_read(len)` sends a window adjust first whenever the receive window is
    /// below ¾ of its initial 2 MiB + `len`: with a 1 MiB read that is *every* channel's first
    /// read — an extra packet for sshd to decrypt and answer before a short request's data moves.
    /// Reads are capped at this length until that much has arrived, which keeps the window check
    /// false (2 MiB − received ≥ 1.5 MiB + cap); after that reads use the whole queue again and
    /// the window grows as before, so bulk transfers are unchanged.
    static let firstReadsCap = 256 << 10

    /// The steps of one `pump`, in order: moving the channel's bytes out before reading more
    /// keeps both queues short.
    private enum Action: CaseIterable { case readChannel, writeLocal, readLocal, writeChannel, sendEOF }
    private enum State { case connecting, running, closing, freeing, done }

    private var channel: OpaquePointer?
    private var fd: Int32
    private var state: State
    private let toLocal = ByteQueue(capacity: Splice.toLocalCapacity)
    private let toRemote = ByteQueue(capacity: Splice.toRemoteCapacity)
    /// Payload bytes read from the channel so far (for `firstReadsCap`).
    private var receivedFromChannel = 0
    private var channelEOF = false
    private var localEOF = false
    private var sentEOF = false
    private var shutLocalWrite = false
    private var localReadable = true
    private var localWritable = true
    private let onBytes: (_ toRemote: Int, _ toLocal: Int) -> Void
    private let onEnd: () -> Void

    /// - Parameters:
    ///   - connecting: the fd is a non-blocking connect still in progress.
    init(channel: OpaquePointer, fd: Int32, connecting: Bool,
         onBytes: @escaping (Int, Int) -> Void, onEnd: @escaping () -> Void) {
        self.channel = channel
        self.fd = fd
        // No local socket at all (the target could not even be dialled): just close the channel.
        self.state = fd < 0 ? .closing : (connecting ? .connecting : .running)
        self.onBytes = onBytes
        self.onEnd = onEnd
    }

    var isDone: Bool { state == .done }

    func pollInterest(_ add: (Int32, Int16) -> Void) {
        guard fd >= 0 else { return }
        switch state {
        case .connecting:
            add(fd, Int16(POLLOUT))
        case .running:
            var events: Int16 = 0
            if !localEOF && toRemote.freeSpace > 0 && !localReadable { events |= Int16(POLLIN) }
            if !toLocal.isEmpty && !localWritable { events |= Int16(POLLOUT) }
            if events != 0 { add(fd, events) }
        default:
            break
        }
    }

    func noteReady(fd: Int32, revents: Int16) {
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { localReadable = true }
        if revents & Int16(POLLOUT | POLLHUP | POLLERR) != 0 { localWritable = true }
    }

    func step(_ loop: SessionLoop) -> StepOutcome {
        switch state {
        case .connecting:
            return finishConnect(loop)
        case .running:
            return pump(loop)
        case .closing:
            return callClose(loop)
        case .freeing:
            return callFree(loop)
        case .done:
            return .finished
        }
    }

    func abort(_ error: SSHTunnelError) {
        closeLocal()
        channel = nil
        if state != .done {
            state = .done
            toLocal.release()
            toRemote.release()
            onEnd()
        }
    }

    // MARK: - States

    private func finishConnect(_ loop: SessionLoop) -> StepOutcome {
        guard localWritable else { return .idle }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&pfd, 1, 0) > 0 else {
            localWritable = false
            return .idle
        }
        if Sockets.pendingError(fd) != 0 {
            // The local target is down. libssh2 has already confirmed the channel to the
            // server, so all we can do is close it: the client in the pod sees a reset/EOF.
            closeLocal()
            state = .closing
            return .progress
        }
        state = .running
        localReadable = true
        localWritable = true
        return .progress
    }

    private func pump(_ loop: SessionLoop) -> StepOutcome {
        var progressed = false
        for action in Action.allCases {
            switch perform(action, loop) {
            case .progress: progressed = true
            case .finished: return .progress
            case .idle: break
            }
            if state != .running { return .progress }
        }
        // Both directions finished: close the channel.
        if sentEOF && channelEOF && toLocal.isEmpty {
            closeLocal()
            state = .closing
            return .progress
        }
        return progressed ? .progress : .idle
    }

    /// A switch rather than an array of method references: those would allocate a closure
    /// context per action on every pump.
    private func perform(_ action: Action, _ loop: SessionLoop) -> StepOutcome {
        switch action {
        case .readChannel: return readChannel(loop)
        case .writeLocal: return writeLocal(loop)
        case .readLocal: return readLocal(loop)
        case .writeChannel: return writeChannel(loop)
        case .sendEOF: return sendEOF(loop)
        }
    }

    private func readChannel(_ loop: SessionLoop) -> StepOutcome {
        guard let channel, !channelEOF else { return .idle }
        guard let region = toLocal.writableRegion() else { return .idle }
        let length = receivedFromChannel < Splice.firstReadsCap ? min(region.count, Splice.firstReadsCap) : region.count
        let rc = libssh2_channel_read_ex(channel, 0, region.baseAddress?.assumingMemoryBound(to: CChar.self), length)
        switch loop.classify(rc) {
        case let .ok(count):
            if count == 0 {
                // 0 means EOF or CLOSE from the peer.
                channelEOF = true
                return .progress
            }
            toLocal.commit(count)
            receivedFromChannel += count
            onBytes(0, count)
            return .progress
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        case .failed:
            return fail()
        }
    }

    private func writeLocal(_ loop: SessionLoop) -> StepOutcome {
        guard fd >= 0 else { return .idle }
        if let data = toLocal.readableRegion(), localWritable {
            let written = send(fd, data.baseAddress, data.count, Int32(MSG_NOSIGNAL))
            if written > 0 {
                toLocal.consume(written)
                return .progress
            }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                localWritable = false
                return .idle
            }
            if written < 0 && errno == EINTR { return .progress }
            return fail()
        }
        if channelEOF && toLocal.isEmpty && !shutLocalWrite {
            shutLocalWrite = true
            shutdown(fd, Int32(SHUT_WR))
            return .progress
        }
        return .idle
    }

    /// Reads until the local socket is drained, its EOF is seen or the queue is full: a reply
    /// and the FIN that follows it (a server that answers and closes) then go out as DATA and
    /// EOF in the same pump instead of one loop round apart.
    private func readLocal(_ loop: SessionLoop) -> StepOutcome {
        guard fd >= 0, !localEOF, localReadable else { return .idle }
        var progressed = false
        while let region = toRemote.writableRegion() {
            let count = recv(fd, region.baseAddress, region.count, 0)
            if count > 0 {
                toRemote.commit(count)
                progressed = true
                continue
            }
            if count == 0 {
                localEOF = true
                return .progress
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                localReadable = false
                return progressed ? .progress : .idle
            }
            // A reset from the local side: treat it like EOF, the channel gets EOF + CLOSE.
            localEOF = true
            return .progress
        }
        return progressed ? .progress : .idle
    }

    private func writeChannel(_ loop: SessionLoop) -> StepOutcome {
        guard let channel, let data = toRemote.readableRegion() else { return .idle }
        // The session's outbound backlog is over its bound: the socket is the bottleneck, and
        // more channel data would only queue in memory. Local reads stop once `toRemote` fills.
        if loop.outboundBacklogged { return .idle }
        let rc = libssh2_channel_write_ex(channel, 0, data.baseAddress?.assumingMemoryBound(to: CChar.self), data.count)
        switch loop.classify(rc) {
        case let .ok(count):
            // 0 means the peer's window is full: wait for a window adjust.
            guard count > 0 else { return .idle }
            toRemote.consume(count)
            onBytes(count, 0)
            return .progress
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        case .failed:
            return fail()
        }
    }

    private func sendEOF(_ loop: SessionLoop) -> StepOutcome {
        guard let channel, localEOF, toRemote.isEmpty, !sentEOF else { return .idle }
        switch loop.classify(Int(libssh2_channel_send_eof(channel))) {
        case .ok:
            sentEOF = true
            return .progress
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        case .failed:
            // The peer already closed: nothing left to tell it.
            sentEOF = true
            return .progress
        }
    }

    private func callClose(_ loop: SessionLoop) -> StepOutcome {
        guard let channel else { return finish() }
        switch loop.classify(Int(libssh2_channel_close(channel))) {
        case .ok, .failed:
            state = .freeing
            return .progress
        case .again:
            // EAGAIN until the peer's CLOSE arrives.
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        }
    }

    private func callFree(_ loop: SessionLoop) -> StepOutcome {
        guard let channel else { return finish() }
        switch loop.classify(Int(libssh2_channel_free(channel))) {
        case .ok, .failed:
            self.channel = nil
            return finish()
        case .again:
            return .idle
        case let .fatal(code):
            loop.transportFailed(code)
            return .idle
        }
    }

    // MARK: - Helpers

    /// Something failed on one side: drop the local socket and close the channel.
    private func fail() -> StepOutcome {
        closeLocal()
        state = .closing
        return .progress
    }

    private func finish() -> StepOutcome {
        closeLocal()
        if state != .done {
            state = .done
            toLocal.release()
            toRemote.release()
            onEnd()
        }
        return .finished
    }

    private func closeLocal() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }
}
