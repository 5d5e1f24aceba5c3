// Batched AES-CTR keystream for libssh2 1.10.
//
// Why: libssh2 1.10 encrypts and decrypts every packet one 16-byte block per EVP_Cipher call
// (crypt.c → _libssh2_cipher_crypt). Each call pays OpenSSL 3's provider dispatch, so AES-CTR
// runs at ~1 GB/s instead of the ~10 GB/s the same library reaches on 4 KiB calls, and that
// per-block cost is a large share of a bulk transfer's CPU on the tunnel's one I/O thread.
//
// How: CTR mode's keystream does not depend on the data, so for each CTR context libssh2
// creates, this layer asks OpenSSL for 4 KiB of keystream at once (encrypting zeros advances
// the context's counter by 256 blocks) and answers libssh2's 16-byte calls by XOR with the
// next keystream bytes. The bytes on the wire are exactly those of per-block calls; a single
// wrong byte would fail the SSH MAC check on the other side and end the session.
//
// The hook: this file defines EVP_Cipher and EVP_CIPHER_CTX_free in the executable. libssh2's
// references bind to them (an executable's definitions come first in the dynamic linker's
// search order, and the linker exports them because libssh2 references them); they reach
// OpenSSL's through dlsym(RTLD_NEXT). Only calls whose return address lies in libssh2's code
// take the batched path — every other caller (and any non-CTR context) gets OpenSSL directly.
// The batch lives in the context's app_data, which libssh2 never uses, and is wiped and freed
// when libssh2 frees the context. SWAPDEV_SSH_KEYSTREAM=0 turns the layer off, =evp keeps only
// this hook (A/B benches).
//
// The direct path: even batched, each 16-byte block still costs libssh2's chain crypt method →
// _libssh2_cipher_crypt → EVP_Cipher (through the PLT) → memcpy of the block back from a stack
// buffer — ~20% of the I/O thread in a bulk transfer, half of it the memcpy. With exactly
// libssh2 1.10.0 loaded, the setup below finds libssh2's three aes*-ctr method tables in its
// read-only-after-relocation data, recognised field by field (name, block/IV/key sizes, flags,
// code pointers into libssh2, the EVP_aes_*_ctr constructor), and points their `crypt` entry at
// `direct_crypt`, which XORs the block in place from the same batch. Any mismatch — another
// libssh2, a layout that does not check out, mprotect refused — leaves the tables alone and the
// EVP_Cipher hook serves as before. The struct layouts below are libssh2 1.10.0's (crypt.c,
// libssh2_priv.h, openssl.h with OpenSSL ≥ 1.1's opaque contexts).
#if defined(__linux__)
#define _GNU_SOURCE 1  // RTLD_NEXT, dl_iterate_phdr: before any system header
#endif
#include "CSSHKeystream.h"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEYSTREAM_BYTES 4096

typedef struct keystream {
    /// Next unused byte of `bytes`; KEYSTREAM_BYTES when a new batch is needed.
    size_t offset;
    unsigned char bytes[KEYSTREAM_BYTES];
} keystream;

/// app_data of a libssh2 context that is not CTR: pass it through without asking again.
static char passthrough_marker;
#define PASSTHROUGH ((void *)&passthrough_marker)

typedef int (*cipher_function)(EVP_CIPHER_CTX *, unsigned char *, const unsigned char *, unsigned int);
typedef void (*free_function)(EVP_CIPHER_CTX *);

/// libssh2 1.10.0's LIBSSH2_CRYPT_METHOD (libssh2_priv.h).
typedef int (*crypt_method_function)(void *session, unsigned char *block, size_t blocksize, void **abstract);
typedef struct libssh2_1_10_crypt_method {
    const char *name;
    const char *pem_annotation;
    int blocksize;
    int iv_len;
    int secret_len;
    long flags;
    void *init;
    crypt_method_function crypt;
    void *dtor;
    const EVP_CIPHER *(*algo)(void);
} libssh2_1_10_crypt_method;

