/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's AES handshakes (protocol.md 12.4, 12.5) against the spec's vector and every recorded
 * session: both state machines, fed the random bytes the recording drew, must write the
 * recorded auth messages byte for byte and derive the recorded keys and IVs; the sessions must
 * decrypt the recorded ciphertext to valid frames and re-encrypt it byte for byte; one flipped
 * bit (secret, message) must be refused. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aes_handshake.h"
#include "aes_vectors.h"
#include "crypto/aes_auth.h"
#include "crypto/ctr_stream.h"
#include "proto/frame.h"
#include "test_util.h"

struct frame_types {
    int n;
    uint8_t type[8];
};

static int note_type(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct frame_types *t = ctx;
    if (ev == FRAME_MESSAGE && t->n < 8)
        t->type[t->n++] = out->type;
    return 0;
}

/* Decrypts a capture's ciphertext with stream s and checks it is exactly the frames want. */
static uint8_t *decrypt_frames(struct ctr_stream *s, const struct aes_capture *c, const char *want)
{
    uint8_t *plain = malloc(c->cipher_len);
    ck_assert_int_eq(ctr_stream_apply(s, c->cipher, plain, c->cipher_len), 0);
    struct frame_types t = {0};
    char err[160];
    ck_assert_msg(frame_scan(plain, c->cipher_len, 0, note_type, &t, err, sizeof err) == 0, "%s",
                  err);
    char got[16] = "";
    for (int i = 0; i < t.n; i++)
        got[i] = (char)('0' + t.type[i]);
    ck_assert_str_eq(got, want);
    return plain;
}

static void assert_session(const struct aes_session *s, const struct aes_recording *r, bool client)
{
    ck_assert_int_eq(s->protocol, r->protocol);
    ck_assert_mem_hex(s->key, s->key_len, r->key);
    ck_assert_mem_hex(s->write_iv, CTR_IV_LEN, client ? r->c2s_iv : r->s2c_iv);
    ck_assert_mem_hex(s->read_iv, CTR_IV_LEN, client ? r->s2c_iv : r->c2s_iv);
}

