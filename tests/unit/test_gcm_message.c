/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 4.0's AES-GCM channel messages (src/crypto/gcm_message) against every gcm-* recording
 * of ../shared/vectors-40: each direction of each connection, fed in pieces of several sizes,
 * decrypts to the message count, plaintext length and frame count its decoded.txt reports;
 * re-sealed with the recorded salt and nonce prefix, each message is the recorded bytes again.
 * Spark 4.0.0's over-announced lengths are delivered; tampering and bad lengths are refused.
 * The same through gcm_reader_feed_direct (segments opened where they lie, no copy). */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "crypto/gcm_inbox.h"
#include "crypto/gcm_message.h"
#include "gcm_vectors.h"

static unsigned count_frames(const uint8_t *p, size_t len)
{
    unsigned frames = 0;
    for (size_t at = 0; at < len; frames++) {
        ck_assert_uint_le(at + 8, len);
        uint64_t flen = proto_load_u64(p + at);
        ck_assert_uint_ge(flen, 9);
        ck_assert_uint_le(flen, len - at);
        at += (size_t)flen;
    }
    return frames;
}

START_TEST(every_recording_decrypts)
{
    static const size_t pieces[] = {SIZE_MAX, 1, 7, 4096, 32769};
    for (size_t i = 0; i < GCM_CAPTURES; i++) {
        struct gcm_expected e;
        gcm_expected_of(&gcm_captures[i], &e);
        for (size_t k = 0; k < sizeof pieces / sizeof *pieces; k++) {
            struct aes_capture cap;
            size_t len;
            uint8_t *plain = gcm_decrypt_capture(&gcm_captures[i], &e, pieces[k], &len, &cap);
            ck_assert_msg(len == e.plaintext, "%s/%s: %zu plaintext bytes, expected %zu",
                          gcm_captures[i].dir, gcm_captures[i].file, len, e.plaintext);
            ck_assert_uint_eq(count_frames(plain, len), e.frames);
            free(plain);
            free(cap.data);
        }
    }
}
END_TEST

/* Each recorded message of a sender whose L is the fixed rule, sealed again from its plaintext
 * with its recorded salt and nonce prefix, is the same bytes. */
/* The recordings again through gcm_reader_feed_direct, from a writable copy, in pieces and
 * with a caller's room below and above a segment's plaintext: the same plaintext as the copying
 * feed, and with whole pieces and room every segment goes straight to the caller's buffer. */
START_TEST(every_recording_decrypts_in_place)
{
    static const struct {
        size_t piece, room;
    } modes[] = {{SIZE_MAX, 65536}, {SIZE_MAX, 100}, {4096, 65536}, {32769, 65536}, {65536, 0}};
    for (size_t i = 0; i < GCM_CAPTURES; i++) {
        struct gcm_expected e;
        gcm_expected_of(&gcm_captures[i], &e);
        struct aes_capture cap;
        size_t want_len;
        uint8_t *want = gcm_decrypt_capture(&gcm_captures[i], &e, SIZE_MAX, &want_len, &cap);
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            uint8_t *in = malloc(cap.cipher_len + 1), *got = malloc(want_len + 65536);
            memcpy(in, cap.cipher, cap.cipher_len);
            struct gcm_reader r;
            ck_assert_int_eq(gcm_reader_init(&r, e.key, e.key_len), 0);
            size_t have = 0, segments = 0, straight = 0;
            for (size_t at = 0; at < cap.cipher_len;) {
                size_t n = cap.cipher_len - at;
                n = n < modes[m].piece ? n : modes[m].piece;
                uint8_t *plain;
                size_t plen;
                ssize_t took = gcm_reader_feed_direct(&r, in + at, n, got + have, modes[m].room,
                                                      &plain, &plen);
                ck_assert_msg(took > 0, "%s/%s mode %zu: refused at %zu", gcm_captures[i].dir,
                              gcm_captures[i].file, m, at);
                if (plen) {
                    segments++;
                    if (plain == got + have)
                        straight++;
                    else
                        memcpy(got + have, plain, plen);
                    /* never more than the room the caller gave */
                    ck_assert(plain != got + have || plen <= modes[m].room);
                }
                have += plen;
                at += (size_t)took;
            }
            ck_assert_uint_eq(have, want_len);
            ck_assert_mem_eq(got, want, want_len);
            ck_assert_uint_eq(r.messages, e.messages);
            /* (the last recording announces 4.0.0's L: its short last segment is collected) */
            if (modes[m].piece == SIZE_MAX && modes[m].room == 65536 && i + 1 < GCM_CAPTURES)
                ck_assert_uint_eq(straight, segments);
            if (modes[m].room == 0)
                ck_assert_uint_eq(straight, 0);
            gcm_reader_free(&r);
            free(in);
            free(got);
        }
        free(want);
        free(cap.data);
    }
}
END_TEST

