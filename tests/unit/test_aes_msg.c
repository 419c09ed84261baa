/* SPDX-License-Identifier: Apache-2.0 */
/* The AES auth messages (protocol.md 12.4, 12.5): the recorded bodies decode to the fields their
 * READMEs list and re-encode byte for byte; truncations and wrong tags are refused; the
 * challenge + 1 rule follows Java's BigInteger, table of protocol.md 12.4 included. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aes_vectors.h"
#include "proto/aes_authmsg.h"
#include "proto/aes_challenge.h"
#include "test_util.h"

START_TEST(plus_one_table)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"7f", "00 80"},
        {"ff", "00"},
        {"80", "81"},
        {"ff7f", "80"},
        {"0001", "02"},
        {"00ff", "01 00"},
        {"fffe", "ff"},
        {"00", "01"},
        {"7fff", "00 80 00"},
        {"ffff", "00"},
        {"bff6b598067852639d38e26a4bb89e82", "bff6b598067852639d38e26a4bb89e83"},
        {"101112131415161718191a1b1c1d1e1f", "101112131415161718191a1b1c1d1e20"},
        {"7fffffffffffffffffffffffffffffff", "00 80000000000000000000000000000000"},
        {"ff000000000000000000000000000000", "ff000000000000000000000000000001"},
        {"ffffffffffffffffffffffffffffff7f", "80"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n;
        uint8_t *in = test_hex(rows[i].in, &n);
        uint8_t out[40];
        size_t len = aes_challenge_plus_one(in, n, out);
        ck_assert_mem_hex(out, len, rows[i].out);
        free(in);
    }
    uint8_t out[1];
    ck_assert_uint_eq(aes_challenge_plus_one(NULL, 0, out), 0);
}
END_TEST

START_TEST(recorded_client_challenge)
{
    struct aes_capture c2s;
    aes_capture_load(&c2s, "vectors-aes/auth-aes-31", "c2s.bin");
    ck_assert_uint_eq(c2s.body_len, 126);
    struct aes_client_challenge cc;
    char err[160];
    ck_assert_int_eq(aes_client_challenge_decode(c2s.body, c2s.body_len, &cc, err, sizeof err), 0);
    ck_assert_mem_eq(cc.app_id.data, "app-cap", 7);
    ck_assert_uint_eq(cc.kdf.len, 18);
    ck_assert_mem_eq(cc.kdf.data, "PBKDF2WithHmacSHA1", 18);
    ck_assert_int_eq(cc.iterations, 1024);
    ck_assert_mem_eq(cc.cipher.data, "AES/CTR/NoPadding", 17);
    ck_assert_int_eq(cc.key_length_bits, 128);
    ck_assert_mem_hex(cc.nonce.data, cc.nonce.len, "94e63355a73ae11446687cca10c055f3");
    ck_assert_uint_eq(cc.encrypted_challenge.len, 39);
    uint8_t *out;
    size_t len;
    ck_assert_int_eq(aes_client_challenge_encode(&cc, &out, &len), 0);
    ck_assert_uint_eq(len, c2s.body_len);
    ck_assert_mem_eq(out, c2s.body, len);
    free(out);
    /* every truncation is refused, a ServerResponse decoder refuses the tag */
    for (size_t cut = 0; cut < c2s.body_len; cut++)
        ck_assert_int_eq(aes_client_challenge_decode(c2s.body, cut, &cc, err, sizeof err), -1);
    struct aes_server_response sr;
    ck_assert_int_eq(aes_server_response_decode(c2s.body, c2s.body_len, &sr, err, sizeof err), -1);
    ck_assert_str_eq(err, "not a ServerResponse (first byte -6, expected -5)");
    free(c2s.data);
}
END_TEST