/* Both sides of recording i, each from the recorded randomness. */
START_TEST(recordings_rederived_byte_for_byte)
{
    const struct aes_recording *r = &aes_recordings[_i];
    struct aes_capture c2s, s2c;
    aes_capture_load(&c2s, r->dir, "c2s.bin");
    aes_capture_load(&s2c, r->dir, "s2c.bin");
    char err[200];

    /* the client writes the recorded first message */
    struct aes_client cl;
    struct scripted_rng crng;
    struct crypto_rng rng = scripted(&crng, r->client_rng);
    ck_assert_int_eq(aes_client_init(&cl, r->protocol, "app-cap", r->secret), 0);
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(aes_client_start(&cl, &rng, &body, &len), 0);
    ck_assert_uint_eq(len, c2s.body_len);
    ck_assert_mem_eq(body, c2s.body, len);
    free(body);

    /* the server answers the recorded message with the recorded reply */
    struct aes_server sv;
    struct scripted_rng srng;
    struct crypto_rng rng2 = scripted(&srng, r->server_rng);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, c2s.body, c2s.body_len, err, sizeof err), 0);
    ck_assert_str_eq(sv.app_id, "app-cap");
    ck_assert_msg(aes_server_respond(&sv, r->secret, &rng2, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(sv.state, AES_SERVER_DONE);
    ck_assert_uint_eq(sv.reply_len, s2c.body_len);
    ck_assert_mem_eq(sv.reply, s2c.body, s2c.body_len);

    /* the server keeps the session under which the client's first bytes make a frame */
    int pick = aes_session_pick(sv.sessions, sv.nsessions, c2s.cipher);
    ck_assert_int_eq(pick, r->protocol == AES_PROTO_X25519_V2 ? 1 : 0);
    const struct aes_session *ss = &sv.sessions[pick];
    assert_session(ss, r, false);

    /* the client accepts the recorded reply and derives the same session */
    struct aes_session cs;
    ck_assert_msg(aes_client_finish(&cl, s2c.body, s2c.body_len, &cs, err, sizeof err) == 0, "%s",
                  err);
    assert_session(&cs, r, true);

    /* the recorded traffic: c2s is FetchShuffleBlocks (RpcRequest) + ChunkFetchRequest, s2c is
     * StreamHandle (RpcResponse) + ChunkFetchSuccess; re-encrypting gives the recorded bytes */
    struct ctr_stream srd, swr, crd, cwr;
    ck_assert_int_eq(aes_session_streams(ss, &srd, &swr), 0);
    ck_assert_int_eq(aes_session_streams(&cs, &crd, &cwr), 0);
    uint8_t *req = decrypt_frames(&srd, &c2s, "30");
    uint8_t *resp = decrypt_frames(&crd, &s2c, "41");
    ck_assert_int_eq(ctr_stream_apply(&cwr, req, req, c2s.cipher_len), 0);
    ck_assert_mem_eq(req, c2s.cipher, c2s.cipher_len);
    ck_assert_int_eq(ctr_stream_apply(&swr, resp, resp, s2c.cipher_len), 0);
    ck_assert_mem_eq(resp, s2c.cipher, s2c.cipher_len);
    ck_assert_int_eq(crng.failed_draws + srng.failed_draws, 0);

    ctr_stream_free(&srd);
    ctr_stream_free(&swr);
    ctr_stream_free(&crd);
    ctr_stream_free(&cwr);
    free(req);
    free(resp);
    aes_client_free(&cl);
    aes_server_free(&sv);
    free(c2s.data);
    free(s2c.data);
}
END_TEST

/* Spec 12.4's test vector, through both state machines. */
START_TEST(spec_v1_vector)
{
    static const char *const client_rng[] = {"000102030405060708090a0b0c0d0e0f",
                                             "101112131415161718191a1b1c1d1e1f", NULL};
    static const char *const server_rng[] = {"202122232425262728292a2b2c2d2e2f",
                                             "303132333435363738393a3b3c3d3e3f",
                                             "404142434445464748494a4b4c4d4e4f"};
    uint8_t key[16], salt[16];
    for (int i = 0; i < 16; i++)
        salt[i] = (uint8_t)i;
    ck_assert_int_eq(crypto_pbkdf2_sha1("secret", 6, salt, 16, 1024, key, 16), 0);
    ck_assert_mem_hex(key, 16, "34c2e97a43aa44a08d662a2128c24b28");

    struct aes_client cl;
    struct scripted_rng cr, sr;
    struct crypto_rng crng = scripted(&cr, client_rng), srng = scripted(&sr, server_rng);
    ck_assert_int_eq(aes_client_init(&cl, AES_PROTO_PBKDF2, "app-1", "secret"), 0);
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(aes_client_start(&cl, &crng, &body, &len), 0);
    ck_assert_mem_hex(
        body, len,
        "fa 00 00 00 05 61 70 70 2d 31 00 00 00 12 50 42 4b 44 46 32 57 69 74 68 48 6d 61 63 53 "
        "48 41 31 00 00 04 00 00 00 00 11 41 45 53 2f 43 54 52 2f 4e 6f 50 61 64 64 69 6e 67 00 "
        "00 00 80 00 00 00 10 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 00 00 00 25 e3 8b "
        "77 3c 90 14 99 b3 d9 2e 97 ef 62 ca 52 1f 38 0b dc 04 fa ee f6 e3 ac 10 69 4d ae 74 3e "
        "5b 76 3e 17 56 e9");
    struct aes_server sv;
    char err[200];
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, "secret", &srng, err, sizeof err), 0);
    ck_assert_mem_hex(
        sv.reply, sv.reply_len,
        "fb 00 00 00 25 e3 8b 77 3c 90 14 99 b3 d9 2e 97 ef 62 ca 52 1f 38 0b dc 04 fa ee f6 e3 "
        "ac 10 69 4d ae 74 3e 5b 76 3e 17 56 d6 00 00 00 10 65 6b 70 a6 9b 30 fb 3a 81 10 0e fe "
        "32 b8 84 fe 00 00 00 10 c0 46 de be 0d 4d 83 31 ca 6d 19 03 f4 af de ae 00 00 00 10 fa "
        "6b 99 9a bc b5 97 55 1b b5 07 8f 5e 27 08 0e");
    ck_assert_int_eq(sv.nsessions, 1);
    ck_assert_mem_hex(sv.sessions[0].key, sv.sessions[0].key_len,
                      "d79a8f3b79f231bb4a00a0f31bfe0e7d");
    struct aes_session cs;
    ck_assert_int_eq(aes_client_finish(&cl, sv.reply, sv.reply_len, &cs, err, sizeof err), 0);
    ck_assert_mem_hex(cs.key, cs.key_len, "d79a8f3b79f231bb4a00a0f31bfe0e7d");
    ck_assert_mem_hex(cs.write_iv, 16, "303132333435363738393a3b3c3d3e3f");
    ck_assert_mem_hex(cs.read_iv, 16, "404142434445464748494a4b4c4d4e4f");
    struct ctr_stream rd, wr;
    ck_assert_int_eq(aes_session_streams(&cs, &rd, &wr), 0);
    uint8_t first[8] = {0, 0, 0, 0, 0, 0, 0, 0x15};
    ck_assert_int_eq(ctr_stream_apply(&wr, first, first, 8), 0);
    ck_assert_mem_hex(first, 8, "c6 eb 0d c9 0b b7 c1 10");
    ctr_stream_free(&rd);
    ctr_stream_free(&wr);
    free(body);
    aes_client_free(&cl);
    aes_server_free(&sv);
}
END_TEST

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n);
    memcpy(c, p, n);
    return c;
}

