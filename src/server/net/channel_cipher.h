/* SPDX-License-Identifier: Apache-2.0 */
/* What the AES channels (channel_aes.c: CTR and the cipher pick; channel_gcm.c: GCM) share:
 * one struct, and the held-back-ciphertext window through which both write to the socket
 * (send_window.h, also the TLS channel's). Private to those files; the connection code sees
 * channel.h and channel_aes.h.
 *
 * A write fills the window with the ciphertext of the next piece of plaintext and writes it;
 * what the socket did not take is held and leaves first on the next write or channel_flush.
 * CTR's window appends until full and keeps the last one for a body that follows at once
 * (more); GCM's writes the sealed segments of a message before the next and stages a segment
 * being filled.
 * A window beyond CHANNEL_AES_KEEP is freed whenever nothing is held. */
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
#include "server/net/send_window.h"

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
    /* GCM: the session key for sealing, the message being sealed (while sending_open; the
     * plaintext of its current segment is win.staged bytes, or before a message opens, of a
     * frame's header waiting for its body), what was received and not yet handed out */
    struct gcm_key seal_key;
    struct gcm_sealing sending;
    bool sending_open;
    struct gcm_inbox inbox;
    uint64_t gcm_encrypted;
    /* undecided: the candidates, which ciphers may be picked, the client's first bytes */
    struct aes_session cand[2];
    int ncand;
    int allow;        /* enum channel_aes_cipher */
    bool tls_records; /* the client's plaintext is TLS records (the cipher is under TLS) */
    uint8_t hold[AES_PICK_BYTES];
    size_t held, hold_out; /* bytes in hold; of those, handed out as plaintext (CTR) */
    const struct channel_aes_hooks *hooks;
    void *hooks_arg;
    /* ciphertext whose plaintext the caller was told is written */
    struct send_window win;
};

static inline struct cipher_channel *cipher_of(struct channel *ch)
{
    return (struct cipher_channel *)(void *)ch;
}

/* The write of writev and sendfile over total plaintext bytes: send_window_pump into the
 * socket, after the cipher is decided (EPROTO before). fill gets src, which starts with c. */
ssize_t cipher_write(struct cipher_channel *c, size_t total, bool more, send_window_fill_fn fill,
                     void *src);

/* The sources the fills read from. */
struct cipher_iov_src {
    struct cipher_channel *c;
    const struct iovec *iov;
    int iovcnt;
    bool more; /* the writer's: further bytes follow at once */
};
struct cipher_file_src {
    struct cipher_channel *c;
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

/* The channel_ops both ciphers share. */
int cipher_flush(struct channel *ch);
void cipher_cork(struct channel *ch, bool on);
void cipher_destroy(struct channel *ch);
size_t cipher_memory(struct channel *ch, bool output);

/* Reports plaintext bytes newly decrypted / encrypted to the hooks (metrics). */
void cipher_count(struct cipher_channel *c, uint64_t decrypted, uint64_t encrypted);

#endif