/// libssh2 1.10.0's per-direction cipher state (crypt.c's `struct crypt_ctx`; `_libssh2_cipher_ctx`
/// is `EVP_CIPHER_CTX *` with OpenSSL's opaque structs).
typedef struct libssh2_1_10_crypt_context {
    int encrypt;
    const EVP_CIPHER *(*algo)(void);
    EVP_CIPHER_CTX *cipher;
} libssh2_1_10_crypt_context;

typedef struct address_range {
    uintptr_t start, end;
} address_range;

static cipher_function real_cipher;
static free_function real_free;
/// libssh2's code, its loaded segments (method names live in its read-only data; the gaps
/// between segments may be unreadable) and its RELRO data (where the method tables are).
#define MAX_SEGMENTS 8
static address_range libssh2_text, libssh2_relro, libssh2_segments[MAX_SEGMENTS];
static int libssh2_segment_count;
/// libssh2's own `crypt` method, for contexts the batch cannot serve.
static crypt_method_function libssh2_crypt;
static int enabled, direct_methods;
static uint64_t contexts_served, batches_made, direct_batches_made;

static int contains(address_range range, uintptr_t address, size_t length) {
    return address >= range.start && address <= range.end && length <= range.end - address;
}

static int in_libssh2_segment(uintptr_t address, size_t length) {
    for (int index = 0; index < libssh2_segment_count; index++)
        if (contains(libssh2_segments[index], address, length)) return 1;
    return 0;
}

static int find_libssh2(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size;
    (void)unused;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libssh2.so") == NULL) return 0;
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        address_range range = {(uintptr_t)(info->dlpi_addr + header->p_vaddr), 0};
        range.end = range.start + header->p_memsz;
        if (header->p_type == PT_LOAD) {
            if (header->p_flags & PF_X) libssh2_text = range;
            if (libssh2_segment_count < MAX_SEGMENTS) libssh2_segments[libssh2_segment_count++] = range;
        } else if (header->p_type == PT_GNU_RELRO) {
            libssh2_relro = range;
        }
    }
    return 1;
}

static int direct_crypt(void *session, unsigned char *block, size_t blocksize, void **abstract);

/// The method table of `name` if `candidate` is exactly libssh2 1.10.0's table for that cipher.
static int is_ctr_method(const libssh2_1_10_crypt_method *candidate, const char *name, int key_length,
                         const EVP_CIPHER *(*constructor)(void)) {
    uintptr_t name_address = (uintptr_t)candidate->name;
    size_t name_length = strlen(name) + 1;
    return constructor != NULL && candidate->algo == constructor && in_libssh2_segment(name_address, name_length) &&
           memcmp(candidate->name, name, name_length) == 0 && candidate->blocksize == 16 && candidate->iv_len == 16 &&
           candidate->secret_len == key_length && candidate->flags == 0 &&
           contains(libssh2_text, (uintptr_t)candidate->init, 1) && contains(libssh2_text, (uintptr_t)candidate->crypt, 1) &&
           contains(libssh2_text, (uintptr_t)candidate->dtor, 1);
}

