/* SPDX-License-Identifier: Apache-2.0 */
/* What the AES channels (channel_aes.c: CTR and the cipher pick; channel_gcm.c: GCM) share:
 * one struct, and the held-back-ciphertext window through which both write. Private to those
 * files; the connection code sees channel.h and channel_aes.h.
 *
 * The window: a write fills it with the ciphertext of the next piece of plaintext (fill),
 * counts that plaintext taken, and writes it; what the socket did not take is held and leaves
 * first on the next write or channel_flush. CTR appends until the window is full and keeps the
 * last one for a body that follows at once (more); GCM writes each sealed message before the
 * next. A call stops when the socket is full, so at most one window is held; a window beyond
 * CHANNEL_AES_KEEP is freed whenever nothing is held. */
#ifndef SHUFFLED_SERVER_NET_CHANNEL_CIPHER_H
#define SHUFFLED_SERVER_NET_CHANNEL_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "crypto/aes_session.h"
#include "crypto/ctr_stream.h"
#include "crypto/gcm_inbox.h"
#include "crypto/gcm_message.h"
#include "server/net/channel.h"

#ifndef CHANNEL_AES_WINDOW
#define CHANNEL_AES_WINDOW (64 * 1024) /* CTR's window */
#endif
/* A window larger than this is freed whenever nothing encrypted is pending. */
#define CHANNEL_AES_KEEP 4096
/* GCM's input buffer (channel_gcm.c) */
#define CHANNEL_GCM_RAW 16384

/* Which channel ciphers an undecided channel may pick (crypto_cipher; Spark's
 * spark.network.crypto.cipher, which nothing in the handshake announces). CTR is the default.
 * AUTO tells them apart by the client's first AES_PICK_BYTES: a GCM message starts with its
 * plaintext length and Tink's header-length byte (gcm_message_start_plausible), which a CTR
 * stream's first bytes match with probability about 2^-39; otherwise CTR as before. */
enum channel_aes_cipher { CHANNEL_AES_CTR, CHANNEL_AES_GCM, CHANNEL_AES_AUTO };
/* Optional calls out of an AES channel, for metrics: once the session and cipher are picked,
 * and as plaintext bytes are decrypted and encrypted. */
struct channel_aes_hooks {
    void (*decided)(void *arg, int protocol, bool gcm);
    void (*bytes)(void *arg, uint64_t decrypted, uint64_t encrypted);
};
struct cipher_channel {
    struct channel base;
    struct channel *inner;
    int protocol; /* enum aes_protocol, -1 while undecided */
    bool gcm;     /* the GCM channel once decided (else CTR) */
    /* CTR */
    struct ctr_stream rd, wr;
    /* GCM: the session key for sealing, and what was received and not yet handed out */
    struct gcm_key seal_key;
    struct gcm_inbox inbox;
    uint64_t gcm_encrypted;
    size_t gcm_building; /* plaintext placed in the window for a message not yet sealed */
    /* undecided: the candidates, which ciphers may be picked, the client's first bytes */
    struct aes_session cand[2];
    int ncand;
    int allow; /* enum channel_aes_cipher */
    uint8_t hold[AES_PICK_BYTES];
    size_t held, hold_out; /* bytes in hold; of those, handed out as plaintext (CTR) */
    const struct channel_aes_hooks *hooks;
    void *hooks_arg;
    /* ciphertext whose plaintext the caller was told is written: win[pend_off..pend_end) */
    uint8_t *win;
    size_t win_cap, pend_off, pend_end;
};

static inline struct cipher_channel *cipher_of(struct channel *ch)
{
    return (struct cipher_channel *)(void *)ch;
}

/* Makes the window at least want bytes (at most max). 0, or -1 (out of memory). */
int cipher_window_reserve(struct cipher_channel *c, size_t want, size_t max);

/* Writes the ciphertext of n more bytes of the source's plaintext, starting done bytes in,
 * into the window (pend_off = 0, pend_end = its length). Returns the plaintext bytes taken
 * (>= 1), 0 when a file ended, or -1 with errno. */
typedef ssize_t (*cipher_fill_fn)(struct cipher_channel *c, const void *src, size_t done, size_t n);
/* The write loop of writev and sendfile over total plaintext bytes (see above). */
ssize_t cipher_write(struct cipher_channel *c, size_t total, bool more, cipher_fill_fn fill,
                     const void *src);

/* The sources fill reads from. */
struct cipher_iov_src {
    const struct iovec *iov;
    int iovcnt;
    bool more; /* the writer's: further bytes follow at once */
};
struct cipher_file_src {
    int fd;
    uint64_t offset;
};
static inline size_t cipher_iov_total(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    return total;
}

/* Copies n bytes of the iovecs' plaintext, from skip bytes in, to out. */
void cipher_iov_copy(const struct cipher_iov_src *s, size_t skip, uint8_t *out, size_t n);

/* The channel_ops both ciphers share. */
int cipher_flush(struct channel *ch);
void cipher_cork(struct channel *ch, bool on);
void cipher_destroy(struct channel *ch);
size_t cipher_memory(struct channel *ch, bool output);

/* Reports plaintext bytes newly decrypted / encrypted to the hooks (metrics). */
void cipher_count(struct cipher_channel *c, uint64_t decrypted, uint64_t encrypted);

#endif