START_TEST(recorded_server_response)
{
    struct aes_capture s2c;
    aes_capture_load(&s2c, "vectors-aes/auth-aes-31", "s2c.bin");
    ck_assert_uint_eq(s2c.body_len, 104);
    struct aes_server_response sr;
    char err[160];
    ck_assert_int_eq(aes_server_response_decode(s2c.body, s2c.body_len, &sr, err, sizeof err), 0);
    ck_assert_uint_eq(sr.response.len, 39);
    ck_assert_uint_eq(sr.nonce.len, 16);
    ck_assert_uint_eq(sr.input_iv.len, 16);
    ck_assert_uint_eq(sr.output_iv.len, 16);
    uint8_t *out;
    size_t len;
    ck_assert_int_eq(aes_server_response_encode(&sr, &out, &len), 0);
    ck_assert_uint_eq(len, s2c.body_len);
    ck_assert_mem_eq(out, s2c.body, len);
    free(out);
    for (size_t cut = 0; cut < s2c.body_len; cut++)
        ck_assert_int_eq(aes_server_response_decode(s2c.body, cut, &sr, err, sizeof err), -1);
    free(s2c.data);
}
END_TEST

/* Both AuthMessages of every 3.2+ recording. */
START_TEST(recorded_auth_messages)
{
    static const char *const dirs[] = {"vectors-35/auth-aes-35", "vectors-40/auth-aes-v1-40",
                                       "vectors-40/auth-aes-v2"};
    for (int d = 0; d < 3; d++) {
        for (int side = 0; side < 2; side++) {
            struct aes_capture c;
            aes_capture_load(&c, dirs[d], side ? "s2c.bin" : "c2s.bin");
            ck_assert_uint_eq(c.body_len, 96);
            struct aes_authmsg m;
            char err[160];
            ck_assert_int_eq(aes_authmsg_decode(c.body, c.body_len, &m, err, sizeof err), 0);
            ck_assert_uint_eq(m.app_id.len, 7);
            ck_assert_mem_eq(m.app_id.data, "app-cap", 7);
            ck_assert_uint_eq(m.salt.len, 16);
            ck_assert_uint_eq(m.ciphertext.len, 60);
            ck_assert_uint_eq(aes_authmsg_encoded_len(&m), 96);
            uint8_t *out;
            size_t len;
            ck_assert_int_eq(aes_authmsg_encode(&m, &out, &len), 0);
            ck_assert_mem_eq(out, c.body, len);
            free(out);
            for (size_t cut = 0; cut < c.body_len; cut++)
                ck_assert_int_eq(aes_authmsg_decode(c.body, cut, &m, err, sizeof err), -1);
            /* trailing bytes are ignored, as Spark's decoder does */
            uint8_t *longer = malloc(c.body_len + 3);
            memcpy(longer, c.body, c.body_len);
            memcpy(longer + c.body_len, "xyz", 3);
            ck_assert_int_eq(aes_authmsg_decode(longer, c.body_len + 3, &m, err, sizeof err), 0);
            ck_assert_uint_eq(aes_authmsg_encoded_len(&m), 96);
            free(longer);
            free(c.data);
        }
    }
}
END_TEST

START_TEST(refusals)
{
    char err[160];
    struct aes_authmsg m;
    const uint8_t nul_app[] = {0xfb, 0, 0, 0, 2, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(aes_authmsg_decode(nul_app, sizeof nul_app, &m, err, sizeof err), -1);
    ck_assert_str_eq(err, "AuthMessage appId holds a NUL byte");
    const uint8_t negative[] = {0xfb, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(aes_authmsg_decode(negative, sizeof negative, &m, err, sizeof err), -1);
    ck_assert_int_eq(aes_authmsg_decode(NULL, 0, &m, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an AuthMessage (first byte -1, expected -5)");
    struct aes_client_challenge cc;
    const uint8_t auth_tag[] = {0xfb, 0, 0, 0, 0};
    ck_assert_int_eq(aes_client_challenge_decode(auth_tag, sizeof auth_tag, &cc, err, sizeof err),
                     -1);
}
END_TEST

CHECK_MAIN((.suite = "aes_msg", .name = "aes_msg"), plus_one_table, recorded_client_challenge,
           recorded_server_response, recorded_auth_messages, refusals)
