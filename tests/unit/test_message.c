/* SPDX-License-Identifier: Apache-2.0 */
/* Transport messages (protocol.md 4): the spec's byte dumps, round trips and
 * malformed headers. */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/message.h"
#include "test_util.h"

/* Decodes a whole frame given as hex, re-encodes it and checks the bytes. */
/* Returns the frame bytes, which m borrows: the caller frees them. */
static uint8_t *round_trip_hex(const char *hex, struct proto_msg *m)
{
    size_t len;
    char err[256];
    uint8_t *buf = test_hex(hex, &len);
    ck_assert_uint_ge(len, PROTO_FRAME_HEADER_LEN);
    ck_assert_uint_eq(proto_load_u64(buf), len - (buf[8] == PROTO_STREAM_RESPONSE ? 5 : 0));
    ck_assert_msg(proto_msg_decode(buf[8], buf + 9, proto_load_u64(buf) - 9, m, err, sizeof(err)) ==
                      0,
                  "%s", err);
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
    ck_assert_uint_eq(w.len, proto_load_u64(buf));
    ck_assert_mem_eq(w.buf, buf, w.len);
    ck_assert_uint_eq(
        proto_msg_header_len(m),
        w.len - (m->type == PROTO_RPC_REQUEST || m->type == PROTO_RPC_RESPONSE ? m->u.rpc.body.len
                 : m->type == PROTO_CHUNK_FETCH_SUCCESS ? m->u.chunk_fetch_success.body.len
                 : m->type == PROTO_ONE_WAY_MESSAGE     ? m->u.one_way.body.len
                                                        : 0));
    proto_writer_free(&w);
    return buf;
}

START_TEST(spec_dumps_decode_and_reencode)
{
    struct proto_msg m;
    uint8_t *frames[16];
    int n = 0;
    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 6b 03 01 23 45 67 89 ab cd ef 00 00 00 56 02 00 00 00 05 "
        "61 70 70 2d 31 00 00 00 01 30 00 00 00 01 00 00 00 07 2f 74 6d 70 2f 6c 31 00 00 "
        "00 40 00 00 00 30 6f 72 67 2e 61 70 61 63 68 65 2e 73 70 61 72 6b 2e 73 68 75 66 "
        "66 6c 65 2e 73 6f 72 74 2e 53 6f 72 74 53 68 75 66 66 6c 65 4d 61 6e 61 67 65 72",
        &m);
    ck_assert_int_eq(m.type, PROTO_RPC_REQUEST);
    ck_assert(m.u.rpc.request_id == 0x0123456789abcdefLL);
    ck_assert_uint_eq(m.u.rpc.body.len, 86);

    frames[n++] =
        round_trip_hex("00 00 00 00 00 00 00 15 04 01 23 45 67 89 ab cd ef 00 00 00 00", &m);
    ck_assert_int_eq(m.type, PROTO_RPC_RESPONSE);
    ck_assert_uint_eq(m.u.rpc.body.len, 0);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 22 04 00 00 00 00 00 00 00 01 00 00 00 0d 03 00 00 00 00 "
        "00 0f 42 40 00 00 00 03",
        &m);
    ck_assert_uint_eq(m.u.rpc.body.len, 13);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 35 05 00 00 00 00 00 00 00 01 00 00 00 20 6a 61 76 61 2e "
        "6c 61 6e 67 2e 52 75 6e 74 69 6d 65 45 78 63 65 70 74 69 6f 6e 3a 20 62 6f 6f 6d",
        &m);
    ck_assert_int_eq(m.type, PROTO_RPC_FAILURE);
    ck_assert_uint_eq(m.u.rpc_failure.error.len, 32);
    ck_assert_mem_eq(m.u.rpc_failure.error.data, "java.lang.RuntimeException: boom", 32);

    frames[n++] =
        round_trip_hex("00 00 00 00 00 00 00 17 09 00 00 00 0a 05 00 00 00 05 61 70 70 2d 31", &m);
    ck_assert_int_eq(m.type, PROTO_ONE_WAY_MESSAGE);
    ck_assert_uint_eq(m.u.one_way.body.len, 10);

    frames[n++] =
        round_trip_hex("00 00 00 00 00 00 00 15 00 00 00 00 00 00 0f 42 40 00 00 00 00", &m);
    ck_assert(m.u.chunk_fetch_request.stream_id == 1000000);
    ck_assert_int_eq(m.u.chunk_fetch_request.chunk_index, 0);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 1a 01 00 00 00 00 00 0f 42 40 00 00 00 00 68 65 6c 6c 6f", &m);
    ck_assert_uint_eq(m.u.chunk_fetch_success.body.len, 5);
    ck_assert_mem_eq(m.u.chunk_fetch_success.body.data, "hello", 5);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 4d 02 00 00 00 00 00 0f 42 40 00 00 00 01 00 00 00 34 6a "
        "61 76 61 2e 6c 61 6e 67 2e 49 6c 6c 65 67 61 6c 53 74 61 74 65 45 78 63 65 70 74 "
        "69 6f 6e 3a 20 43 68 75 6e 6b 20 77 61 73 20 6e 6f 74 20 66 6f 75 6e 64",
        &m);
    ck_assert_int_eq(m.u.chunk_fetch_failure.chunk_index, 1);
    ck_assert_uint_eq(m.u.chunk_fetch_failure.error.len, 52);

    frames[n++] =
        round_trip_hex("00 00 00 00 00 00 00 16 06 00 00 00 09 31 30 30 30 30 30 30 5f 30", &m);
    ck_assert_mem_eq(m.u.stream_request.stream_id.data, "1000000_0", 9);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 1e 07 00 00 00 09 31 30 30 30 30 30 30 5f 30 00 00 00 00 "
        "00 00 00 05 68 65 6c 6c 6f",
        &m);
    ck_assert(m.u.stream_response.byte_count == 5);

    frames[n++] = round_trip_hex(
        "00 00 00 00 00 00 00 3b 08 00 00 00 09 31 30 30 30 30 30 30 5f 39 00 00 00 21 "
        "53 74 72 65 61 6d 20 27 31 30 30 30 30 30 30 5f 39 27 20 77 61 73 20 6e 6f 74 20 "
        "66 6f 75 6e 64 2e",
        &m);
    ck_assert_uint_eq(m.u.stream_failure.error.len, 33);
    while (n > 0)
        free(frames[--n]);
}
END_TEST

