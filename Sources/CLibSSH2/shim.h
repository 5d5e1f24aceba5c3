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

/// Per-session state of the receive hook. Only the session's I/O thread touches it.
typedef struct swapdev_recv_state {
    /// CLOCK_MONOTONIC nanoseconds of the last receive that returned bytes.
    int64_t last_recv_ns;
    /// Bytes received from the socket (SSH wire bytes, encrypted).
    int64_t wire_bytes_in;
    /// 1 when the socket is TCP, so TCP_QUICKACK applies.
    int is_tcp;
} swapdev_recv_state;

static inline int64_t swapdev_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec;
}

// Replaces libssh2's recv: the same contract (bytes, or -errno), plus two things libssh2
// cannot do itself. (1) TCP_QUICKACK is re-armed after every receive: the kernel turns it off
// again by itself, and delayed ACKs meeting sshd's Nagle cost ~40 ms on small requests
// (see libssh2-notes.md: this triples sequential req/s). (2) The time of the last received
// byte is recorded, because libssh2_keepalive_send never looks at replies.
static inline ssize_t swapdev_recv_hook(libssh2_socket_t fd, void *buffer, size_t length,
                                        int flags, void **abstract) {
    swapdev_recv_state *state = abstract ? (swapdev_recv_state *)*abstract : NULL;
    ssize_t n = recv(fd, buffer, length, flags);
    if (n < 0) {
        return -errno;
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

/// Creates a session whose abstract pointer is `state` and installs the receive hook.
static inline LIBSSH2_SESSION *swapdev_session_init(swapdev_recv_state *state) {
    LIBSSH2_SESSION *session = libssh2_session_init_ex(NULL, NULL, NULL, state);
    if (session) {
        libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)swapdev_recv_hook);
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
