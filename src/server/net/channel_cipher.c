/* SPDX-License-Identifier: Apache-2.0 */
/* What the AES channels share; see channel_cipher.h. */
#include <config.h>

#include "server/net/channel_cipher.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>

static ssize_t socket_drain(void *sink, const uint8_t *p, size_t n, bool more)
{
    struct iovec v = {(void *)p, n};
    return channel_writev(((struct cipher_channel *)sink)->inner, &v, 1, more);
}

ssize_t cipher_write(struct cipher_channel *c, size_t total, bool more, send_window_fill_fn fill,
                     void *src)
{
    if (c->protocol < 0) {
        errno = EPROTO;
        return -1;
    }
    return send_window_pump(&c->win, total, more, fill, src, socket_drain, c);
}

int cipher_flush(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    return send_window_flush(&c->win, socket_drain, c, false);
}

void cipher_cork(struct channel *ch, bool on)
{
    channel_cork(cipher_of(ch)->inner, on);
}

void cipher_destroy(struct channel *ch)
{
    struct cipher_channel *c = cipher_of(ch);
    if (c->inner) /* NULL: abandoned (channel_aes_abandon) */
        channel_destroy(c->inner);
    ctr_stream_free(&c->rd);
    ctr_stream_free(&c->wr);
    gcm_key_free(&c->seal_key);
    gcm_inbox_free(&c->inbox);
    send_window_free(&c->win);
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
        return c->win.cap;
    return gcm_inbox_memory(&c->inbox);
}
