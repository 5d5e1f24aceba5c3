#ifndef SWAPDEV_CLIBSSH2_SHIM_H
#define SWAPDEV_CLIBSSH2_SHIM_H
// libssh2's function-like macros (libssh2_session_init, libssh2_channel_read, …) are not
// imported by Swift; the SSHTunnel module calls the `_ex` forms they expand to.
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>

/// Per-session state of the socket hooks below. Only the session's I/O thread touches it.
typedef struct swapdev_io_state {
    /// CLOCK_MONOTONIC nanoseconds of the last receive that returned bytes.
    int64_t last_recv_ns;
    /// Bytes received from the socket (SSH wire bytes, encrypted).
    int64_t wire_bytes_in;
    /// 1 when the socket is TCP, so TCP_QUICKACK and MSG_MORE apply.
    int is_tcp;
    /// 1 once the session runs in the I/O loop (non-blocking mode, poll() after every round).
    /// Only then may a receive be skipped: in blocking mode libssh2 waits and retries itself.
    int loop_mode;
    /// 1 after a receive found the socket empty, until the loop's next pass or its poll()
    /// reporting the socket readable.
    int known_empty;
    /// 1 while the loop runs a round of libssh2 calls: sends then carry MSG_MORE, so the
    /// round's packets leave together when the loop flushes (`swapdev_flush_held`).
    int more_follows;
    /// 1 while bytes sent with MSG_MORE may still sit in the kernel unsent; a plain send pushes
    /// them, otherwise the loop must flush before it sleeps.
    int send_held;
    /// CLOCK_MONOTONIC nanoseconds of the first send held since the last flush.
    int64_t held_since_ns;
    /// recv() system calls made and skipped (diagnostics for tests and the bench).
    int64_t recv_calls;
    int64_t recv_skipped;
    /// Sends that carried MSG_MORE.
    int64_t sends_coalesced;
    /// The outbound backlog: packet bytes libssh2 handed to the send hook that the socket did
    /// not take yet (`backlog[backlog_head..<backlog_tail]`), see `swapdev_send_hook`.
    unsigned char *backlog;
    size_t backlog_head;
    size_t backlog_tail;
    size_t backlog_capacity;
} swapdev_io_state;

#include <stdlib.h>
#include <string.h>

/// Bytes waiting in the outbound backlog.
static inline size_t swapdev_backlog_pending(const swapdev_io_state *state) {
    return state->backlog_tail - state->backlog_head;
}

/// Appends to the backlog; 0, or -ENOMEM. Sent bytes are only moved out of the way when the
/// new packet would not fit behind the pending ones (a move per packet cost bulk throughput).
static inline int swapdev_backlog_append(swapdev_io_state *state, const void *bytes, size_t length) {
    if (state->backlog_head > 0 && state->backlog_tail + length > state->backlog_capacity) {
        size_t pending = swapdev_backlog_pending(state);
        memmove(state->backlog, state->backlog + state->backlog_head, pending);
        state->backlog_head = 0;
        state->backlog_tail = pending;
    }
    size_t needed = state->backlog_tail + length;
    if (needed > state->backlog_capacity) {
        size_t capacity = state->backlog_capacity ? state->backlog_capacity : 65536;
        while (capacity < needed) capacity *= 2;
        unsigned char *grown = realloc(state->backlog, capacity);
        if (!grown) return -ENOMEM;
        state->backlog = grown;
        state->backlog_capacity = capacity;
    }
    memcpy(state->backlog + state->backlog_tail, bytes, length);
    state->backlog_tail = needed;
    return 0;
}