START_TEST(header_only_encoding_counts_the_body_sent_separately)
{
    /* A ChunkFetchSuccess whose 1 MiB body goes out by sendfile. */
    struct proto_msg m = {.type = PROTO_CHUNK_FETCH_SUCCESS};
    m.u.chunk_fetch_success.stream_id = 7;
    m.u.chunk_fetch_success.chunk_index = 3;
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode_header(&w, &m, 1 << 20);
    ck_assert_mem_hex(w.buf, w.len, "0000000000100015 01 0000000000000007 00000003");
    proto_writer_reset(&w);
    /* RpcResponse: the legacy body length is filled in too. */
    m.type = PROTO_RPC_RESPONSE;
    m.u.rpc.request_id = 9;
    proto_msg_encode_header(&w, &m, 13);
    ck_assert_mem_hex(w.buf, w.len, "0000000000000022 04 0000000000000009 0000000d");
    proto_writer_free(&w);
}
END_TEST

START_TEST(every_type_round_trips_with_edge_values)
{
    static const uint8_t utf8[] = "\xe2\x82\xac\xc3\xa9"; /* "€é" */
    struct proto_view empty = {(const uint8_t *)"", 0}, text = {utf8, 5};
    struct proto_msg ms[13];
    memset(ms, 0, sizeof(ms));
    for (int t = 0; t <= PROTO_MERGED_BLOCK_META_SUCCESS; t++)
        ms[t].type = (enum proto_msg_type)t;
    ms[0].u.chunk_fetch_request.stream_id = INT64_MAX;
    ms[0].u.chunk_fetch_request.chunk_index = INT32_MAX;
    ms[1].u.chunk_fetch_success.stream_id = INT64_MIN;
    ms[1].u.chunk_fetch_success.body = empty;
    ms[2].u.chunk_fetch_failure.error = text;
    ms[3].u.rpc.request_id = -1;
    ms[3].u.rpc.body = text;
    ms[4].u.rpc.body = empty;
    ms[5].u.rpc_failure.error = empty;
    ms[6].u.stream_request.stream_id = text;
    ms[7].u.stream_response.stream_id = empty;
    ms[7].u.stream_response.byte_count = INT64_MAX;
    ms[8].u.stream_failure.stream_id = text;
    ms[8].u.stream_failure.error = text;
    ms[9].u.one_way.body = text;
    ms[10].u.upload_stream.meta = text;
    ms[10].u.upload_stream.body_byte_count = 0;
    ms[11].u.merged_block_meta_request.app_id = text;
    ms[11].u.merged_block_meta_request.reduce_id = INT32_MIN;
    ms[12].u.merged_block_meta_success.num_chunks = 2;
    ms[12].u.merged_block_meta_success.body = text;
    for (int t = 0; t <= PROTO_MERGED_BLOCK_META_SUCCESS; t++) {
        struct proto_writer w, w2;
        struct proto_msg back;
        char err[200], desc[200];
        proto_writer_init(&w);
        proto_writer_init(&w2);
        proto_msg_encode(&w, &ms[t]);
        ck_assert_uint_eq(proto_load_u64(w.buf), w.len);
        ck_assert_int_eq(w.buf[8], t);
        ck_assert_msg(proto_msg_decode(t, w.buf + 9, w.len - 9, &back, err, sizeof(err)) == 0,
                      "%s: %s", proto_msg_type_name(t), err);
        proto_msg_encode(&w2, &back);
        ck_assert_uint_eq(w2.len, w.len);
        ck_assert_mem_eq(w2.buf, w.buf, w.len);
        proto_msg_describe(&back, desc, sizeof(desc));
        ck_assert_msg(strncmp(desc, proto_msg_type_name(t), strlen(proto_msg_type_name(t))) == 0,
                      "%s", desc);
        proto_writer_free(&w);
        proto_writer_free(&w2);
    }
}
END_TEST

