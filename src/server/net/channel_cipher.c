/* SPDX-License-Identifier: Apache-2.0 */
/* The held-back-ciphertext window of the AES channels; see channel_cipher.h. */
#include <config.h>

#include "server/net/channel_cipher.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int cipher_window_reserve(struct cipher_channel *c, size_t want, size_t max)
{
    if (want > max)
        want = max;
    if (c->win_cap >= want)
        return 0;
    uint8_t *w = realloc(c->win, want);
    if (!w)
        return -1;
    c->win = w;
    c->win_cap = want;
    return 0;
}

/* An idle connection holds no large window: once everything encrypted has left, a window
 * beyond CHANNEL_AES_KEEP goes back (10,000 idle connections must stay cheap). */
static void release_if_idle(struct cipher_channel *c)
{
    if (c->pend_end == c->pend_off && !c->gcm_building && c->win_cap > CHANNEL_AES_KEEP) {
        free(c->win);
        c->win = NULL;
        c->win_cap = 0;
    }
}

/* Writes the held ciphertext. 0 when none is left, -1 (errno from the socket) otherwise. */
static int flush_held(struct cipher_channel *c, bool more)
{
    while (c->pend_off < c->pend_end) {
        struct iovec v = {c->win + c->pend_off, c->pend_end - c->pend_off};
        ssize_t w = channel_writev(c->inner, &v, 1, more);
        if (w < 0)
            return -1;
        c->pend_off += (size_t)w;
    }
    c->pend_off = c->pend_end = 0;
    return 0;
}

ssize_t cipher_write(struct cipher_channel *c, size_t total, bool more, cipher_fill_fn fill,
                     const void *src)
{
    if (c->protocol < 0) {
        errno = EPROTO;
        return -1;
    }
    size_t taken = 0;
    for (;;) {
        /* CTR appends to the window and writes it when full, or at the end unless more (the
         * caller's next bytes follow at once, as a chunk's body follows its header: both then
         * leave in one write). GCM writes each sealed message before the next (it keeps such a
         * header unsealed instead, channel_gcm.c). */
        bool held = c->pend_off < c->pend_end;
        bool full = c->gcm || c->pend_end == CHANNEL_AES_WINDOW;
        if (held && (full || (taken == total && !more))) {
            if (flush_held(c, more || taken < total) < 0)
                break; /* EAGAIN: the socket is full; the window keeps the rest */
            continue;
        }
        if (taken == total)
            break;
        ssize_t got = fill(c, src, taken, total - taken);
        if (got <= 0) {
            if (got == 0 && taken == 0)
                return 0; /* the file is shorter than the caller thought */
            break;
        }
        taken += (size_t)got;
    }
    int saved = errno;
    release_if_idle(c);
    errno = saved;
    return taken ? (ssize_t)taken : -1;
}

int cipher_flush(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    int rc = flush_held(c, false), saved = errno;
    release_if_idle(c);
    errno = saved;
    return rc;
}

void cipher_cork(struct channel *ch, bool on)
{
    channel_cork(cipher_of(ch)->inner, on);
}

void cipher_destroy(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    channel_destroy(c->inner);
    ctr_stream_free(&c->rd);
    ctr_stream_free(&c->wr);
    gcm_key_free(&c->seal_key);
    gcm_inbox_free(&c->inbox);
    free(c->win);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

void cipher_count(struct cipher_channel *c, uint64_t decrypted, uint64_t encrypted)
{
    if (c->hooks && c->hooks->bytes)
        c->hooks->bytes(c->hooks_arg, decrypted, encrypted);
}

size_t cipher_memory(struct channel *ch, bool output)
{
    struct cipher_channel *c = cipher_of(ch);
    if (output)
        return c->win_cap;
    return gcm_inbox_memory(&c->inbox);
}

void cipher_iov_copy(const struct cipher_iov_src *s, size_t skip, uint8_t *out, size_t n)
{
    for (int i = 0; i < s->iovcnt && n; i++) {
        size_t l = s->iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        size_t take = l - skip < n ? l - skip : n;
        memcpy(out, (const uint8_t *)s->iov[i].iov_base + skip, take);
        out += take;
        n -= take;
        skip = 0;
    }
}
