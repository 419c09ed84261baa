/* SPDX-License-Identifier: Apache-2.0 */
/* The receiving side of the AES-GCM channel as both ends use it (the daemon's channel_gcm.c,
 * libshuffle's link_gcm.c): ciphertext read from the socket and not yet fed to the reader, and
 * the last verified segment's plaintext not yet handed out. No I/O: the caller reads into
 * gcm_inbox_space and takes plaintext out with gcm_inbox_take. */
#ifndef SHUFFLED_CRYPTO_GCM_INBOX_H
#define SHUFFLED_CRYPTO_GCM_INBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/gcm_message.h"

struct gcm_inbox {
    struct gcm_reader reader;
    uint8_t *raw; /* raw_cap bytes while allocated */
    size_t raw_cap, raw_off, raw_len;
    uint8_t *plain; /* inside the reader */
    size_t plain_off, plain_len;
    int error;          /* sticky errno once a message did not verify */
    uint64_t decrypted; /* plaintext bytes handed out */
};

/* raw_cap: how much ciphertext one read may bring. 0, or -1 (out of memory, a bad key). */
int gcm_inbox_init(struct gcm_inbox *in, const uint8_t *key, size_t key_len, size_t raw_cap);
void gcm_inbox_free(struct gcm_inbox *in);

/* Puts up to len bytes of verified plaintext in out, feeding held ciphertext to the reader as
 * needed: a segment lying whole in the input buffer is decrypted where it lies, straight into
 * out when its plaintext fits (no copy), else in place and copied from there. Returns the
 * bytes given (0: more ciphertext is needed), or -1 with errno (EBADMSG, ENOMEM; it stays so).
 * Like read(2), out beyond the bytes returned may have been written (a segment that did not
 * verify). */
ssize_t gcm_inbox_take(struct gcm_inbox *in, uint8_t *out, size_t len);
/* Where the next read from the socket goes, and how much fits: NULL when out of memory.
 * gcm_inbox_filled(in, n) once n bytes are there. Call it only when take returned 0 (the
 * plaintext not handed out yet may lie in the input buffer). */
uint8_t *gcm_inbox_space(struct gcm_inbox *in, size_t *room);
void gcm_inbox_filled(struct gcm_inbox *in, size_t n);
/* Bytes held that no socket event will announce (plaintext and unfed ciphertext). */
size_t gcm_inbox_pending(const struct gcm_inbox *in);
/* Sets how much one read may bring from the next allocation of the input buffer on; frees it
 * now if it holds nothing (call when take returned 0). */
void gcm_inbox_resize(struct gcm_inbox *in, size_t raw_cap);
/* Gives the buffers back when no message is half read and nothing is held. */
void gcm_inbox_trim(struct gcm_inbox *in);
/* Bytes of memory held. */
size_t gcm_inbox_memory(const struct gcm_inbox *in);
/* Puts bytes already read (at most raw_cap, into an empty inbox) in front of the next read. */
int gcm_inbox_push(struct gcm_inbox *in, const uint8_t *bytes, size_t n);

#endif
