import CLibSSH2
import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Requests from other threads to the session's I/O thread.
enum LoopCommand {
    case forwardRemote(bindHost: String, port: Int, target: ForwardTarget, CheckedContinuation<RemoteForward, any Error>)
    case cancelRemote(id: Int, CheckedContinuation<Void, any Error>)
    case openDirect(fd: Int32, host: String, port: Int, replies: DirectOpenReplies?, CheckedContinuation<Void, any Error>)
    case forwardLocal(port: Int, host: String, remotePort: Int, CheckedContinuation<LocalForward, any Error>)
    case cancelLocal(id: Int)
    case exec(command: String, stdin: Data?, CheckedContinuation<ExecResult, any Error>)
    case close
}

/// Where the SSH connection comes from.
enum SessionTransport {
    case socket(Int32)
    case dial(host: String, port: Int)
}

/// Parameters fixed for the life of a session.
struct SessionConfiguration {
    var username: String
    var key: SSHKeyPair
    var hostKey: HostKeyPolicy
    var keepalive: Duration
    var handshakeTimeout: Duration = .seconds(20)
}

/// The one thread that owns a libssh2 session and every channel and spliced fd of it.
///
/// libssh2 sessions are not thread-safe, and libssh2 1.10's EAGAIN/BAD_USE rules make
/// interleaving calls unsafe even under a mutex, so exactly one thread calls libssh2 for a
/// session. Other threads only append to `inbox` and write the eventfd; results go back through
/// continuations. Everything below `// Thread-confined` is touched by the I/O thread only.
final class SessionLoop: @unchecked Sendable {
    let shared: SessionShared
    /// Commands plus whether the loop still takes them; the eventfd is written and closed under
    /// this lock, so a late `submit` can never write to a closed (or reused) fd number.
    private let inbox = Locked<(commands: [LoopCommand], open: Bool)>(([], true))
    private let wakeFD: Int32
    private let thread = Locked<pthread_t?>(nil)
    private let configuration: SessionConfiguration
    private var transport: SessionTransport

    // Thread-confined
    private(set) var session: OpaquePointer?
    private var socketFD: Int32 = -1
    private let ioState: UnsafeMutablePointer<swapdev_io_state>
    private var pump: OpaquePointer?
    private var tasks: [any LoopTask] = []
    private var remoteListeners: [Int: RemoteListenerTask] = [:]
    private var localListeners: [Int: LocalListenerTask] = [:]
    private var nextID = 1
    /// The task whose channel open (session or direct-tcpip) is in flight. libssh2 keeps the
    /// state of an open in the session, not the channel: a second open while one waits for its
    /// reply would continue the first one and hand its channel to the wrong caller.
    private var openOwner: AnyObject?
    /// The same for `tcpip-forward` requests (`forward_listen_ex` keeps session-wide state too).
    private var listenOwner: AnyObject?
    /// Tasks ended since the heap was last trimmed (see `loop()`).
    private var releasedSinceTrim = false
    private var deathReason: String?
    private var closeRequested = false
    private var lastKeepaliveNS: Int64 = 0
    /// The keepalive interval in nanoseconds, computed once (the loop checks it every round).
    private let keepaliveNS: Int64
    private var scratch = [CChar](repeating: 0, count: 256)

    init(transport: SessionTransport, configuration: SessionConfiguration) throws {
        _ = LibSSH2Runtime.initialized
        let fd = swapdev_eventfd()
        guard fd >= 0 else { throw SSHTunnelError.handshakeFailed(reason: "eventfd: \(String(cString: strerror(errno)))") }
        wakeFD = fd
        self.transport = transport
        self.configuration = configuration
        let keepalive = configuration.keepalive.components
        keepaliveNS = keepalive.seconds * 1_000_000_000 + keepalive.attoseconds / 1_000_000_000
        shared = SessionShared()
        ioState = UnsafeMutablePointer<swapdev_io_state>.allocate(capacity: 1)
        ioState.initialize(to: swapdev_io_state(last_recv_ns: swapdev_monotonic_ns(), wire_bytes_in: 0, is_tcp: 0,
                                                     loop_mode: 0, known_empty: 0, more_follows: 0, send_held: 0, held_since_ns: 0,
                                                   recv_calls: 0, recv_skipped: 0, sends_coalesced: 0,
                                                   backlog: nil, backlog_head: 0, backlog_tail: 0, backlog_capacity: 0))
        // The session owns a given socket from now on, even if establishing fails.
        if case let .socket(fd) = transport { socketFD = fd }
    }