START_TEST(messages_reseal_byte_for_byte)
{
    for (size_t i = 0; i + 1 < GCM_CAPTURES; i++) { /* the last one announces 4.0.0's L */
        struct gcm_expected e;
        gcm_expected_of(&gcm_captures[i], &e);
        struct aes_capture cap;
        size_t len;
        uint8_t *plain = gcm_decrypt_capture(&gcm_captures[i], &e, SIZE_MAX, &len, &cap);
        size_t at = 0, plain_at = 0, hl = gcm_header_len(e.key_len);
        struct gcm_key k;
        ck_assert_int_eq(gcm_key_init(&k, e.key, e.key_len), 0);
        while (at < cap.cipher_len) {
            uint64_t total = proto_load_u64(cap.cipher + at);
            size_t n = 0;
            while (gcm_message_len(e.key_len, n) < total)
                n++;
            ck_assert_uint_eq(gcm_message_len(e.key_len, n), total);
            uint8_t *msg = calloc(1, total);
            gcm_message_place(e.key_len, msg, plain + plain_at, n);
            char salt_hex[2 * GCM_MAX_HEADER + 1];
            for (size_t b = 0; b + 1 < hl; b++)
                sprintf(salt_hex + 2 * b, "%02x", cap.cipher[at + 9 + b]);
            const char *draws[] = {salt_hex, NULL};
            struct scripted_rng srng;
            struct crypto_rng rng = scripted(&srng, draws);
            ck_assert_int_eq(gcm_message_seal(&k, &rng, msg, n), 0);
            ck_assert_msg(memcmp(msg, cap.cipher + at, total) == 0, "%s/%s: message at %zu differs",
                          gcm_captures[i].dir, gcm_captures[i].file, at);
            free(msg);
            at += total;
            plain_at += n;
        }
        ck_assert_uint_eq(plain_at, len);
        gcm_key_free(&k);
        free(plain);
        free(cap.data);
    }
}
END_TEST

START_TEST(lengths_fixed_and_400)
{
    /* README §2: the 307221-byte ChunkFetchSuccess, and the boundary where 4.0.0 differs */
    ck_assert_uint_eq(gcm_message_len(16, 307221), 307413);
    ck_assert_uint_eq(gcm_message_len(16, 32740), 32788);
    ck_assert_uint_eq(gcm_message_len_400(16, 32740), 32804);
    ck_assert_uint_eq(gcm_message_len(16, 0), 32);
    ck_assert_uint_eq(gcm_message_len_400(16, 0), 48);
    static const size_t equal[] = {1, 184, 32728, 32753, 65000};
    for (size_t i = 0; i < sizeof equal / sizeof *equal; i++)
        ck_assert_uint_eq(gcm_message_len(16, equal[i]), gcm_message_len_400(16, equal[i]));
    ck_assert_uint_eq(gcm_message_len(16, 32729) + 16, gcm_message_len_400(16, 32729));
    ck_assert_uint_eq(gcm_message_len(32, 32712), gcm_message_len_400(32, 32712));
    ck_assert_uint_eq(gcm_message_len(32, 32713) + 16, gcm_message_len_400(32, 32713));
    ck_assert_uint_eq(gcm_message_len(32, 32752) + 16, gcm_message_len_400(32, 32752));
}
END_TEST

/* How roundtrip feeds: pieces of piece bytes, by gcm_reader_feed_direct with room bytes of room
 * when direct. */
struct feeding {
    size_t piece;
    bool direct;
    size_t room;
};
static const struct feeding feedings[] = {
    {1000, false, 0}, {SIZE_MAX, true, SIZE_MAX}, {40000, true, SIZE_MAX}, {SIZE_MAX, true, 50}};

