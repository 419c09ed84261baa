/* SPDX-License-Identifier: Apache-2.0 */
/* SaslMessage (protocol.md 1.3, 12.2): the spec's bytes, the ignored legacy length, malformed bodies;
 * Spark's SASL password derivation; and the digest formula against the spec's Java
 * transcript (which the auth integration test then uses to speak for a Java client). */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/message.h"
#include "proto/saslmsg.h"
#include "sasl_digest.h"
#include "test_util.h"

START_TEST(spec_body_and_frame)
{
    size_t n, fn;
    uint8_t *want = test_hex("ea 00 00 00 05 61 70 70 2d 31 00 00 00 00", &n);
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(saslmsg_encode("app-1", NULL, 0, &body, &len), 0);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(body, want, n);
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = 0x0123456789abcdefLL;
    m.u.rpc.body.data = body;
    m.u.rpc.body.len = (uint32_t)len;
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, &m);
    uint8_t *frame = test_hex("00 00 00 00 00 00 00 23 03 01 23 45 67 89 ab cd ef 00 00 00 0e ea "
                              "00 00 00 05 61 70 70 2d 31 00 00 00 00",
                              &fn);
    ck_assert_uint_eq(w.len, fn);
    ck_assert_mem_eq(w.buf, frame, fn);
    struct saslmsg s;
    char err[128];
    ck_assert_int_eq(saslmsg_decode(want, n, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s.app_id_len, 5);
    ck_assert_mem_eq(s.app_id, "app-1", 5);
    ck_assert_uint_eq(s.token_len, 0);
    proto_writer_free(&w);
    free(frame);
    free(body);
    free(want);
}
END_TEST

START_TEST(token_round_trip_and_legacy_length_ignored)
{
    uint8_t *body;
    size_t len;
    ck_assert_int_eq(saslmsg_encode("a", (const uint8_t *)"tok", 3, &body, &len), 0);
    ck_assert_uint_eq(len, 1 + 4 + 1 + 4 + 3);
    ck_assert_uint_eq(proto_load_u32(body + 6), 3); /* the legacy length is written */
    struct saslmsg s;
    char err[128];
    ck_assert_int_eq(saslmsg_decode(body, len, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s.token_len, 3);
    ck_assert_mem_eq(s.token, "tok", 3);
    body[9] = 99; /* a wrong legacy length: the token is still the rest of the body */
    ck_assert_int_eq(saslmsg_decode(body, len, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s.token_len, 3);
    free(body);
}
END_TEST

START_TEST(malformed_bodies_are_errors)
{
    struct saslmsg s;
    char err[128];
    size_t n;
    /* a ClientChallenge (AES protocol) tag */
    uint8_t *cc = test_hex("fa 00 00 00 05 61 70 70 2d 31 00 00 00 00", &n);
    ck_assert_int_eq(saslmsg_decode(cc, n, &s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a SaslMessage"));
    ck_assert_int_eq(saslmsg_decode(cc, 0, &s, err, sizeof err), -1);
    cc[0] = 0xea;
    ck_assert_int_eq(saslmsg_decode(cc, 8, &s, err, sizeof err), -1); /* appId cut */
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert_int_eq(saslmsg_decode(cc, 12, &s, err, sizeof err), -1); /* legacy length cut */
    cc[6] = 0;                                                         /* a NUL inside the appId */
    ck_assert_int_eq(saslmsg_decode(cc, n, &s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "NUL"));
    uint8_t *huge = test_hex("ea 7f ff ff ff 61", &n);
    ck_assert_int_eq(saslmsg_decode(huge, n, &s, err, sizeof err), -1);
    free(huge);
    free(cc);
}
END_TEST

START_TEST(spark_password_is_base64_broken_every_76_chars)
{
    char *p = sasl_spark_password("s3cr3t");
    ck_assert_str_eq(p, "czNjcjN0");
    free(p);
    p = sasl_spark_password("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    ck_assert_str_eq(p, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1"
                        "Njc4\nOWFiY2RlZg==");
    free(p);
    p = sasl_spark_password("ab");
    ck_assert_str_eq(p, "YWI=");
    free(p);
    char s57[58];
    memset(s57, 'x', 57);
    s57[57] = 0;
    p = sasl_spark_password(s57); /* exactly one full line: no newline at all */
    ck_assert_uint_eq(strlen(p), 76);
    ck_assert_ptr_null(strchr(p, '\n'));
    free(p);
}
END_TEST

START_TEST(digest_formula_matches_the_java_transcript)
{
    char out[33];
    const char *nonce = "3XEvJlzN2LVv9jaTtdwZddl0/pDLbXnWGodRJ+Sz",
               *cnonce = "OBWDp1PJQArB//yLB8oSRi5j2vExLYUX0zMzOdDr";
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, cnonce, "00000001", "null/default", 0,
               out);
    ck_assert_str_eq(out, "a7983c77192e773f3e847f59567fa3d5");
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, cnonce, "00000001", "null/default", 1,
               out);
    ck_assert_str_eq(out, "ad22b9979c075f47f7df6b351fd8cdd6");
}
END_TEST

CHECK_MAIN((.suite = "saslmsg", .name = "saslmsg"), spec_body_and_frame,
           token_round_trip_and_legacy_length_ignored, malformed_bodies_are_errors,
           spark_password_is_base64_broken_every_76_chars,
           digest_formula_matches_the_java_transcript)
