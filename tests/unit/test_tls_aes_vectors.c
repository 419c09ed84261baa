/* SPDX-License-Identifier: Apache-2.0 */
/* Spark 4.0 with spark.ssl.rpc and spark.network.crypto together (../shared/vectors-40/
 * tls-plus-aes): the AES-CTR stream sits under TLS, applied to the TLS records. For each
 * connection and direction of the recording, with the session key and IVs its key logs give:
 *   - the raw bytes are TLS records up to a record boundary, and from exactly one boundary on,
 *     our ctr_stream (counter block = the direction's IV, from its first byte) turns the rest
 *     into TLS records ending with the capture; that boundary is the one decoded.txt reports,
 *     right after the record carrying the AuthMessage (or its reply), which is as long as a
 *     record holding our own AuthMessage frame for the same app id;
 *   - the daemon's engine-version pick, told the cipher is under TLS, finds the recorded v2
 *     session among v1 and v2 candidates by the first TLS record header (a frame-header pick
 *     cannot: TLS records are not frames);
 *   - the daemon's undecided AES channel, fed the c2s bytes after the boundary in small pieces,
 *     hands out the TLS records, and writes the s2c records as the recorded ciphertext. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "aes_vectors.h"
#include "channel_pair.h"
#include "crypto/aes_auth.h"
#include "crypto/ctr_stream.h"

#define DIR "vectors-40/tls-plus-aes"
#define TLS_HEADER 5

/* One connection of the recording: its session (server's view) and v1's key (the X25519
 * secret, the other engine version's candidate), and both captures. */
struct tls_aes_conn {
    struct aes_session v1, v2; /* read_iv: c2s, write_iv: s2c */
    uint8_t *wire[2];          /* [0] c2s, [1] s2c */
    size_t len[2];
    size_t boundary[2]; /* where decoded.txt says CTR starts */
};

static char *read_text(const char *name)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/" DIR "/%s", harness_shared_dir(), name);
    char *text = (char *)harness_read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char *z = realloc(text, len + 1);
    z[len] = '\0';
    return z;
}

/* The hex after the n-th (from 0) occurrence of key in text, into out (its length). */
static size_t hex_after(const char *text, const char *key, int n, uint8_t *out, size_t cap)
{
    const char *p = text;
    for (int i = 0; i <= n; i++) {
        p = strstr(p, key);
        ck_assert_msg(p != NULL, "no %d-th '%s'", n, key);
        p += strlen(key);
    }
    char hex[129];
    ck_assert_int_eq(sscanf(p, "%128[0-9a-f]", hex), 1);
    size_t len;
    uint8_t *bytes = test_hex(hex, &len);
    ck_assert_uint_le(len, cap);
    memcpy(out, bytes, len);
    free(bytes);
    return len;
}

static void load_conn(int conn, struct tls_aes_conn *c)
{
    memset(c, 0, sizeof *c);
    char *decoded = read_text("decoded.txt"), *keylog = read_text("client-keylog.txt");
    char label[96];
    snprintf(label, sizeof label, "== connection %d: session key ", conn);
    c->v2.protocol = AES_PROTO_X25519_V2;
    c->v2.key_len = hex_after(decoded, label, 0, c->v2.key, sizeof c->v2.key);
    const char *at = strstr(decoded, label);
    ck_assert_uint_eq(hex_after(at, "c2s CTR iv ", 0, c->v2.read_iv, CTR_IV_LEN), CTR_IV_LEN);
    ck_assert_uint_eq(hex_after(at, "s2c CTR iv ", 0, c->v2.write_iv, CTR_IV_LEN), CTR_IV_LEN);
    /* v1 would use the X25519 secret itself as the key, with the same IVs */
    c->v1 = c->v2;
    c->v1.protocol = AES_PROTO_X25519_V1;
    const char *shared = keylog;
    for (int i = 0; i <= conn; i++)
        shared = strstr(shared, "computeSharedSecret") + 1;
    c->v1.key_len = hex_after(shared, "shared=", 0, c->v1.key, sizeof c->v1.key);
    ck_assert_uint_eq(c->v1.key_len, 32);
    for (int d = 0; d < 2; d++) {
        char path[512], dir_label[64];
        snprintf(path, sizeof path, "%s/" DIR "/%s%s.bin", harness_shared_dir(), d ? "s2c" : "c2s",
                 conn ? ".1" : "");
        c->wire[d] = harness_read_file(path, &c->len[d]);
        ck_assert_msg(c->wire[d] != NULL, "cannot read %s", path);
        snprintf(dir_label, sizeof dir_label, "-- connection %d %s: ", conn, d ? "s2c" : "c2s");
        const char *p = strstr(decoded, dir_label);
        ck_assert_ptr_nonnull(p);
        p = strstr(p, "CTR layer starts at offset ");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(sscanf(p, "CTR layer starts at offset %zu", &c->boundary[d]), 1);
    }
    free(decoded);
    free(keylog);
}