/* Seals n bytes of a pattern (announcing L = announced), then feeds the first send bytes as f
 * says. 0: the plaintext came out whole, -1: refused, 1: wrong plaintext. */
static int roundtrip_fed(size_t key_len, size_t n, uint64_t announced, size_t send, int flip_at,
                         const struct feeding *f)
{
    uint8_t key[32];
    memset(key, 0x5a, sizeof key);
    struct gcm_key k;
    ck_assert_int_eq(gcm_key_init(&k, key, key_len), 0);
    size_t cap = (size_t)gcm_message_len(key_len, n);
    uint8_t *msg = calloc(1, cap), *want = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        want[i] = (uint8_t)(i * 7 + 3);
    gcm_message_place(key_len, msg, want, n);
    ck_assert_int_eq(gcm_message_seal_announcing(&k, NULL, msg, n, announced), 0);
    gcm_key_free(&k);
    if (flip_at >= 0)
        msg[flip_at] ^= 1;
    struct gcm_reader r;
    ck_assert_int_eq(gcm_reader_init(&r, key, key_len), 0);
    uint8_t *got = malloc(n + 1);
    size_t have = 0, at = 0;
    int rc = 0;
    while (at < send) {
        uint8_t *plain;
        size_t plen;
        size_t piece = send - at < f->piece ? send - at : f->piece;
        ssize_t took = f->direct
                           ? gcm_reader_feed_direct(&r, msg + at, piece, got + have,
                                                    f->room < n + 1 - have ? f->room : n + 1 - have,
                                                    &plain, &plen)
                           : gcm_reader_feed(&r, msg + at, piece, &plain, &plen);
        if (took < 0) {
            rc = -1;
            break;
        }
        if (plen && plain != got + have)
            memcpy(got + have, plain, plen);
        have += plen;
        at += (size_t)took;
    }
    if (rc == 0)
        rc = have == n && memcmp(got, want, n) == 0 && r.messages == 1 ? 0 : 1;
    gcm_reader_free(&r);
    free(msg);
    free(want);
    free(got);
    return rc;
}

/* The same result every way of feeding gives (-1 when any refuses, 1 when any is wrong). */
static int roundtrip(size_t key_len, size_t n, uint64_t announced, size_t send, int flip_at)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof feedings / sizeof *feedings; i++) {
        int one = roundtrip_fed(key_len, n, announced, send, flip_at, &feedings[i]);
        ck_assert_msg(i == 0 || one == rc, "feeding %zu: %d, the copying feed %d", i, one, rc);
        rc = one;
    }
    return rc;
}

START_TEST(spark_400_over_announced_lengths_delivered)
{
    /* n mod 32752 == 0, and n mod 32752 >= 32753 - headerLen (both sides of a full segment) */
    static const size_t sizes[] = {32752, 65504, 32740, 32751, 65504 + 32745};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t kl = 16; kl <= 32; kl += 16) {
            size_t n = sizes[i];
            uint64_t fixed = gcm_message_len(kl, n), old = gcm_message_len_400(kl, n);
            if (fixed == old)
                continue;
            ck_assert_uint_eq(old, fixed + 16);
            ck_assert_msg(roundtrip(kl, n, old, (size_t)fixed, -1) == 0, "n=%zu key %zu", n, kl);
        }
    /* and the fixed lengths of the same sizes */
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        ck_assert_int_eq(roundtrip(16, sizes[i], gcm_message_len(16, sizes[i]),
                                   (size_t)gcm_message_len(16, sizes[i]), -1),
                         0);
}
END_TEST