/* Every bit of the client's first message, flipped, and a wrong secret: the server refuses
 * (or, for bits the v1 server cannot check, the client refuses the answer). */
START_TEST(flipped_bits_refused)
{
    const struct aes_recording *r = &aes_recordings[_i];
    struct aes_capture c2s, s2c;
    aes_capture_load(&c2s, r->dir, "c2s.bin");
    aes_capture_load(&s2c, r->dir, "s2c.bin");
    char err[200];
    char wrong[64];
    snprintf(wrong, sizeof wrong, "%s", r->secret);
    wrong[strlen(wrong) - 1] ^= 1;

    struct aes_server sv;
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, c2s.body, c2s.body_len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, wrong, NULL, err, sizeof err), -1);
    ck_assert_int_eq(sv.state, AES_SERVER_FAILED);
    aes_server_free(&sv);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, c2s.body, c2s.body_len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, NULL, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "Trying to authenticate non-registered app app-cap.");
    aes_server_free(&sv);

    /* the client refuses the recorded reply under a wrong secret */
    struct aes_client cl;
    struct scripted_rng crng;
    struct crypto_rng rng = scripted(&crng, r->client_rng);
    uint8_t *body;
    size_t len;
    struct aes_session cs;
    ck_assert_int_eq(aes_client_init(&cl, r->protocol, "app-cap", wrong), 0);
    ck_assert_int_eq(aes_client_start(&cl, &rng, &body, &len), 0);
    free(body);
    ck_assert_int_eq(aes_client_finish(&cl, s2c.body, s2c.body_len, &cs, err, sizeof err), -1);
    aes_client_free(&cl);

    /* each bit of the client's message after the tag */
    for (size_t bit = 8; bit < c2s.body_len * 8; bit++) {
        uint8_t *m = copy_of(c2s.body, c2s.body_len);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct scripted_rng srng;
        struct crypto_rng rng2 = scripted(&srng, r->server_rng);
        aes_server_init(&sv);
        int rc = aes_server_parse(&sv, m, c2s.body_len, err, sizeof err);
        if (rc == 0)
            rc = aes_server_respond(&sv, r->secret, &rng2, err, sizeof err);
        if (rc == 0) {
            /* v1 only: the server cannot tell a changed challenge (or the iteration count's
             * and key length's equivalents); the client then refuses the answer */
            ck_assert_int_eq(r->protocol, AES_PROTO_PBKDF2);
            ck_assert_int_eq(aes_client_init(&cl, r->protocol, "app-cap", r->secret), 0);
            rng = scripted(&crng, r->client_rng);
            ck_assert_int_eq(aes_client_start(&cl, &rng, &body, &len), 0);
            free(body);
            ck_assert_msg(aes_client_finish(&cl, sv.reply, sv.reply_len, &cs, err, sizeof err) ==
                              -1,
                          "bit %zu: the client accepted a changed exchange", bit);
            aes_client_free(&cl);
        }
        aes_server_free(&sv);
        free(m);
    }

    /* each bit of the server's reply: the client refuses, except the v1 IV and nonce fields,
     * which nothing authenticates (protocol.md 12.4: v1 is malleable); those give another session */
    for (size_t bit = 8; bit < s2c.body_len * 8; bit++) {
        uint8_t *m = copy_of(s2c.body, s2c.body_len);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(aes_client_init(&cl, r->protocol, "app-cap", r->secret), 0);
        rng = scripted(&crng, r->client_rng);
        ck_assert_int_eq(aes_client_start(&cl, &rng, &body, &len), 0);
        free(body);
        int rc = aes_client_finish(&cl, m, s2c.body_len, &cs, err, sizeof err);
        if (rc == 0) {
            size_t response_end = 1 + 4 + proto_load_u32(s2c.body + 1);
            ck_assert_int_eq(r->protocol, AES_PROTO_PBKDF2);
            ck_assert_uint_ge(bit / 8, response_end);
            size_t kl, il, ol;
            uint8_t *k = test_hex(r->key, &kl), *in = test_hex(r->s2c_iv, &il),
                    *out = test_hex(r->c2s_iv, &ol);
            ck_assert_msg(memcmp(cs.key, k, kl) != 0 || memcmp(cs.read_iv, in, il) != 0 ||
                              memcmp(cs.write_iv, out, ol) != 0,
                          "bit %zu changed nothing", bit);
            free(k);
            free(in);
            free(out);
        }
        aes_client_free(&cl);
        free(m);
    }
    free(c2s.data);
    free(s2c.data);
}
END_TEST