    deinit {
        swapdev_backlog_release(ioState)
        ioState.deallocate()
    }

    /// Queues a command and wakes the I/O thread. After the loop ended, fails it at once.
    func submit(_ command: LoopCommand) {
        let accepted = inbox.withLock { queue -> Bool in
            guard queue.open else { return false }
            queue.commands.append(command)
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
            return true
        }
        if !accepted { fail(command, with: shared.terminalError) }
    }

    /// Starts the I/O thread; `ready` resumes after handshake, host-key check and auth.
    func start(ready: CheckedContinuation<Void, any Error>) {
        // A joinable pthread rather than Foundation's detached Thread: `join()` lets close()
        // return only after the thread is fully gone, including libcrypto's thread-exit
        // destructors, which crash if they race with OpenSSL's atexit cleanup at process exit.
        let body = ThreadBody { [self] in self.run(ready: ready) }
        let context = Unmanaged.passRetained(body).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            guard let context else { return nil }
            let body = Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue()
            swapdev_set_thread_name("swapdev-ssh")
            body.run()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            ready.resume(throwing: SSHTunnelError.handshakeFailed(reason: "cannot start the session thread: \(String(cString: strerror(rc)))"))
            return
        }
        thread.withLock { $0 = handle }
    }

    /// Waits for the I/O thread to exit (once); later calls return at once.
    func join() {
        guard let handle = thread.withLock({ value -> pthread_t? in
            defer { value = nil }
            return value
        }) else { return }
        pthread_join(handle, nil)
    }

    /// Lets the thread release itself when nobody will join it (session dropped without close()).
    func detach() {
        guard let handle = thread.withLock({ value -> pthread_t? in
            defer { value = nil }
            return value
        }) else { return }
        pthread_detach(handle)
    }

    // MARK: - Thread body

    private func run(ready: CheckedContinuation<Void, any Error>) {
        do {
            try establish()
        } catch {
            let failure = (error as? SSHTunnelError) ?? .handshakeFailed(reason: "\(error)")
            teardown(reason: .failure(failure))
            ready.resume(throwing: failure)
            return
        }
        ready.resume()
        loop()
        let ending: Result<Void, SSHTunnelError> = deathReason.map { .failure(.disconnected(reason: $0)) } ?? .success(())
        teardown(reason: ending)
    }

    /// Connect (if dialling), handshake, pin the host key, authenticate — in blocking mode,
    /// which is fine on this dedicated thread, bounded by the handshake timeout.
    private func establish() throws {
        try configuration.hostKey.validate()
        switch transport {
        case .socket:
            break
        case let .dial(host, port):
            do {
                socketFD = try Sockets.connectBlocking(host: host, port: port, timeoutMilliseconds: 10_000)
            } catch {
                throw SSHTunnelError.connectFailed(host: host, port: port, reason: "\(error)")
            }
        }
        transport = .socket(socketFD)
        Sockets.setCloseOnExec(socketFD)
        if Sockets.isTCP(socketFD) {
            Sockets.setNoDelay(socketFD)
            ioState.pointee.is_tcp = 1
        }
        guard let created = swapdev_session_init(ioState) else {
            throw SSHTunnelError.handshakeFailed(reason: "libssh2_session_init failed (out of memory?)")
        }
        session = created
        libssh2_session_set_blocking(created, 1)
        let timeout = configuration.handshakeTimeout.components
        libssh2_session_set_timeout(created, Int(timeout.seconds * 1000))
        guard libssh2_session_handshake(created, socketFD) == 0 else {
            throw SSHTunnelError.handshakeFailed(reason: lastErrorMessage())
        }
        guard let hash = libssh2_hostkey_hash(created, LIBSSH2_HOSTKEY_HASH_SHA256) else {
            throw SSHTunnelError.handshakeFailed(reason: "the server presented no host key")
        }
        let digest = hash.withMemoryRebound(to: UInt8.self, capacity: 32) { Array(UnsafeBufferPointer(start: $0, count: 32)) }
        try configuration.hostKey.check(presentedSHA256: digest)
        let user = configuration.username
        let privateKey = configuration.key.privateKeyOpenSSH
        let rc = libssh2_userauth_publickey_frommemory(created, user, user.utf8.count, nil, 0, privateKey, privateKey.utf8.count, nil)
        guard rc == 0 else {
            throw SSHTunnelError.authenticationFailed(username: user, reason: lastErrorMessage())
        }
        // The pump: a session channel with no process behind it (sshd forks nothing for it).
        // Reading from it drives libssh2's transport even when no other channel exists, so
        // keepalive replies are seen and a dead peer is noticed while idle.
        let type = "session"
        pump = libssh2_channel_open_ex(created, type, UInt32(type.utf8.count), 2 * 1024 * 1024, 32768, nil, 0)
        let seconds = max(1, UInt32(configuration.keepalive.components.seconds))
        libssh2_keepalive_config(created, 1, seconds)
        libssh2_session_set_timeout(created, 0)
        libssh2_session_set_blocking(created, 0)
        ioState.pointee.last_recv_ns = swapdev_monotonic_ns()
        // From here on the loop polls after every round, so a receive after one that found the
        // socket empty may be skipped for the rest of that pass (see the hook in shim.h).
        ioState.pointee.loop_mode = 1
    }

    private func loop() {
        var pollFDs: [pollfd] = []
        var owners: [(any LoopTask)?] = []
        // Commands are taken when the eventfd fired (and once at the start), not every round:
        // the inbox lock is then only touched when another thread has queued something.
        var woken = true
        while deathReason == nil && !closeRequested {
            if woken { takeCommands() }
            if deathReason != nil || closeRequested { break }
            let progressed = runPasses()
            if deathReason != nil || closeRequested { break }
            checkKeepalive()
            if deathReason != nil { break }

            pollFDs.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            pollFDs.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
            owners.append(nil)
            var socketEvents = Int16(POLLIN)
            if swapdev_backlog_pending(ioState) > 0 { socketEvents |= Int16(POLLOUT) }
            pollFDs.append(pollfd(fd: socketFD, events: socketEvents, revents: 0))
            owners.append(nil)
            for task in tasks {
                task.pollInterest { fd, events in
                    pollFDs.append(pollfd(fd: fd, events: events, revents: 0))
                    owners.append(task)
                }
            }
            // Bytes a MSG_MORE send left in the kernel go out now, before the loop can sleep.
            swapdev_flush_held(socketFD, ioState)
            let timeout: Int32 = progressed ? 0 : 1000
            let ready = poll(&pollFDs, nfds_t(pollFDs.count), timeout)
            if ready < 0 && errno != EINTR {
                die("poll failed: \(String(cString: strerror(errno)))")
                break
            }
            if ready == 0 && releasedSinceTrim {
                // A whole second idle after connections ended: give their freed buffers back.
                releasedSinceTrim = false
                swapdev_trim_heap()
            }
            woken = pollFDs[0].revents != 0
            if woken {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
            }
            if pollFDs[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { ioState.pointee.known_empty = 0 }
            for index in 2..<pollFDs.count where pollFDs[index].revents != 0 {
                owners[index]?.noteReady(fd: pollFDs[index].fd, revents: pollFDs[index].revents)
            }
        }
    }

    /// Steps every task until none makes progress, with the SSH socket's sends held back
    /// (MSG_MORE) until the round ends, see `heldSendsLimitNS`.
    ///
    /// Why: a send that wakes a process on this machine (sshd, in the bench and in the sandbox)
    /// usually lets it run only once this thread blocks, so everything done between a send and
    /// poll() is latency for the peer. Without holding, a forwarded connection's CONFIRM left
    /// before the target connect() and the rest of the round; a reply's DATA and EOF left as two
    /// segments. Held, the round's packets leave together, right before the loop sleeps — the
    /// order OpenSSH's client has (connect, then confirm; data and EOF in one write).
    private func runPasses() -> Bool {
        ioState.pointee.more_follows = 1
        defer { ioState.pointee.more_follows = 0 }
        return stepUntilIdle()
    }

    /// Held sends are pushed out within this time even while a long round (bulk transfers over
    /// many channels) is still running, so holding never adds more than this to any packet.
    static let heldSendsLimitNS: Int64 = 200_000

    /// Steps every task until none makes progress (bounded, so commands and keepalives get a turn).
    private func stepUntilIdle() -> Bool {
        var any = false
        for _ in 0..<64 {
            // Bytes read from the socket during a pass may be packets for a channel stepped
            // earlier in the same pass (libssh2 queues them internally): count them as progress
            // so that channel gets another turn before poll() sleeps.
            let wireBefore = ioState.pointee.wire_bytes_in
            // One real receive per pass: packets that arrived during a long pass (window adjusts
            // of channels waiting to send, with many busy channels) are seen in the next pass,
            // not only after the round. Within a pass, receives after an EAGAIN are skipped.
            ioState.pointee.known_empty = 0
            var progressed = false
            // Not progress by itself: with the socket nearly full, passes that only flush a few
            // bytes would spin over every task; poll() waits for POLLOUT instead.
            if swapdev_backlog_pending(ioState) > 0 {
                flushBacklog()
                if deathReason != nil { return any }
            }
            if readPump() { progressed = true }
            if deathReason != nil { return any }
            var finishedAny = false
            for task in tasks {
                switch task.step(self) {
                case .progress: progressed = true
                case .idle: break
                case .finished: finishedAny = true
                }
                if deathReason != nil { return any }
            }
            if finishedAny { removeFinished() }
            if ioState.pointee.send_held != 0
                && swapdev_monotonic_ns() - ioState.pointee.held_since_ns > Self.heldSendsLimitNS {
                swapdev_flush_held(socketFD, ioState)
            }
            if ioState.pointee.wire_bytes_in != wireBefore { progressed = true }
            if !progressed { return any }
            any = true
        }
        return any
    }

    private func removeFinished() {
        tasks.removeAll { task in
            guard task.isDone else { return false }
            releasedSinceTrim = true
            if let listener = task as? RemoteListenerTask { remoteListeners[listener.id] = nil }
            if let local = task as? LocalListenerTask { localListeners[local.id] = nil }
            return true
        }
    }

    /// Above this many bytes of outbound backlog no channel data is written (`outboundBacklogged`).
    /// Large enough to keep the socket busy between two rounds of the loop, small next to
    /// what the channels' windows would otherwise let pile up.
    static let backlogBound = 256 << 10

    /// Whether the socket is behind: the send hook holds more than `backlogBound` bytes it
    /// could not send yet. Tasks then write no channel data (control packets still go: they
    /// are small and bounded by the number of channels); this is the outbound backpressure.
    var outboundBacklogged: Bool { swapdev_backlog_pending(ioState) > Self.backlogBound }

    /// Sends what the socket takes of the backlog; a failed send ends the session.
    private func flushBacklog() {
        let rc = swapdev_backlog_flush(socketFD, ioState)
        if rc < 0 { die("socket error: \(String(cString: strerror(-rc)))") }
    }

    /// Reads the pump channel: drives the transport and surfaces socket errors while idle.
    private func readPump() -> Bool {
        guard let pump else { return false }
        let rc = scratch.withUnsafeMutableBufferPointer { libssh2_channel_read_ex(pump, 0, $0.baseAddress, $0.count) }
        switch classify(rc) {
        case .ok(let count):
            if count == 0 { self.pump = nil }  // sshd closed it; keepalives still watch the peer
            return count > 0
        case .again:
            return false
        case let .fatal(code):
            transportFailed(code)
            return false
        case .failed:
            self.pump = nil
            return false
        }
    }

    private func checkKeepalive() {
        guard let session else { return }
        let interval = keepaliveNS
        guard interval > 0 else { return }
        let now = swapdev_monotonic_ns()
        let silent = now - ioState.pointee.last_recv_ns
        if silent > 3 * interval {
            die("no data from the server for \(silent / 1_000_000_000) s (keepalive timeout)")
            return
        }
        // Only when idle.
        if silent >= interval && now - lastKeepaliveNS >= interval {
            var next: Int32 = 0
            let rc = libssh2_keepalive_send(session, &next)
            lastKeepaliveNS = now
            if case let .fatal(code) = classify(Int(rc)) { transportFailed(code) }
        }
    }

    // MARK: - Commands

    private func takeCommands() {
        let commands = inbox.withLock { queue -> [LoopCommand] in
            defer { queue.commands.removeAll() }
            return queue.commands
        }
        for command in commands { handle(command) }
    }

    private func handle(_ command: LoopCommand) {
        switch command {
        case let .forwardRemote(bindHost, port, target, continuation):
            let task = RemoteListenerTask(id: allocateID(), bindHost: bindHost, port: port, target: target, continuation: continuation)
            remoteListeners[task.id] = task
            add(task)
        case let .cancelRemote(id, continuation):
            if let listener = remoteListeners[id] {
                listener.cancel(continuation)
            } else {
                continuation.resume()
            }
        case let .openDirect(fd, host, port, replies, continuation):
            Sockets.setNonBlocking(fd)
            Sockets.setNoDelay(fd)
            add(DirectOpenTask(fd: fd, remoteHost: host, remotePort: port, replies: replies, continuation: continuation))
        case let .forwardLocal(port, host, remotePort, continuation):
            do {
                let (fd, bound) = try Sockets.listenLoopback(port: port)
                let task = LocalListenerTask(id: allocateID(), listenFD: fd, remoteHost: host, remotePort: remotePort)
                localListeners[task.id] = task
                add(task)
                continuation.resume(returning: LocalForward(id: task.id, port: bound, remoteHost: host, remotePort: remotePort))
            } catch {
                continuation.resume(throwing: SSHTunnelError.localListenFailed(port: port, reason: "\(error)"))
            }
        case let .cancelLocal(id):
            localListeners.removeValue(forKey: id)?.stop()
        case let .exec(command, stdin, continuation):
            add(ExecTask(command: command, stdin: stdin, continuation: continuation))
        case .close:
            closeRequested = true
        }
    }

    private func fail(_ command: LoopCommand, with error: SSHTunnelError) {
        switch command {
        case let .forwardRemote(_, _, _, continuation): continuation.resume(throwing: error)
        case let .cancelRemote(_, continuation): continuation.resume()
        case let .openDirect(fd, _, _, replies, continuation):
            if let replies { _ = SocketWrites.sendAll(fd, replies.failed) }
            close(fd)
            continuation.resume(throwing: error)
        case let .forwardLocal(_, _, _, continuation): continuation.resume(throwing: error)
        case let .exec(_, _, continuation): continuation.resume(throwing: error)
        case .cancelLocal, .close: break
        }
    }

    private func allocateID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    // MARK: - Used by tasks

    /// Whether `task` may call a channel-open function now; serialises opens per session.
    func mayOpen(_ task: AnyObject) -> Bool { openOwner == nil || openOwner === task }

    /// Records that `task`'s open is waiting (`true`) or finished (`false`).
    func openPending(_ task: AnyObject, _ pending: Bool) {
        if pending { openOwner = task } else if openOwner === task { openOwner = nil }
    }

    func mayListen(_ task: AnyObject) -> Bool { listenOwner == nil || listenOwner === task }

    func listenPending(_ task: AnyObject, _ pending: Bool) {
        if pending { listenOwner = task } else if listenOwner === task { listenOwner = nil }
    }

    func add(_ task: any LoopTask) { tasks.append(task) }

    /// Receive/send system-call counters of the socket hooks (tests check the skip logic).
    var socketCounters: (recvCalls: Int64, recvSkipped: Int64, sendsCoalesced: Int64) {
        (ioState.pointee.recv_calls, ioState.pointee.recv_skipped, ioState.pointee.sends_coalesced)
    }

    /// Splices a channel to a local fd (`connecting`: a non-blocking connect still in
    /// progress; a negative fd: the target could not be dialled, so the channel is just closed).
    func startSplice(channel: OpaquePointer, fd: Int32, connecting: Bool = false) {
        shared.channelOpened()
        let shared = self.shared
        add(Splice(channel: channel, fd: fd, connecting: connecting,
                   onBytes: { out, inbound in shared.count(toRemote: out, toLocal: inbound) },
                   onEnd: { shared.channelClosed() }))
    }

    /// A libssh2 call reported a transport-level error: the session is dead.
    func transportFailed(_ code: Int32) {
        die("\(lastErrorMessage()) (code \(code))")
    }

    /// Checks the socket directly after an ambiguous error (libssh2 reports "channel not found"
    /// before the socket error when sshd is killed).
    func probeTransport() {
        var byte: UInt8 = 0
        let rc = recv(socketFD, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if rc == 0 { die("the server closed the connection") }
        if rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK { die("socket error: \(String(cString: strerror(errno)))") }
    }

    func die(_ reason: String) {
        if deathReason == nil { deathReason = reason }
    }

    // MARK: - Teardown

    /// Releases everything: tasks' fds and continuations, the session, the socket, the eventfd.
    private func teardown(reason: Result<Void, SSHTunnelError>) {
        let error: SSHTunnelError
        switch reason {
        case .success: error = .sessionClosed
        case let .failure(failure): error = failure
        }
        // Stop accepting commands first so nothing is queued after the drain below.
        shared.finish(with: reason)
        // Teardown calls libssh2 with its own waits: every receive must really look again.
        ioState.pointee.loop_mode = 0
        ioState.pointee.known_empty = 0
        let leftovers = inbox.withLock { queue -> [LoopCommand] in
            defer {
                queue.commands.removeAll()
                queue.open = false
                close(wakeFD)
            }
            return queue.commands
        }
        for command in leftovers { fail(command, with: error) }
        for task in tasks { task.abort(error) }
        tasks.removeAll()
        remoteListeners.removeAll()
        localListeners.removeAll()
        if let session {
            if deathReason == nil {
                // Best effort: tell sshd goodbye, without waiting long for a slow socket.
                for _ in 0..<50 {
                    let rc = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "swapdev session closed", "")
                    if rc != LIBSSH2_ERROR_EAGAIN { break }
                    var pfd = pollfd(fd: socketFD, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, 20)
                }
            }
            // With the socket shut down every pending channel close fails at once instead of
            // waiting for replies, so freeing the session cannot hang.
            shutdown(socketFD, Int32(SHUT_RDWR))
            var tries = 0
            while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN && tries < 1000 { tries += 1 }
            self.session = nil
        }
        pump = nil
        if socketFD >= 0 {
            close(socketFD)
            socketFD = -1
        }
        transport = .socket(-1)
        shared.markThreadDone()
    }
}

/// The I/O thread's entry point, passed through pthread_create's context pointer.
private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