/// Points libssh2 1.10.0's aes*-ctr `crypt` entries at `direct_crypt`; 1 when all three were.
static int install_direct_methods(void) {
    typedef const char *(*version_function)(int);
    version_function version = (version_function)dlsym(RTLD_DEFAULT, "libssh2_version");
    if (version == NULL || version(0) == NULL || strcmp(version(0), "1.10.0") != 0) return 0;
    if (libssh2_relro.end <= libssh2_relro.start || libssh2_text.end <= libssh2_text.start) return 0;
    const struct {
        const char *name;
        int key_length;
        const EVP_CIPHER *(*constructor)(void);
    } wanted[3] = {{"aes128-ctr", 16, EVP_aes_128_ctr}, {"aes192-ctr", 24, EVP_aes_192_ctr}, {"aes256-ctr", 32, EVP_aes_256_ctr}};
    libssh2_1_10_crypt_method *found[3] = {NULL, NULL, NULL};
    uintptr_t first = (libssh2_relro.start + 7) & ~(uintptr_t)7;
    for (uintptr_t address = first; contains(libssh2_relro, address, sizeof(libssh2_1_10_crypt_method)); address += 8) {
        libssh2_1_10_crypt_method *candidate = (libssh2_1_10_crypt_method *)address;
        for (int index = 0; index < 3; index++) {
            if (is_ctr_method(candidate, wanted[index].name, wanted[index].key_length, wanted[index].constructor)) {
                if (found[index] != NULL) return 0;  // two matches: not the layout we know
                found[index] = candidate;
            }
        }
    }
    // One shared crypt function (crypt.c's crypt_encrypt) in all three, or the layout is not 1.10.0's.
    if (found[0] == NULL || found[1] == NULL || found[2] == NULL || found[0]->crypt != found[1]->crypt ||
        found[0]->crypt != found[2]->crypt)
        return 0;
    libssh2_crypt = found[0]->crypt;
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0) return 0;
    for (int index = 0; index < 3; index++) {
        // An aligned pointer never straddles a page.
        void *page = (void *)((uintptr_t)&found[index]->crypt & ~((uintptr_t)page_size - 1));
        if (mprotect(page, (size_t)page_size, PROT_READ | PROT_WRITE) != 0) {
            // Leave every table as libssh2 made it: undo the ones already switched.
            for (int done = 0; done < index; done++) {
                void *earlier = (void *)((uintptr_t)&found[done]->crypt & ~((uintptr_t)page_size - 1));
                if (mprotect(earlier, (size_t)page_size, PROT_READ | PROT_WRITE) == 0) {
                    found[done]->crypt = libssh2_crypt;
                    mprotect(earlier, (size_t)page_size, PROT_READ);
                }
            }
            return 0;
        }
        found[index]->crypt = direct_crypt;
        mprotect(page, (size_t)page_size, PROT_READ);
    }
    return 1;
}

// Runs before main, after every shared library (libssh2, libcrypto) is loaded and initialised.
__attribute__((constructor)) static void keystream_setup(void) {
    real_cipher = (cipher_function)dlsym(RTLD_NEXT, "EVP_Cipher");
    real_free = (free_function)dlsym(RTLD_NEXT, "EVP_CIPHER_CTX_free");
    dl_iterate_phdr(find_libssh2, NULL);
    // SWAPDEV_SSH_KEYSTREAM: "0" turns the layer off, "evp" keeps only the EVP_Cipher hook.
    const char *setting = getenv("SWAPDEV_SSH_KEYSTREAM");
    int disabled = setting != NULL && strcmp(setting, "0") == 0;
    int hook_only = setting != NULL && strcmp(setting, "evp") == 0;
    enabled = !disabled && real_cipher != NULL && real_free != NULL && libssh2_text.end > libssh2_text.start;
    if (enabled && !hook_only) direct_methods = install_direct_methods();
}

static int called_from_libssh2(uintptr_t address) {
    return enabled && contains(libssh2_text, address, 1);
}

/// XORs `length` bytes with the context's keystream, making batches as needed (counted in
/// `batch_counter` too); -1 when OpenSSL failed.
static int keystream_apply(EVP_CIPHER_CTX *context, keystream *stream, unsigned char *out, const unsigned char *in,
                           size_t length, uint64_t *batch_counter) {
    while (length > 0) {
        if (stream->offset == KEYSTREAM_BYTES) {
            memset(stream->bytes, 0, KEYSTREAM_BYTES);
            if (real_cipher(context, stream->bytes, stream->bytes, KEYSTREAM_BYTES) < 0) return -1;
            stream->offset = 0;
            __atomic_add_fetch(&batches_made, 1, __ATOMIC_RELAXED);
            if (batch_counter != NULL) __atomic_add_fetch(batch_counter, 1, __ATOMIC_RELAXED);
        }
        size_t take = KEYSTREAM_BYTES - stream->offset;
        if (take > length) take = length;
        const unsigned char *key = stream->bytes + stream->offset;
        size_t index = 0;
        typedef uint64_t lanes __attribute__((vector_size(16)));  // SSE2 on every x86-64
        for (; index + 64 <= take; index += 64) {
            lanes word[4], pad[4];
            memcpy(word, in + index, 64);
            memcpy(pad, key + index, 64);
            for (int lane = 0; lane < 4; lane++) word[lane] ^= pad[lane];
            memcpy(out + index, word, 64);
        }
        for (; index + 8 <= take; index += 8) {
            uint64_t word, pad;
            memcpy(&word, in + index, 8);
            memcpy(&pad, key + index, 8);
            word ^= pad;
            memcpy(out + index, &word, 8);
        }
        for (; index < take; index++) out[index] = in[index] ^ key[index];
        stream->offset += take;
        out += take;
        in += take;
        length -= take;
    }
    return 0;
}

