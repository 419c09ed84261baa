/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 4.0's AES-GCM channel messages; see gcm_message.h. */
#include <config.h>

#include "crypto/gcm_message.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"

uint64_t gcm_message_len(size_t key_len, uint64_t n)
{
    uint64_t rest = n % GCM_SEGMENT_PLAIN;
    return GCM_LENGTH_LEN + gcm_header_len(key_len) + (n / GCM_SEGMENT_PLAIN) * GCM_SEGMENT_LEN +
           (rest ? rest + CRYPTO_GCM_TAG_LEN : 0);
}

uint64_t gcm_message_len_400(size_t key_len, uint64_t n)
{
    /* Tink's expectedCiphertextSize counts the header into segment 0 */
    uint64_t with_header = n + gcm_header_len(key_len);
    uint64_t rest = with_header % GCM_SEGMENT_PLAIN;
    return GCM_LENGTH_LEN + (with_header / GCM_SEGMENT_PLAIN) * GCM_SEGMENT_LEN +
           (rest ? rest + CRYPTO_GCM_TAG_LEN : 0);
}

void gcm_message_place(size_t key_len, uint8_t *msg, const uint8_t *plain, size_t n)
{
    for (size_t at = 0, i = 0; at < n; at += GCM_SEGMENT_PLAIN, i++)
        memcpy(msg + gcm_segment_offset(key_len, i), plain + at,
               n - at < GCM_SEGMENT_PLAIN ? n - at : GCM_SEGMENT_PLAIN);
}

int gcm_key_init(struct gcm_key *k, const uint8_t *key, size_t key_len)
{
    memset(k, 0, sizeof *k);
    const EVP_CIPHER *cipher = crypto_aes_cipher(key_len, 1);
    /* the cipher is set once: naming it again on every key change would make OpenSSL fetch
     * it and rebuild the context each time */
    if (!cipher || !(k->ctx = EVP_CIPHER_CTX_new()) ||
        EVP_CipherInit_ex(k->ctx, cipher, NULL, NULL, NULL, 1) != 1 ||
        !(k->hkdf = crypto_hkdf_new(key, key_len)))
        return -1;
    memcpy(k->key, key, key_len);
    k->key_len = key_len;
    return 0;
}

void gcm_key_free(struct gcm_key *k)
{
    EVP_CIPHER_CTX_free(k->ctx);
    crypto_hkdf_free(k->hkdf);
    OPENSSL_cleanse(k, sizeof *k);
}

/* Loads the segment key of a message (its L bytes and salt) into k's context. */
static int load_segment_key(struct gcm_key *k, const uint8_t *length, const uint8_t *salt, int enc)
{
    uint8_t seg_key[32];
    int ok = crypto_hkdf_derive(k->hkdf, salt, k->key_len, length, GCM_LENGTH_LEN, seg_key,
                                k->key_len) == 0 &&
             EVP_CipherInit_ex(k->ctx, NULL, NULL, seg_key, NULL, enc) == 1;
    OPENSSL_cleanse(seg_key, sizeof seg_key);
    return ok ? 0 : -1;
}

/* Seals or opens one segment: len bytes of text at in to out (the same place, or apart), its
 * tag at tag. */