static void free_conn(struct tls_aes_conn *c)
{
    free(c->wire[0]);
    free(c->wire[1]);
}

/* True when p[0, len) is a whole number of TLS records of TLS 1.2/1.3 after the hello. */
static bool tls_records(const uint8_t *p, size_t len, unsigned *count)
{
    *count = 0;
    for (size_t at = 0; at < len; (*count)++) {
        if (len - at < TLS_HEADER || !aes_tls_record_header_sane(p + at))
            return false;
        size_t rec = TLS_HEADER + ((size_t)p[at + 3] << 8 | p[at + 4]);
        if (rec > len - at)
            return false;
        at += rec;
    }
    return true;
}

/* The direction's bytes from off, decrypted by a fresh CTR stream with iv (a new buffer). */
static uint8_t *ctr_from(const struct aes_session *s, const uint8_t *iv, const uint8_t *wire,
                         size_t len, size_t off)
{
    struct ctr_stream st;
    ck_assert_int_eq(ctr_stream_init(&st, s->key, s->key_len, iv), 0);
    uint8_t *plain = malloc(len - off + 1);
    ck_assert_int_eq(ctr_stream_apply(&st, wire + off, plain, len - off), 0);
    ctr_stream_free(&st);
    return plain;
}

/* The length of the TLS record holding our AuthMessage RpcRequest for app "app-cap", as the
 * recording's is (TLS 1.3: plaintext, content type, and what the JDK adds; see below). */
static size_t our_auth_frame_len(void)
{
    struct aes_client cl;
    ck_assert_int_eq(aes_client_init(&cl, AES_PROTO_X25519_V2, "app-cap", "vector-secret-40"), 0);
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(aes_client_start(&cl, NULL, &body, &len), 0);
    aes_client_free(&cl);
    free(body);
    return 21 + len; /* RpcRequest header: frame length, type, request id, body length */
}

START_TEST(ctr_starts_right_after_the_auth_records)
{
    struct tls_aes_conn c;
    load_conn(_i, &c);
    size_t auth_frame = our_auth_frame_len();
    ck_assert_uint_eq(auth_frame, 117); /* decoded.txt: "AuthMessage frame (117 bytes)" */
    for (int d = 0; d < 2; d++) {
        const uint8_t *iv = d ? c.v2.write_iv : c.v2.read_iv;
        size_t found = 0, last_record = 0;
        int fits = 0;
        /* walk the raw records; at each boundary try CTR over the rest */
        for (size_t at = 0; at < c.len[d];) {
            unsigned n;
            uint8_t *plain = ctr_from(&c.v2, iv, c.wire[d], c.len[d], at);
            if (at > 0 && tls_records(plain, c.len[d] - at, &n) && n > 0) {
                fits++;
                found = at;
            }
            free(plain);
            if (fits)
                break; /* past it the raw bytes are ciphertext, not records */
            ck_assert_uint_le(at + TLS_HEADER, c.len[d]);
            last_record = TLS_HEADER + ((size_t)c.wire[d][at + 3] << 8 | c.wire[d][at + 4]);
            at += last_record;
        }
        ck_assert_int_eq(fits, 1);
        ck_assert_uint_eq(found, c.boundary[d]);
        /* the record before: application data, as long as the recorded AuthMessage records
         * (117 bytes of frame; the JDK's TLS 1.3 record adds 33) */
        ck_assert_uint_eq(last_record, TLS_HEADER + auth_frame + 33);
        ck_assert_uint_eq(c.wire[d][found - last_record], 23);
        /* one record further or earlier is not where CTR starts */
        uint8_t *later = ctr_from(&c.v2, iv, c.wire[d], c.len[d], found + TLS_HEADER);
        unsigned n;
        ck_assert(!tls_records(later, c.len[d] - found - TLS_HEADER, &n));
        free(later);
        uint8_t *earlier = ctr_from(&c.v2, iv, c.wire[d], c.len[d], found - last_record);
        ck_assert(!tls_records(earlier, c.len[d] - found + last_record, &n));
        free(earlier);
    }
    free_conn(&c);
}
END_TEST