/* A recorded client message replayed on a new connection: the server answers (v1 cannot tell
 * a replay; 3.2+ has nothing to check it against either), but with fresh randomness its session
 * differs, so the recorded client's first encrypted bytes fit no candidate session. */
START_TEST(replayed_session_refused)
{
    const struct aes_recording *r = &aes_recordings[_i];
    struct aes_capture c2s, s2c;
    aes_capture_load(&c2s, r->dir, "c2s.bin");
    aes_capture_load(&s2c, r->dir, "s2c.bin");
    char err[200];
    struct aes_server sv;
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, c2s.body, c2s.body_len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, r->secret, NULL, err, sizeof err), 0);
    ck_assert(sv.reply_len != s2c.body_len || memcmp(sv.reply, s2c.body, s2c.body_len) != 0);
    ck_assert_int_eq(aes_session_pick(sv.sessions, sv.nsessions, c2s.cipher), -1);
    aes_server_free(&sv);
    free(c2s.data);
    free(s2c.data);
}
END_TEST

/* The engine-version pick's rule: a length Java accepts and the type of a client request. */
START_TEST(frame_header_sanity)
{
    uint8_t h[AES_PICK_BYTES] = {0, 0, 0, 0, 0, 0, 0, 21, 0};
    static const uint8_t requests[] = {0, 3, 6, 9, 10, 11};
    for (int t = 0; t < 256; t++) {
        h[8] = (uint8_t)t;
        ck_assert_int_eq(aes_frame_header_sane(h), memchr(requests, t, sizeof requests) != NULL);
    }
    h[8] = 3;
    h[7] = 9; /* a header and nothing else */
    ck_assert(!aes_frame_header_sane(h));
    h[7] = 10;
    ck_assert(aes_frame_header_sane(h));
    memcpy(h, "\0\0\0\0\x7f\xff\xff\xff", 8); /* 8 + 2147483639: Java's largest is 8 + 2^31-2 */
    ck_assert(aes_frame_header_sane(h));
    memcpy(h, "\0\0\0\0\x80\0\0\x07", 8); /* 8 + 2^31 - 1 */
    ck_assert(!aes_frame_header_sane(h));
    memcpy(h, "\x80\0\0\0\0\0\0\x15", 8); /* negative as Java's long */
    ck_assert(!aes_frame_header_sane(h));
}
END_TEST

