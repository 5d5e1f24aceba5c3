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
} swapdev_io_state;

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

// Replaces libssh2's send. libssh2 writes every packet with its own send(); with TCP_NODELAY
// each becomes its own segment at once. While the loop runs a round (`more_follows`), small
// sends carry MSG_MORE: the kernel holds them until the next plain send or until the loop
// flushes right before it sleeps — a forwarded connection's CONFIRM then leaves after the
// target connect() instead of before it, and a short reply's DATA and EOF reach sshd in one
// segment, as OpenSSH's client writes them. SessionLoop.runPasses says why that matters.
#define SWAPDEV_HOLD_BELOW_BYTES 16384

static inline ssize_t swapdev_send_hook(libssh2_socket_t fd, const void *buffer, size_t length,
                                        int flags, void **abstract) {
    swapdev_io_state *state = abstract ? (swapdev_io_state *)*abstract : NULL;
    // Only packets below half the maximum channel packet are held: bulk packets go out at
    // once (pushing any held ones with them), exactly as without the hook.
    int more = state && state->is_tcp && state->loop_mode && state->more_follows
               && length < SWAPDEV_HOLD_BELOW_BYTES;
    ssize_t n = send(fd, buffer, length, more ? (flags | MSG_MORE) : flags);
    if (n < 0) {
        return -errno;
    }
    if (state) {
        if (more) {
            if (!state->send_held) {
                state->held_since_ns = swapdev_monotonic_ns();
            }
            state->send_held = 1;
            state->sends_coalesced += 1;
        } else if (n == (ssize_t)length) {
            state->send_held = 0;  // a plain send pushed everything queued before it
        }
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

/// A non-blocking, close-on-exec eventfd: how other threads wake a session's I/O thread.
static inline int swapdev_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Names the calling thread (visible in /proc and debuggers); _GNU_SOURCE-free via prctl.
#include <sys/prctl.h>
static inline void swapdev_set_thread_name(const char *name) { (void)prctl(PR_SET_NAME, name, 0, 0, 0); }

/// The SSH_EXTENDED_DATA_STDERR stream id (a macro in libssh2.h).
static inline int swapdev_stderr_stream_id(void) { return SSH_EXTENDED_DATA_STDERR; }
#endif
