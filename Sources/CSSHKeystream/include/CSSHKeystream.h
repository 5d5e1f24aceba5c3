#ifndef SWAPDEV_CSSHKEYSTREAM_H
#define SWAPDEV_CSSHKEYSTREAM_H
// Batched AES-CTR keystream for libssh2 1.10 (see keystream.c for the why and how).
#include <stddef.h>
#include <stdint.h>

/// What the keystream layer did in this process.
typedef struct swapdev_keystream_stats {
    /// 1 when libssh2's EVP_Cipher calls reach this layer (Linux, libssh2 found, not disabled
    /// by SWAPDEV_SSH_KEYSTREAM=0).
    int active;
    /// 1 when libssh2 1.10.0's aes*-ctr method tables call this layer directly (no EVP_Cipher
    /// call and no block copy per 16 bytes).
    int direct_methods;
    /// CTR contexts of libssh2 served from a batched keystream, and how many batches were made
    /// in all and through the direct methods.
    uint64_t contexts;
    uint64_t batches;
    uint64_t direct_batches;
} swapdev_keystream_stats;

/// A snapshot of the counters (they are updated without locks; exact once sessions are idle).
swapdev_keystream_stats swapdev_keystream_snapshot(void);

/// Test hook: encrypts `length` bytes of `data` with AES-128-CTR (`key`, `iv`) twice — through
/// the batched keystream in calls of the sizes in `chunks` (cycled), and with OpenSSL in one
/// call — into `batched` and `direct`. Returns 0, or -1 when OpenSSL failed.
int swapdev_keystream_compare(const uint8_t key[16], const uint8_t iv[16], const uint8_t *data, size_t length,
                              const size_t *chunks, size_t chunk_count, uint8_t *batched, uint8_t *direct);

#endif