START_TEST(the_pick_reads_a_tls_record_header)
{
    struct tls_aes_conn c;
    load_conn(_i, &c);
    struct aes_session cand[2] = {c.v1, c.v2};
    const uint8_t *first = c.wire[0] + c.boundary[0];
    ck_assert_int_eq(aes_session_pick_with(cand, 2, first, aes_tls_record_header_sane), 1);
    ck_assert_int_eq(aes_session_pick(cand, 2, first), -1); /* not a frame */
    /* the other direction's stream does not fit either candidate's read stream */
    ck_assert_int_eq(
        aes_session_pick_with(cand, 2, c.wire[1] + c.boundary[1], aes_tls_record_header_sane), -1);
    free_conn(&c);
}
END_TEST

START_TEST(the_daemon_channel_under_tls)
{
    struct tls_aes_conn c;
    load_conn(_i, &c);
    struct aes_session cand[2] = {c.v1, c.v2};
    struct pair p;
    pair_open(&p, 0);
    p.ch = channel_aes_new_undecided(channel_plain_new(p.ours), cand, 2);
    ck_assert_ptr_nonnull(p.ch);
    channel_aes_allow(p.ch, CHANNEL_AES_AUTO);
    channel_aes_expect_tls_records(p.ch);

    const uint8_t *c2s = c.wire[0] + c.boundary[0];
    size_t c2s_len = c.len[0] - c.boundary[0];
    uint8_t *want = ctr_from(&c.v2, c.v2.read_iv, c.wire[0], c.len[0], c.boundary[0]);
    uint8_t *got = malloc(c2s_len + 64);
    pair_trickle(&p, c2s, c2s_len, got, c2s_len, 7, AES_PICK_BYTES + 8);
    ck_assert_mem_eq(got, want, c2s_len);
    unsigned n;
    ck_assert(tls_records(got, c2s_len, &n));
    ck_assert_int_eq(channel_aes_protocol(p.ch), AES_PROTO_X25519_V2);
    ck_assert(!channel_aes_is_gcm(p.ch));

    /* the server's records after its reply leave as the recorded ciphertext */
    size_t s2c_len = c.len[1] - c.boundary[1];
    uint8_t *records = ctr_from(&c.v2, c.v2.write_iv, c.wire[1], c.len[1], c.boundary[1]);
    ck_assert(tls_records(records, s2c_len, &n));
    struct iovec v = {records, s2c_len};
    ck_assert_int_eq(channel_writev(p.ch, &v, 1, false), (ssize_t)s2c_len);
    uint8_t *wire = malloc(s2c_len);
    ck_assert_int_eq(read(p.peer, wire, s2c_len), (ssize_t)s2c_len);
    ck_assert_mem_eq(wire, c.wire[1] + c.boundary[1], s2c_len);

    free(want);
    free(got);
    free(records);
    free(wire);
    pair_close(&p);
    free_conn(&c);
}
END_TEST

/* Random-looking first bytes fail the TLS record test (2^-24 for a wrong key). */
START_TEST(tls_record_header_rules)
{
    uint8_t h[AES_PICK_BYTES] = {23, 3, 3, 0, 0x36, 1, 2, 3, 4};
    ck_assert(aes_tls_record_header_sane(h));
    h[0] = 21; /* alert */
    ck_assert(aes_tls_record_header_sane(h));
    h[0] = 20; /* change cipher spec: only during the handshake */
    ck_assert(!aes_tls_record_header_sane(h));
    h[0] = 23;
    h[2] = 1; /* TLS 1.0 */
    ck_assert(!aes_tls_record_header_sane(h));
    h[2] = 3;
    h[3] = 0x48; /* 18432 + 256: over 2^14 + 2048 */
    ck_assert(!aes_tls_record_header_sane(h));
    h[3] = 0x48;
    h[4] = 0;
    ck_assert(aes_tls_record_header_sane(h)); /* 2^14 + 2048 exactly */
    h[3] = h[4] = 0;
    ck_assert(!aes_tls_record_header_sane(h)); /* empty */
}
END_TEST

CHECK_MAIN((.suite = "tls_aes_vectors", .name = "tls_aes_vectors", .timeout_s = 60, .loops = 2,
            .looped = {ctr_starts_right_after_the_auth_records, the_pick_reads_a_tls_record_header,
                       the_daemon_channel_under_tls},
            .needs_shared_vectors = true),
           ctr_starts_right_after_the_auth_records, the_pick_reads_a_tls_record_header,
           the_daemon_channel_under_tls, tls_record_header_rules)