/* Messages that are not what the state machines expect: refused with a reason, no crash. */
START_TEST(malformed_and_out_of_turn)
{
    char err[200];
    struct aes_server sv;
    aes_server_init(&sv);
    const uint8_t sasl[] = {0xea, 0, 0, 0, 1, 'a', 0, 0, 0, 0};
    ck_assert_int_eq(aes_server_parse(&sv, sasl, sizeof sasl, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an AES auth message (first byte -22)");
    aes_server_free(&sv);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, NULL, 0, err, sizeof err), -1);
    aes_server_free(&sv);
    const uint8_t truncated[] = {0xfb, 0, 0, 0, 7, 'a', 'p'};
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, truncated, sizeof truncated, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "truncated AuthMessage"));
    aes_server_free(&sv);
    /* a ClientChallenge asking for a million PBKDF2 iterations */
    struct aes_client_challenge cc = {
        .app_id = {(const uint8_t *)"a", 1},
        .kdf = {(const uint8_t *)AES_V1_KDF, sizeof AES_V1_KDF - 1},
        .iterations = 1000000,
        .cipher = {(const uint8_t *)AES_V1_CIPHER, sizeof AES_V1_CIPHER - 1},
        .key_length_bits = 128,
        .nonce = {(const uint8_t *)"0123456789abcdef", 16},
        .encrypted_challenge = {(const uint8_t *)"x", 1},
    };
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(aes_client_challenge_encode(&cc, &body, &len), 0);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, "s", NULL, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "1000000 PBKDF2 iterations"));
    /* a second message on the same connection */
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), -1);
    aes_server_free(&sv);
    free(body);
    /* a short nonce, which would make the appId || nonce check a guess */
    cc.iterations = 1024;
    cc.nonce.len = 8;
    ck_assert_int_eq(aes_client_challenge_encode(&cc, &body, &len), 0);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, "s", NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "ClientChallenge nonce of 8 bytes (at least 16)");
    aes_server_free(&sv);
    free(body);
    /* an AuthMessage whose sealed key is a byte too long, and one with a 1 MiB appId */
    uint8_t salt[16] = {0}, sealed[61] = {0};
    struct aes_authmsg am = {{(const uint8_t *)"app", 3}, {salt, 16}, {sealed, 61}};
    ck_assert_int_eq(aes_authmsg_encode(&am, &body, &len), 0);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, "s", NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "AuthMessage ciphertext of 61 bytes (a sealed key has 60)");
    aes_server_free(&sv);
    free(body);
    char *big = malloc(1 << 20);
    memset(big, 'a', 1 << 20);
    am.app_id = (struct aes_field){(const uint8_t *)big, 1 << 20};
    am.ciphertext.len = 60;
    ck_assert_int_eq(aes_authmsg_encode(&am, &body, &len), 0);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), -1);
    ck_assert_str_eq(err, "an appId of 1048576 bytes (at most 255)");
    aes_server_free(&sv);
    free(body);
    /* a salt of another length than Spark's 16 */
    am.app_id = (struct aes_field){(const uint8_t *)"app", 3};
    am.salt.len = 15;
    ck_assert_int_eq(aes_authmsg_encode(&am, &body, &len), 0);
    aes_server_init(&sv);
    ck_assert_int_eq(aes_server_parse(&sv, body, len, err, sizeof err), 0);
    ck_assert_int_eq(aes_server_respond(&sv, "s", NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "AuthMessage salt of 15 bytes (Spark sends 16)");
    aes_server_free(&sv);
    free(body);
    /* the longest appId works end to end, in each protocol */
    big[AES_MAX_APP_ID] = '\0';
    for (int p = 0; p < 3; p++) {
        struct aes_session cs;
        aes_fresh_handshake(aes_all_protocols[p], big, "s", &sv, &cs);
        aes_server_free(&sv);
    }
    struct aes_client longer;
    big[AES_MAX_APP_ID] = 'a'; /* one byte too long */
    big[AES_MAX_APP_ID + 1] = '\0';
    ck_assert_int_eq(aes_client_init(&longer, AES_PROTO_X25519_V1, big, "s"), -1);
    free(big);
    /* a client finishing before it started */
    struct aes_client cl;
    struct aes_session s;
    ck_assert_int_eq(aes_client_init(&cl, AES_PROTO_X25519_V2, "a", "s"), 0);
    ck_assert_int_eq(aes_client_finish(&cl, sasl, sizeof sasl, &s, err, sizeof err), -1);
    aes_client_free(&cl);
}
END_TEST

