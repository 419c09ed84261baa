/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as Spark 4.0's AES-GCM channel messages (src/crypto/
 * gcm_message.c), which a client sends the daemon after the AES handshake. The first byte
 * picks the key size and how the bytes are split; the reader must refuse or deliver without
 * crashing, and (under a key the input does not know) deliver nothing. The same bytes as
 * plaintext, sealed and fed back in pieces, must come out whole. Both feeds: the copying one and
 * gcm_reader_feed_direct (segments opened where they lie, into the caller's room when it fits).
 * Linked with libcrypto. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/gcm_message.h"

static int counter_rng(void *ctx, uint8_t *out, size_t n)
{
    uint8_t *c = ctx;
    for (size_t i = 0; i < n; i++)
        out[i] = (*c)++;
    return 0;
}

/* Feeds in[0, n) piece bytes at a time (by gcm_reader_feed_direct when direct: in is then
 * scribbled on); the plaintext delivered goes to out (if not NULL, with n bytes of room). */
static size_t feed_all(struct gcm_reader *r, uint8_t *in, size_t n, size_t piece, bool direct,
                       uint8_t *out)
{
    size_t got = 0;
    for (size_t at = 0; at < n;) {
        size_t len = n - at < piece ? n - at : piece;
        uint8_t *plain;
        size_t plen;
        ssize_t took = direct ? gcm_reader_feed_direct(r, in + at, len, out ? out + got : NULL,
                                                       out ? n - got : 0, &plain, &plen)
                              : gcm_reader_feed(r, in + at, len, &plain, &plen);
        if (took < 0)
            break;
        if (took == 0 && plen == 0)
            abort(); /* no progress */
        if (out && plain != out + got)
            memcpy(out + got, plain, plen);
        got += plen;
        at += (size_t)took;
    }
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t key_len = data[0] & 1 ? 32 : 16, piece = 1 + (data[0] >> 1) * 97;
    data++;
    size--;
    uint8_t key[32];
    memset(key, 0x42, sizeof key);

    struct gcm_reader r;
    uint8_t *copy = malloc(size + 1);
    for (int direct = 0; direct < 2; direct++) {
        memcpy(copy, data, size);
        if (gcm_reader_init(&r, key, key_len) != 0)
            abort();
        if (feed_all(&r, copy, size, piece, direct, NULL) != 0)
            abort(); /* a forgery under a key the input cannot know */
        gcm_reader_free(&r);
    }
    free(copy);

    struct gcm_key k;
    if (gcm_key_init(&k, key, key_len) != 0)
        abort();
    size_t total = (size_t)gcm_message_len(key_len, size);
    uint8_t *msg = calloc(1, total), *sealed = malloc(total), *back = malloc(total + 1);
    uint8_t counter = size ? data[0] : 0;
    gcm_message_place(key_len, msg, data, size);
    struct crypto_rng rng = {counter_rng, &counter};
    if (gcm_message_seal(&k, &rng, msg, size) != 0)
        abort();
    for (int direct = 0; direct < 2; direct++) {
        memcpy(sealed, msg, total);
        if (gcm_reader_init(&r, key, key_len) != 0)
            abort();
        if (feed_all(&r, sealed, total, piece, direct, back) != size ||
            memcmp(back, data, size) != 0 || !gcm_reader_idle(&r) || r.messages != 1)
            abort();
        gcm_reader_free(&r);
    }
    gcm_key_free(&k);
    free(msg);
    free(sealed);
    free(back);
    return 0;
}