static int run_segment(struct gcm_key *k, const uint8_t *prefix, uint32_t i, bool last,
                       const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag, int enc)
{
    uint8_t nonce[CRYPTO_GCM_IV_LEN];
    memcpy(nonce, prefix, GCM_NONCE_PREFIX_LEN);
    proto_store_u32(nonce + GCM_NONCE_PREFIX_LEN, i);
    nonce[CRYPTO_GCM_IV_LEN - 1] = last ? 1 : 0;
    int n = 0;
    if (EVP_CipherInit_ex(k->ctx, NULL, NULL, NULL, nonce, enc) != 1 ||
        (len && EVP_CipherUpdate(k->ctx, out, &n, in, (int)len) != 1))
        return -1;
    if (!enc && EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
        return -1;
    if (EVP_CipherFinal_ex(k->ctx, out + len, &n) != 1)
        return -1;
    if (enc && EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
        return -1;
    return 0;
}

int gcm_sealing_start(struct gcm_key *k, const struct crypto_rng *rng, struct gcm_sealing *s,
                      uint8_t *head, uint64_t n, uint64_t announced)
{
    proto_store_u64(head, announced);
    head[GCM_LENGTH_LEN] = (uint8_t)gcm_header_len(k->key_len);
    uint8_t *salt = head + GCM_LENGTH_LEN + 1, *prefix = salt + k->key_len;
    if (crypto_random(rng, salt, k->key_len + GCM_NONCE_PREFIX_LEN) != 0 ||
        load_segment_key(k, head, salt, 1) != 0)
        return -1;
    memcpy(s->prefix, prefix, GCM_NONCE_PREFIX_LEN);
    s->left = n;
    s->seg = 0;
    return 0;
}

int gcm_sealing_next(struct gcm_key *k, struct gcm_sealing *s, uint8_t *p)
{
    size_t len = gcm_sealing_next_len(s);
    bool last = len == s->left;
    if (!len || run_segment(k, s->prefix, s->seg, last, p, p, len, p + len, 1) != 0)
        return -1;
    s->left -= len;
    s->seg++;
    return 0;
}

int gcm_message_seal(struct gcm_key *k, const struct crypto_rng *rng, uint8_t *msg, size_t n)
{
    return gcm_message_seal_announcing(k, rng, msg, n, gcm_message_len(k->key_len, n));
}

int gcm_message_seal_announcing(struct gcm_key *k, const struct crypto_rng *rng, uint8_t *msg,
                                size_t n, uint64_t announced)
{
    struct gcm_sealing s;
    if (gcm_sealing_start(k, rng, &s, msg, n, announced) != 0)
        return -1;
    for (size_t i = 0; s.left; i++)
        if (gcm_sealing_next(k, &s, msg + gcm_segment_offset(k->key_len, i)) != 0)
            return -1;
    return 0;
}

/* ---- reading ---- */

int gcm_reader_init(struct gcm_reader *r, const uint8_t *key, size_t key_len)
{
    memset(r, 0, sizeof *r);
    return gcm_key_init(&r->k, key, key_len);
}

void gcm_reader_free(struct gcm_reader *r)
{
    gcm_key_free(&r->k);
    free(r->buf);
    OPENSSL_cleanse(r, sizeof *r);
}

bool gcm_reader_idle(const struct gcm_reader *r)
{
    return r->head_got == 0;
}

size_t gcm_reader_memory(const struct gcm_reader *r)
{
    return r->buf ? GCM_SEGMENT_LEN : 0;
}

static size_t head_len(const struct gcm_reader *r)
{
    return GCM_LENGTH_LEN + gcm_header_len(r->k.key_len);
}

/* The length and header are in: check them, load the segment key. */
static int start_message(struct gcm_reader *r)
{
    uint64_t total = proto_load_u64(r->head);
    size_t hl = head_len(r);
    if (total < hl || total > GCM_MAX_MESSAGE || r->head[GCM_LENGTH_LEN] != hl - GCM_LENGTH_LEN ||
        load_segment_key(&r->k, r->head, r->head + GCM_LENGTH_LEN + 1, 0) != 0)
        return -1;
    r->left = total - hl;
    r->seg = 0;
    r->buf_got = 0;
    r->tried_short = false;
    return 0;
}

static void end_message(struct gcm_reader *r)
{
    r->head_got = 0;
    r->messages++;
    /* the buffer stays for the next message of a busy stream; the owner may drop it idle */
}

/* Opens len bytes at in (text and tag) as segment seg, the plaintext to out. */
static int open_segment(struct gcm_reader *r, const uint8_t *in, uint8_t *out, size_t len,
                        bool last)
{
    const uint8_t *prefix = r->head + GCM_LENGTH_LEN + 1 + r->k.key_len;
    size_t text = len - CRYPTO_GCM_TAG_LEN;
    uint8_t tag[CRYPTO_GCM_TAG_LEN]; /* out may be in: the tag is read before it is overwritten */
    if (len < CRYPTO_GCM_TAG_LEN)
        return -1;
    memcpy(tag, in + text, sizeof tag);
    return run_segment(&r->k, prefix, r->seg, last, in, out, text, tag, 0);
}

/* Opens what the segment has so far as the last one, on a copy: a failed try must leave the
 * bytes as they came (a fixed sender's segment is then still being received). */
static int try_as_last(struct gcm_reader *r)
{
    uint8_t *copy = malloc(r->buf_got);
    if (!copy)
        return -1;
    memcpy(copy, r->buf, r->buf_got);
    int rc = open_segment(r, r->buf, r->buf, r->buf_got, true);
    if (rc != 0)
        memcpy(r->buf, copy, r->buf_got);
    OPENSSL_cleanse(copy, r->buf_got);
    free(copy);
    return rc;
}

/* The segment (ciphertext length want, the last one) has been opened to *plain: moves on. */
static void segment_done(struct gcm_reader *r, size_t want, bool last)
{
    r->left = last ? 0 : r->left - want;
    r->buf_got = 0;
    r->seg++;
    r->tried_short = false;
    if (last)
        end_message(r);
}

/* Takes the length and header from in; the bytes taken (all of n while more are needed), or
 * -1 with errno. *done: an empty message ended. */
static ssize_t take_head(struct gcm_reader *r, const uint8_t *in, size_t n, bool *done)
{
    size_t taken = 0;
    *done = false;
    while (r->head_got < head_len(r) && taken < n) {
        r->head[r->head_got++] = in[taken++];
        if (r->head_got == head_len(r)) {
            if (start_message(r) != 0) {
                errno = EBADMSG;
                return -1;
            }
            if (r->left == 0) { /* an empty message */
                end_message(r);
                *done = true;
                break;
            }
        }
    }
    return (ssize_t)taken;
}

/* Collects the segment in buf (some of it may have come before) and opens it there once whole. */
static ssize_t collect(struct gcm_reader *r, const uint8_t *in, size_t n, uint8_t **plain,
                       size_t *plain_len)
{
    if (!r->buf && !(r->buf = malloc(GCM_SEGMENT_LEN))) {
        errno = ENOMEM;
        return -1;
    }
    size_t want = r->left < GCM_SEGMENT_LEN ? (size_t)r->left : GCM_SEGMENT_LEN;
    size_t take = n < want - r->buf_got ? n : want - r->buf_got;
    memcpy(r->buf + r->buf_got, in, take);
    r->buf_got += take;
    /* bytes of the message not yet here once this segment is complete */
    uint64_t outstanding = r->left - r->buf_got;
    bool whole = r->buf_got == want;
    bool ok = false, last = false;
    /* A 4.0.0 sender announcing 16 bytes it never sends: what it did send is the last segment
     * (a fixed sender never ends a message with a tag-only segment) */
    if (!r->tried_short && outstanding == CRYPTO_GCM_TAG_LEN && r->buf_got >= CRYPTO_GCM_TAG_LEN) {
        r->tried_short = true;
        ok = last = try_as_last(r) == 0;
    }
    if (!ok && whole) {
        last = r->left == want;
        ok = open_segment(r, r->buf, r->buf, want, last) == 0;
    }
    if (whole && !ok) {
        errno = EBADMSG;
        return -1;
    }
    if (!ok)
        return (ssize_t)take; /* more of the segment to come */
    *plain = r->buf;
    *plain_len = r->buf_got - CRYPTO_GCM_TAG_LEN;
    segment_done(r, r->buf_got, last);
    return (ssize_t)take;
}

/* Both feeds: with a writable in, a segment that lies whole in it (none of it taken before,
 * and not the one the 4.0.0 reading must try first) is opened where it lies, to out when
 * out_room holds its plaintext, else in place. */
static ssize_t feed(struct gcm_reader *r, const uint8_t *in, uint8_t *in_rw, size_t n, uint8_t *out,
                    size_t out_room, uint8_t **plain, size_t *plain_len)
{
    *plain_len = 0;
    bool done;
    ssize_t head = take_head(r, in, n, &done);
    if (head < 0 || done || r->head_got < head_len(r))
        return head;
    size_t taken = (size_t)head;
    if (taken == n)
        return (ssize_t)taken;
    size_t want = r->left < GCM_SEGMENT_LEN ? (size_t)r->left : GCM_SEGMENT_LEN;
    bool trial = !r->tried_short && r->left - want == CRYPTO_GCM_TAG_LEN;
    if (in_rw && r->buf_got == 0 && n - taken >= want && !trial) {
        bool last = r->left == want;
        uint8_t *to = out && out_room >= want - CRYPTO_GCM_TAG_LEN ? out : in_rw + taken;
        if (open_segment(r, in_rw + taken, to, want, last) != 0) {
            errno = EBADMSG;
            return -1;
        }
        *plain = to;
        *plain_len = want - CRYPTO_GCM_TAG_LEN;
        segment_done(r, want, last);
        return (ssize_t)(taken + want);
    }
    ssize_t got = collect(r, in + taken, n - taken, plain, plain_len);
    return got < 0 ? -1 : (ssize_t)taken + got;
}

ssize_t gcm_reader_feed(struct gcm_reader *r, const uint8_t *in, size_t n, uint8_t **plain,
                        size_t *plain_len)
{
    return feed(r, in, NULL, n, NULL, 0, plain, plain_len);
}

ssize_t gcm_reader_feed_direct(struct gcm_reader *r, uint8_t *in, size_t n, uint8_t *out,
                               size_t out_room, uint8_t **plain, size_t *plain_len)
{
    return feed(r, in, in, n, out, out_room, plain, plain_len);
}

bool gcm_message_start_plausible(const uint8_t first[9], size_t *key_len)
{
    size_t kl = first[8] == gcm_header_len(16) ? 16 : first[8] == gcm_header_len(32) ? 32 : 0;
    uint64_t total = proto_load_u64(first);
    if (!kl || total < GCM_LENGTH_LEN + gcm_header_len(kl) + CRYPTO_GCM_TAG_LEN ||
        total > GCM_MAX_MESSAGE)
        return false;
    *key_len = kl;
    return true;
}