/* Fresh randomness, each protocol: client and server agree, and their streams interlock. */
START_TEST(round_trip_each_protocol)
{
    struct aes_server sv;
    struct aes_session cs;
    aes_fresh_handshake(aes_all_protocols[_i], "application_1_0001", "s3cr3t", &sv, &cs);
    /* the client's first frame picks the server's session of the same protocol */
    uint8_t frame[21] = {0, 0, 0, 0, 0, 0, 0, 21, 0};
    struct ctr_stream crd, cwr, srd, swr;
    ck_assert_int_eq(aes_session_streams(&cs, &crd, &cwr), 0);
    ck_assert_int_eq(ctr_stream_apply(&cwr, frame, frame, sizeof frame), 0);
    int pick = aes_session_pick(sv.sessions, sv.nsessions, frame);
    ck_assert_int_ge(pick, 0);
    ck_assert_int_eq(sv.sessions[pick].protocol, aes_all_protocols[_i]);
    ck_assert_int_eq(aes_session_streams(&sv.sessions[pick], &srd, &swr), 0);
    ck_assert_int_eq(ctr_stream_apply(&srd, frame, frame, sizeof frame), 0);
    ck_assert_uint_eq(frame[7], 21);
    uint8_t msg[5] = "hello";
    ck_assert_int_eq(ctr_stream_apply(&swr, msg, msg, 5), 0);
    ck_assert_int_eq(ctr_stream_apply(&crd, msg, msg, 5), 0);
    ck_assert_mem_eq(msg, "hello", 5);
    ctr_stream_free(&crd);
    ctr_stream_free(&cwr);
    ctr_stream_free(&srd);
    ctr_stream_free(&swr);
    aes_server_free(&sv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("aes_auth");
    check_add_case(s,
                   &(struct check_case){.suite = "aes_auth",
                                        .name = "aes_auth",
                                        .timeout_s = 120,
                                        .loops = (int)AES_RECORDINGS,
                                        .looped = {recordings_rederived_byte_for_byte,
                                                   flipped_bits_refused, replayed_session_refused}},
                   CHECK_TESTS(recordings_rederived_byte_for_byte, spec_v1_vector,
                               flipped_bits_refused, replayed_session_refused, frame_header_sanity,
                               malformed_and_out_of_turn));
    /* one loop per protocol */
    check_add_case(s,
                   &(struct check_case){.suite = "aes_auth",
                                        .name = "each_protocol",
                                        .timeout_s = 120,
                                        .loops = 3,
                                        .looped = {round_trip_each_protocol}},
                   CHECK_TESTS(round_trip_each_protocol));
    return check_run_suite(s);
}