/// The context's keystream, created on first use; NULL for contexts that are not CTR.
static keystream *keystream_for(EVP_CIPHER_CTX *context) {
    void *data = EVP_CIPHER_CTX_get_app_data(context);
    if (data == PASSTHROUGH) return NULL;
    if (data != NULL) return (keystream *)data;
    const EVP_CIPHER *cipher = EVP_CIPHER_CTX_get0_cipher(context);
    if (cipher == NULL || EVP_CIPHER_get_mode(cipher) != EVP_CIPH_CTR_MODE) {
        EVP_CIPHER_CTX_set_app_data(context, PASSTHROUGH);
        return NULL;
    }
    keystream *stream = malloc(sizeof(keystream));
    if (stream == NULL) return NULL;  // out of memory: per-block calls still work
    stream->offset = KEYSTREAM_BYTES;
    EVP_CIPHER_CTX_set_app_data(context, stream);
    __atomic_add_fetch(&contexts_served, 1, __ATOMIC_RELAXED);
    return stream;
}

int EVP_Cipher(EVP_CIPHER_CTX *context, unsigned char *out, const unsigned char *in, unsigned int length) {
    if (context != NULL && in != NULL && out != NULL && called_from_libssh2((uintptr_t)__builtin_return_address(0))) {
        keystream *stream = keystream_for(context);
        if (stream != NULL) {
            // OpenSSL 3's EVP_Cipher returns the bytes written, -1 on failure (libssh2 checks != -1).
            return keystream_apply(context, stream, out, in, length, NULL) == 0 ? (int)length : -1;
        }
    }
    return real_cipher(context, out, in, length);
}

/// libssh2 1.10's largest packet (MAX_SSH_PACKET_LEN, the size of its send buffer).
#define LIBSSH2_MAX_PACKET 35000

// Encryption goes a packet at a time. libssh2's send loop (transport.c) calls `crypt` for each
// 16-byte block of a whole packet, in order, starting at the packet's length field — plaintext
// in the first block, so the first call knows the packet's size, XORs all of it, and the loop's
// remaining calls, recognised by context and block address, return at once. Decryption stays
// per call: the receive side decrypts whatever part of a packet has arrived.
// initial-exec: this file is linked into the executable, so its TLS sits at a fixed offset
// from the thread pointer — no __tls_get_addr call on the 2,000 skipped calls of a packet.
#define THREAD_LOCAL static __thread __attribute__((tls_model("initial-exec")))
THREAD_LOCAL const libssh2_1_10_crypt_context *packet_context;
THREAD_LOCAL const unsigned char *packet_next_block;
THREAD_LOCAL size_t packet_blocks_left;

/// The bytes libssh2's send loop will encrypt for the packet starting at `block` (its length
/// field + 4); 16 when that does not describe a whole packet of whole blocks.
static size_t encrypted_packet_length(const unsigned char *block) {
    size_t total = (((size_t)block[0] << 24) | ((size_t)block[1] << 16) | ((size_t)block[2] << 8) | block[3]) + 4;
    return total % 16 == 0 && total <= LIBSSH2_MAX_PACKET ? total : 16;
}

static int direct_crypt_call(void *session, unsigned char *block, size_t blocksize, void **abstract);

/// libssh2's `crypt` method for aes*-ctr once the tables are switched. Returns 0 on success like
/// crypt.c's crypt_encrypt. Kept tiny (no frame) for the calls of a packet already encrypted.
static int direct_crypt(void *session, unsigned char *block, size_t blocksize, void **abstract) {
    if (__builtin_expect(packet_blocks_left > 0, 1) && block == packet_next_block && blocksize == 16 &&
        *(libssh2_1_10_crypt_context **)abstract == packet_context) {
        packet_blocks_left--;
        packet_next_block += 16;
        return 0;  // already encrypted with its packet's first block
    }
    return direct_crypt_call(session, block, blocksize, abstract);
}