/// Sends as much of the backlog as the socket takes: 0 (drained or the socket is full), or
/// -errno of a failed send. An emptied backlog larger than 1 MiB is freed, so a burst does
/// not keep its memory.
static inline int swapdev_backlog_flush(libssh2_socket_t fd, swapdev_io_state *state) {
    while (state->backlog_head < state->backlog_tail) {
        ssize_t n = send(fd, state->backlog + state->backlog_head, swapdev_backlog_pending(state), MSG_NOSIGNAL);
        if (n > 0) {
            state->backlog_head += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return n < 0 ? -errno : -EPIPE;
    }
    state->backlog_head = 0;
    state->backlog_tail = 0;
    if (state->backlog_capacity > (1u << 20)) {
        free(state->backlog);
        state->backlog = NULL;
        state->backlog_capacity = 0;
    }
    return 0;
}

/// Frees the backlog's memory (the session is gone).
static inline void swapdev_backlog_release(swapdev_io_state *state) {
    free(state->backlog);
    state->backlog = NULL;
    state->backlog_head = state->backlog_tail = state->backlog_capacity = 0;
}

static inline int64_t swapdev_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

// Replaces libssh2's recv: the same contract (bytes, or -errno), plus three things libssh2
// cannot do itself. (1) TCP_QUICKACK is re-armed after every receive: the kernel turns it off
// again by itself, and delayed ACKs meeting sshd's Nagle cost ~40 ms on small requests
// (see libssh2-notes.md: this triples sequential req/s). (2) The time of the last received
// byte is recorded, because libssh2_keepalive_send never looks at replies. (3) Every libssh2
// read call (each channel_read, forward_accept, …) first drains the socket, so one pass of
// the loop over N channels made N+1 recv() calls that all returned EAGAIN. Once a receive has
// found the socket empty, later ones in the same pass of the loop answer EAGAIN without a
// system call; the next pass (or poll() reporting the socket readable) looks again, so data
// arriving in between waits at most for the rest of one pass.
static inline ssize_t swapdev_recv_hook(libssh2_socket_t fd, void *buffer, size_t length,
                                        int flags, void **abstract) {
    swapdev_io_state *state = abstract ? (swapdev_io_state *)*abstract : NULL;
    if (state && state->known_empty) {
        state->recv_skipped += 1;
        return -EAGAIN;
    }
    ssize_t n = recv(fd, buffer, length, flags);
    if (state) {
        state->recv_calls += 1;
    }
    if (n < 0) {
        int code = errno;
        if (state && state->loop_mode && (code == EAGAIN || code == EWOULDBLOCK)) {
            state->known_empty = 1;
        }
        return -code;
    }
    if (state) {
        if (n > 0) {
            state->last_recv_ns = swapdev_monotonic_ns();
            state->wire_bytes_in += n;
        }
        if (state->is_tcp) {
            int one = 1;
            (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        }
    }
    return n;
}

// Replaces libssh2's send. Two jobs.
//
// (1) libssh2 never sees a full socket while the loop runs. libssh2 1.10 allows exactly one
// half-sent packet per session: after a send returned EAGAIN only the very call that built
// that packet may continue, every other sending call answers BAD_USE — including the replies
// libssh2 sends from inside its packet reader (channel-open confirmations of forwarded
// connections, window adjusts, keepalive answers), which it then drops or reports as a
// dead socket. Under load that lost forwarded connections and wedged the session. So in loop
// mode whatever the socket does not take goes to the backlog and the packet counts as sent;
// the loop flushes the backlog when the socket is writable and stops feeding channel data
// while the backlog is above its bound (SessionLoop.outboundBacklogged) — the backpressure
// libssh2's EAGAIN used to give. Outside loop mode (handshake, teardown) the backlog is
// drained first and EAGAIN is passed on as before.
//
// (2) libssh2 writes every packet with its own send(); with TCP_NODELAY each becomes its own
// segment at once. While the loop runs a round (`more_follows`), small sends carry MSG_MORE:
// the kernel holds them until the next plain send or until the loop flushes right before it
// sleeps — a forwarded connection's CONFIRM then leaves after the target connect() instead of
// before it, and a short reply's DATA and EOF reach sshd in one segment, as OpenSSH's client
// writes them. SessionLoop.runPasses says why that matters.
#define SWAPDEV_HOLD_BELOW_BYTES 16384

static inline ssize_t swapdev_send_hook(libssh2_socket_t fd, const void *buffer, size_t length,
                                        int flags, void **abstract) {
    swapdev_io_state *state = abstract ? (swapdev_io_state *)*abstract : NULL;
    if (!state) {
        ssize_t n = send(fd, buffer, length, flags);
        return n < 0 ? -errno : n;
    }
    if (swapdev_backlog_pending(state) > 0 && state->loop_mode) {
        // The socket was full a moment ago; the loop flushes when poll() says it drained.
        int rc = swapdev_backlog_append(state, buffer, length);
        return rc < 0 ? rc : (ssize_t)length;
    }
    if (swapdev_backlog_pending(state) > 0) {
        int rc = swapdev_backlog_flush(fd, state);
        if (rc < 0) return rc;
        if (swapdev_backlog_pending(state) > 0) {
            return -EAGAIN;  // outside the loop libssh2 waits and retries this packet
        }
    }
    // Only packets below half the maximum channel packet are held: bulk packets go out at
    // once (pushing any held ones with them), exactly as without the hook.
    int more = state->is_tcp && state->loop_mode && state->more_follows && length < SWAPDEV_HOLD_BELOW_BYTES;
    ssize_t n = send(fd, buffer, length, more ? (flags | MSG_MORE) : flags);
    if (n < 0) {
        int code = errno;
        if (state->loop_mode && (code == EAGAIN || code == EWOULDBLOCK)) {
            int rc = swapdev_backlog_append(state, buffer, length);
            return rc < 0 ? rc : (ssize_t)length;
        }
        return -code;
    }
    if (more) {
        if (!state->send_held) {
            state->held_since_ns = swapdev_monotonic_ns();
        }
        state->send_held = 1;
        state->sends_coalesced += 1;
    } else if (n == (ssize_t)length) {
        state->send_held = 0;  // a plain send pushed everything queued before it
    }
    if ((size_t)n < length && state->loop_mode) {
        int rc = swapdev_backlog_append(state, (const unsigned char *)buffer + n, length - (size_t)n);
        return rc < 0 ? rc : (ssize_t)length;
    }
    return n;
}

/// Pushes bytes a MSG_MORE send left in the kernel (setting TCP_NODELAY flushes pending output,
/// tcp(7)). The loop calls it before it sleeps, so nothing waits for a send that never came.
static inline void swapdev_flush_held(libssh2_socket_t fd, swapdev_io_state *state) {
    if (state->send_held) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        state->send_held = 0;
    }
}

/// Creates a session whose abstract pointer is `state` and installs the socket hooks.
static inline LIBSSH2_SESSION *swapdev_session_init(swapdev_io_state *state) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, state);
    if (session) {
        libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)swapdev_recv_hook);
        libssh2_session_callback_set(session, LIBSSH2_CALLBACK_SEND, (void *)swapdev_send_hook);
    }
    return session;
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif
/// Gives free heap pages back to the kernel (glibc keeps them in its arenas otherwise: the
/// buffers of a burst of a thousand connections stayed resident after they closed).
static inline void swapdev_trim_heap(void) {
#if defined(__GLIBC__)
    (void)malloc_trim(0);
#endif
}

/// A non-blocking, close-on-exec eventfd: how other threads wake a session's I/O thread.
static inline int swapdev_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Names the calling thread (visible in /proc and debuggers); _GNU_SOURCE-free via prctl.
#include <sys/prctl.h>
static inline void swapdev_set_thread_name(const char *name) { (void)prctl(PR_SET_NAME, name, 0, 0, 0); }

/// The SSH_EXTENDED_DATA_STDERR stream id (a macro in libssh2.h).
static inline int swapdev_stderr_stream_id(void) { return SSH_EXTENDED_DATA_STDERR; }
#endif