START_TEST(tampering_and_bad_lengths_refused)
{
    size_t n = 40000, total = (size_t)gcm_message_len(16, n);
    ck_assert_int_eq(roundtrip(16, n, total, total, -1), 0);
    ck_assert_int_eq(roundtrip(16, n, total, total, 100), -1);            /* segment 0 */
    ck_assert_int_eq(roundtrip(16, n, total, total, (int)total - 1), -1); /* the last tag */
    ck_assert_int_eq(roundtrip(16, n, total, total, 12), -1);             /* the salt */
    ck_assert_int_eq(roundtrip(16, n, total, total, 7), -1);              /* L */
    ck_assert_int_eq(roundtrip(16, n, total, total, 8), -1);              /* the header length */
    /* L shorter than its own header, and beyond the limit */
    struct gcm_reader r;
    uint8_t key[16] = {0}, head[9] = {0, 0, 0, 0, 0, 0, 0, 31, 0x18}, *plain;
    size_t plen;
    uint8_t rest[24] = {0};
    ck_assert_int_eq(gcm_reader_init(&r, key, 16), 0);
    ck_assert_int_eq(gcm_reader_feed(&r, head, 9, &plain, &plen), 9);
    ck_assert_int_eq(gcm_reader_feed(&r, rest, 23, &plain, &plen), -1);
    ck_assert_int_eq(errno, EBADMSG);
    gcm_reader_free(&r);
    head[3] = 2; /* 2^32 + 31 */
    ck_assert_int_eq(gcm_reader_init(&r, key, 16), 0);
    ck_assert_int_eq(gcm_reader_feed(&r, head, 9, &plain, &plen), 9);
    ck_assert_int_eq(gcm_reader_feed(&r, rest, 23, &plain, &plen), -1);
    gcm_reader_free(&r);
    /* the start of a message as the cipher detection sees it */
    size_t kl = 0;
    uint8_t start[9] = {0, 0, 0, 0, 0, 0, 0, 232, 0x18};
    ck_assert(gcm_message_start_plausible(start, &kl));
    ck_assert_uint_eq(kl, 16);
    start[8] = 0x28;
    ck_assert(gcm_message_start_plausible(start, &kl));
    ck_assert_uint_eq(kl, 32);
    start[8] = 0x20;
    ck_assert(!gcm_message_start_plausible(start, &kl));
    start[8] = 0x18;
    start[0] = 1;
    ck_assert(!gcm_message_start_plausible(start, &kl));
}
END_TEST

/* The input buffer of an inbox changes size only while it holds nothing; a segment whole in it
 * is decrypted straight into a large enough out; trim gives everything back between messages. */
START_TEST(inbox_resizes_only_when_empty)
{
    uint8_t key[16] = {3};
    size_t n = 40000, total = (size_t)gcm_message_len(16, n);
    struct gcm_key k;
    ck_assert_int_eq(gcm_key_init(&k, key, 16), 0);
    uint8_t *msg = calloc(1, total), *want = malloc(n), *out = malloc(n);
    for (size_t i = 0; i < n; i++)
        want[i] = (uint8_t)(i ^ 0x33);
    gcm_message_place(16, msg, want, n);
    ck_assert_int_eq(gcm_message_seal(&k, NULL, msg, n), 0);
    gcm_key_free(&k);
    struct gcm_inbox in;
    ck_assert_int_eq(gcm_inbox_init(&in, key, 16, 1024), 0);
    gcm_inbox_resize(&in, 65536);
    size_t room = 0;
    uint8_t *at = gcm_inbox_space(&in, &room);
    ck_assert_uint_eq(room, 65536);
    memcpy(at, msg, total);
    gcm_inbox_filled(&in, total);
    gcm_inbox_resize(&in, 1024); /* ciphertext held: refused */
    ck_assert_uint_eq(in.raw_cap, 65536);
    ck_assert_int_eq(gcm_inbox_take(&in, out, n), (ssize_t)n);
    ck_assert_mem_eq(out, want, n);
    ck_assert_uint_eq(gcm_inbox_memory(&in), 65536); /* both segments whole: no segment buffer */
    gcm_inbox_trim(&in);
    ck_assert_uint_eq(gcm_inbox_memory(&in), 0);
    gcm_inbox_resize(&in, 1024);
    ck_assert_ptr_nonnull(gcm_inbox_space(&in, &room));
    ck_assert_uint_eq(room, 1024);
    gcm_inbox_free(&in);
    free(msg);
    free(want);
    free(out);
}
END_TEST

CHECK_MAIN((.suite = "gcm_message", .name = "gcm_message", .timeout_s = 120,
            .needs_shared_vectors = true),
           every_recording_decrypts, every_recording_decrypts_in_place,
           messages_reseal_byte_for_byte, lengths_fixed_and_400,
           spark_400_over_announced_lengths_delivered, tampering_and_bad_lengths_refused,
           inbox_resizes_only_when_empty)
