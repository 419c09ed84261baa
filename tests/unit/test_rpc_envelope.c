/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC envelope (docs/rpc.md): exact bytes of a full and an address-less envelope, round
 * trips, and every malformed header refused with its reason. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "proto/message.h"
#include "proto/rpc_envelope.h"
#include "test_util.h"

static struct proto_view view(const char *s)
{
    return (struct proto_view){(const uint8_t *)s, (uint32_t)strlen(s)};
}

START_TEST(full_envelope_bytes)
{
    struct rpc_envelope e = {
        .sender = {true, view("a"), 7},
        .receiver = {true, view("bc"), 65535},
        .name = view("echo"),
        .payload = view("hi"),
    };
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(rpc_envelope_encode(&w, &e));
    size_t n;
    uint8_t *want = test_hex("01 00 01 61 00 00 00 07 01 00 02 62 63 00 00 ff ff "
                             "00 04 65 63 68 6f 68 69",
                             &n);
    ck_assert_uint_eq(w.len, n);
    ck_assert_mem_eq(w.buf, want, n);
    ck_assert_uint_eq(rpc_envelope_header_len(&e), n - 2);
    struct rpc_envelope d;
    char err[128];
    ck_assert_int_eq(rpc_envelope_decode(w.buf, w.len, &d, err, sizeof err), 0);
    ck_assert(d.sender.present && d.receiver.present);
    ck_assert_int_eq(d.sender.port, 7);
    ck_assert_int_eq(d.receiver.port, 65535);
    ck_assert_uint_eq(d.receiver.host.len, 2);
    ck_assert_mem_eq(d.receiver.host.data, "bc", 2);
    ck_assert_uint_eq(d.name.len, 4);
    ck_assert_mem_eq(d.name.data, "echo", 4);
    ck_assert_uint_eq(d.payload.len, 2);
    ck_assert_mem_eq(d.payload.data, "hi", 2);
    free(want);
    proto_writer_free(&w);
}
END_TEST

START_TEST(absent_addresses_and_empty_payload)
{
    struct rpc_envelope e = {.name = view("counter")};
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(rpc_envelope_encode(&w, &e));
    size_t n;
    uint8_t *want = test_hex("00 00 00 07 63 6f 75 6e 74 65 72", &n);
    ck_assert_uint_eq(w.len, n);
    ck_assert_mem_eq(w.buf, want, n);
    struct rpc_envelope d;
    char err[128];
    ck_assert_int_eq(rpc_envelope_decode(w.buf, w.len, &d, err, sizeof err), 0);
    ck_assert(!d.sender.present && !d.receiver.present);
    ck_assert_uint_eq(d.payload.len, 0);
    free(want);
    proto_writer_free(&w);
}
END_TEST

static void expect_refused(const char *hex, const char *reason)
{
    size_t n;
    uint8_t *body = test_hex(hex, &n);
    struct rpc_envelope d;
    char err[128] = "";
    ck_assert_int_eq(rpc_envelope_decode(body, n, &d, err, sizeof err), -1);
    ck_assert_msg(strstr(err, reason), "'%s' lacks '%s'", err, reason);
    free(body);
}

START_TEST(malformed_headers_are_refused)
{
    expect_refused("", "envelope sender");
    expect_refused("02", "presence byte 2");
    expect_refused("01 00 05 61", "envelope sender");
    expect_refused("01 00 01 61 00 00", "envelope sender port");
    expect_refused("01 00 01 61 00 01 00 00", "out of range");
    expect_refused("01 00 01 61 ff ff ff ff", "out of range");
    expect_refused("01 00 01 00 00 00 00 01", "sender holds a NUL");
    expect_refused("00 00 00 02 61 00", "name holds a NUL");
    expect_refused("00 00 00 00", "name is empty");
    expect_refused("00 00 00", "envelope name");
}
END_TEST

START_TEST(overlong_name_is_not_encoded)
{
    size_t big = RPC_ENVELOPE_MAX_STRING + 1;
    char *name = malloc(big);
    memset(name, 'n', big);
    struct rpc_envelope e = {.name = {(const uint8_t *)name, (uint32_t)big}};
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(!rpc_envelope_encode(&w, &e));
    proto_writer_free(&w);
    free(name);
}
END_TEST

/* The frame head written in place equals the transport codec's frame of the same body. */
START_TEST(frame_head_matches_the_transport_codec)
{
    struct rpc_envelope e = {
        .sender = {true, view("127.0.0.1"), 40000},
        .receiver = {true, view("node-b"), 7077},
        .name = view("counter"),
        .payload = view("a payload of some bytes"),
    };
    struct proto_writer body;
    proto_writer_init(&body);
    ck_assert(rpc_envelope_encode(&body, &e));
    for (int ask = 0; ask <= 1; ask++) {
        struct proto_msg m = {.type = ask ? PROTO_RPC_REQUEST : PROTO_ONE_WAY_MESSAGE};
        struct proto_view v = {body.buf, (uint32_t)body.len};
        if (ask) {
            m.u.rpc.request_id = 0x1122334455667788LL;
            m.u.rpc.body = v;
        } else {
            m.u.one_way.body = v;
        }
        struct proto_writer frame;
        proto_writer_init(&frame);
        proto_msg_encode(&frame, &m);
        uint8_t head[RPC_FRAME_HEAD_MAX];
        size_t n = rpc_frame_head(head, ask ? 0x1122334455667788LL : -1, &e);
        ck_assert_uint_eq(n + e.payload.len, frame.len);
        ck_assert_mem_eq(head, frame.buf, n);
        proto_writer_free(&frame);
    }
    proto_writer_free(&body);
    struct rpc_envelope long_name = {.name = {(const uint8_t *)"x", 256}};
    uint8_t head[RPC_FRAME_HEAD_MAX];
    ck_assert_uint_eq(rpc_frame_head(head, 1, &long_name), 0);
}
END_TEST

CHECK_MAIN((.suite = "rpc_envelope", .name = "rpc_envelope"), full_envelope_bytes,
           absent_addresses_and_empty_payload, malformed_headers_are_refused,
           overlong_name_is_not_encoded, frame_head_matches_the_transport_codec)