START_TEST(truncated_or_padded_headers_are_errors_naming_the_message)
{
    struct {
        int type;
        const char *content_hex;
        const char *expect;
    } cases[] = {
        {PROTO_CHUNK_FETCH_REQUEST, "0000000000000001 000000", "ChunkFetchRequest"},
        {PROTO_CHUNK_FETCH_REQUEST, "0000000000000001 00000000 00", "trailing bytes"},
        {PROTO_RPC_FAILURE, "0000000000000001 00000384 6a61", "RpcFailure"},
        {PROTO_RPC_FAILURE, "0000000000000001 ffffffff", "negative length"},
        {PROTO_STREAM_REQUEST, "", "StreamRequest"},
        {PROTO_STREAM_RESPONSE, "00000001 31 ffffffffffffffff", "negative byte count"},
        {PROTO_UPLOAD_STREAM, "0000000000000001 00000001 aa 8000000000000000", "negative"},
        {PROTO_RPC_REQUEST, "00000000000000", "RpcRequest"},
        {PROTO_MERGED_BLOCK_META_REQUEST, "0000000000000001 00000000 00000001", "truncated"},
        {13, "", "unknown message type 13"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t len;
        uint8_t *buf = test_hex(cases[i].content_hex, &len);
        struct proto_msg m;
        char err[200] = "";
        ck_assert_int_eq(proto_msg_decode(cases[i].type, buf, len, &m, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].expect);
        free(buf);
    }
}
END_TEST

START_TEST(the_legacy_body_length_is_ignored_on_read)
{
    /* bodyLen says 99, the frame holds 2 body bytes: the frame wins (protocol.md 3.1). */
    size_t len;
    uint8_t *buf = test_hex("0000000000000001 00000063 abcd", &len);
    struct proto_msg m;
    char err[100];
    ck_assert_int_eq(proto_msg_decode(PROTO_RPC_REQUEST, buf, len, &m, err, sizeof(err)), 0);
    ck_assert_uint_eq(m.u.rpc.body.len, 2);
    free(buf);
}
END_TEST

START_TEST(type_names)
{
    ck_assert_str_eq(proto_msg_type_name(0), "ChunkFetchRequest");
    ck_assert_str_eq(proto_msg_type_name(12), "MergedBlockMetaSuccess");
    ck_assert_str_eq(proto_msg_type_name(13), "Unknown");
    ck_assert_str_eq(proto_msg_type_name(-1), "Unknown");
    ck_assert(!proto_msg_type_is_known(255));
}
END_TEST

CHECK_MAIN((.suite = "message", .name = "message"), spec_dumps_decode_and_reencode,
           header_only_encoding_counts_the_body_sent_separately,
           every_type_round_trips_with_edge_values,
           truncated_or_padded_headers_are_errors_naming_the_message,
           the_legacy_body_length_is_ignored_on_read, type_names)