/// A call that does work: a packet's first block (encrypting), or any decryption. XORs in place
/// from the batch.
__attribute__((noinline)) static int direct_crypt_call(void *session, unsigned char *block, size_t blocksize,
                                                       void **abstract) {
    const libssh2_1_10_crypt_context *context = *(libssh2_1_10_crypt_context **)abstract;
    packet_blocks_left = 0;
    keystream *stream = keystream_for(context->cipher);
    if (stream == NULL) return libssh2_crypt(session, block, blocksize, abstract);
    size_t length = context->encrypt && blocksize == 16 ? encrypted_packet_length(block) : blocksize;
    if (keystream_apply(context->cipher, stream, block, block, length, &direct_batches_made) != 0) return 1;
    if (length > blocksize) {
        packet_context = context;
        packet_next_block = block + 16;
        packet_blocks_left = length / 16 - 1;
    }
    return 0;
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *context) {
    if (context != NULL && called_from_libssh2((uintptr_t)__builtin_return_address(0))) {
        void *data = EVP_CIPHER_CTX_get_app_data(context);
        if (data != NULL && data != PASSTHROUGH) {
            // Keystream with the ciphertext gives the plaintext: wipe it.
            explicit_bzero(data, sizeof(keystream));
            free(data);
        }
        EVP_CIPHER_CTX_set_app_data(context, NULL);
    }
    real_free(context);
}

swapdev_keystream_stats swapdev_keystream_snapshot(void) {
    swapdev_keystream_stats stats;
    stats.active = enabled;
    stats.direct_methods = direct_methods;
    stats.contexts = __atomic_load_n(&contexts_served, __ATOMIC_RELAXED);
    stats.batches = __atomic_load_n(&batches_made, __ATOMIC_RELAXED);
    stats.direct_batches = __atomic_load_n(&direct_batches_made, __ATOMIC_RELAXED);
    return stats;
}

int swapdev_keystream_compare(const uint8_t key[16], const uint8_t iv[16], const uint8_t *data, size_t length,
                              const size_t *chunks, size_t chunk_count, uint8_t *batched, uint8_t *direct) {
    if (real_cipher == NULL || real_free == NULL || chunk_count == 0) return -1;
    EVP_CIPHER_CTX *first = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX *second = EVP_CIPHER_CTX_new();
    int result = -1;
    if (first != NULL && second != NULL && EVP_CipherInit(first, EVP_aes_128_ctr(), key, iv, 1) == 1 &&
        EVP_CipherInit(second, EVP_aes_128_ctr(), key, iv, 1) == 1) {
        keystream stream = {.offset = KEYSTREAM_BYTES};
        result = 0;
        for (size_t done = 0, turn = 0; done < length && result == 0; turn++) {
            size_t step = chunks[turn % chunk_count];
            if (step == 0 || step > length - done) step = length - done;
            result = keystream_apply(first, &stream, batched + done, data + done, step, NULL);
            done += step;
        }
        explicit_bzero(&stream, sizeof stream);
        if (result == 0 && length > 0 && real_cipher(second, direct, data, (unsigned int)length) < 0) result = -1;
    }
    if (first != NULL) real_free(first);
    if (second != NULL) real_free(second);
    return result;
}

#else  // Not Linux: no hook (libssh2 keeps its per-block calls).

swapdev_keystream_stats swapdev_keystream_snapshot(void) {
    swapdev_keystream_stats stats = {0, 0, 0, 0, 0};
    return stats;
}

int swapdev_keystream_compare(const uint8_t key[16], const uint8_t iv[16], const uint8_t *data, size_t length,
                              const size_t *chunks, size_t chunk_count, uint8_t *batched, uint8_t *direct) {
    (void)key; (void)iv; (void)data; (void)length; (void)chunks; (void)chunk_count; (void)batched; (void)direct;
    return -1;
}
#endif
