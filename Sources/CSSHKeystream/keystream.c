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
// when libssh2 frees the context. SWAPDEV_SSH_KEYSTREAM=0 turns the layer off (A/B benches).
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

static cipher_function real_cipher;
static free_function real_free;
static uintptr_t libssh2_text_start, libssh2_text_end;
static int enabled;
static uint64_t contexts_served, batches_made;

static int find_libssh2(struct dl_phdr_info *info, size_t size, void *unused) {
    (void)size;
    (void)unused;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libssh2.so") == NULL) return 0;
    for (int index = 0; index < info->dlpi_phnum; index++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[index];
        if (header->p_type == PT_LOAD && (header->p_flags & PF_X)) {
            libssh2_text_start = (uintptr_t)(info->dlpi_addr + header->p_vaddr);
            libssh2_text_end = libssh2_text_start + header->p_memsz;
            return 1;
        }
    }
    return 0;
}

// Runs before main, after every shared library (libssh2, libcrypto) is loaded and initialised.
__attribute__((constructor)) static void keystream_setup(void) {
    real_cipher = (cipher_function)dlsym(RTLD_NEXT, "EVP_Cipher");
    real_free = (free_function)dlsym(RTLD_NEXT, "EVP_CIPHER_CTX_free");
    dl_iterate_phdr(find_libssh2, NULL);
    const char *setting = getenv("SWAPDEV_SSH_KEYSTREAM");
    int disabled = setting != NULL && strcmp(setting, "0") == 0;
    enabled = !disabled && real_cipher != NULL && real_free != NULL && libssh2_text_end > libssh2_text_start;
}

static int called_from_libssh2(uintptr_t address) {
    return enabled && address >= libssh2_text_start && address < libssh2_text_end;
}

/// XORs `length` bytes with the context's keystream, making batches as needed; -1 when OpenSSL failed.
static int keystream_apply(EVP_CIPHER_CTX *context, keystream *stream, unsigned char *out, const unsigned char *in,
                           size_t length) {
    while (length > 0) {
        if (stream->offset == KEYSTREAM_BYTES) {
            memset(stream->bytes, 0, KEYSTREAM_BYTES);
            if (real_cipher(context, stream->bytes, stream->bytes, KEYSTREAM_BYTES) < 0) return -1;
            stream->offset = 0;
            __atomic_add_fetch(&batches_made, 1, __ATOMIC_RELAXED);
        }
        size_t take = KEYSTREAM_BYTES - stream->offset;
        if (take > length) take = length;
        const unsigned char *key = stream->bytes + stream->offset;
        size_t index = 0;
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
            return keystream_apply(context, stream, out, in, length) == 0 ? (int)length : -1;
        }
    }
    return real_cipher(context, out, in, length);
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
    stats.contexts = __atomic_load_n(&contexts_served, __ATOMIC_RELAXED);
    stats.batches = __atomic_load_n(&batches_made, __ATOMIC_RELAXED);
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
            result = keystream_apply(first, &stream, batched + done, data + done, step);
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
    swapdev_keystream_stats stats = {0, 0, 0};
    return stats;
}

int swapdev_keystream_compare(const uint8_t key[16], const uint8_t iv[16], const uint8_t *data, size_t length,
                              const size_t *chunks, size_t chunk_count, uint8_t *batched, uint8_t *direct) {
    (void)key; (void)iv; (void)data; (void)length; (void)chunks; (void)chunk_count; (void)batched; (void)direct;
    return -1;
}
#endif
