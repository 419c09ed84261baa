/* SPDX-License-Identifier: Apache-2.0 */
/* The incremental frame decoder (protocol.md 3.1): any split, limits, raw data. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/message.h"
#include "test_util.h"

/* A ChunkFetchRequest, an RpcRequest with a 3-byte body, and a StreamResponse
 * announcing 5 bytes of after-frame data, followed by those bytes. */
static const char *three_frames_hex =
    "0000000000000015 00 00000000000f4240 00000000"
    "0000000000000018 03 0000000000000001 00000003 aabbcc"
    "000000000000001e 07 00000009 313030303030305f30 0000000000000005 68656c6c6f";

struct collected {
    int types[16];
    size_t content_len[16];
    int frames;
    char raw[64];
    size_t raw_len;
};

static void feed(struct frame_decoder *d, const uint8_t *data, size_t len, struct collected *c)
{
    struct frame_out out;
    enum frame_event ev;
    while ((ev = frame_decoder_next(d, &data, &len, &out)) != FRAME_NEED_MORE) {
        ck_assert_msg(ev != FRAME_ERROR, "unexpected error: %s", d->error);
        if (ev == FRAME_MESSAGE) {
            struct proto_msg m;
            char err[128];
            ck_assert_int_eq(
                proto_msg_decode(out.type, out.content, out.content_len, &m, err, sizeof(err)), 0);
            c->types[c->frames] = out.type;
            c->content_len[c->frames++] = out.content_len;
        } else {
            memcpy(c->raw + c->raw_len, out.raw, out.raw_len);
            c->raw_len += out.raw_len;
        }
    }
    ck_assert_uint_eq(len, 0);
}

static void check_three(const struct collected *c)
{
    ck_assert_int_eq(c->frames, 3);
    ck_assert_int_eq(c->types[0], PROTO_CHUNK_FETCH_REQUEST);
    ck_assert_int_eq(c->types[1], PROTO_RPC_REQUEST);
    ck_assert_int_eq(c->types[2], PROTO_STREAM_RESPONSE);
    ck_assert_uint_eq(c->content_len[1], 15);
    ck_assert_uint_eq(c->raw_len, 5);
    ck_assert_mem_eq(c->raw, "hello", 5);
}

START_TEST(every_split_point_yields_the_same_frames)
{
    size_t len;
    uint8_t *all = test_hex(three_frames_hex, &len);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b += 7) {
            struct frame_decoder d;
            struct collected c = {0};
            frame_decoder_init(&d, 0);
            feed(&d, all, a, &c);
            feed(&d, all + a, b - a, &c);
            feed(&d, all + b, len - b, &c);
            check_three(&c);
            ck_assert(frame_decoder_idle(&d));
            frame_decoder_free(&d);
        }
    }
    free(all);
}
END_TEST

START_TEST(one_byte_at_a_time)
{
    size_t len;
    uint8_t *all = test_hex(three_frames_hex, &len);
    struct frame_decoder d;
    struct collected c = {0};
    frame_decoder_init(&d, 0);
    for (size_t i = 0; i < len; i++) {
        feed(&d, all + i, 1, &c);
    }
    check_three(&c);
    frame_decoder_free(&d);
    free(all);
}
END_TEST

START_TEST(whole_frames_in_input_are_not_copied)
{
    size_t len;
    uint8_t *all = test_hex(three_frames_hex, &len);
    struct frame_decoder d;
    struct frame_out out;
    const uint8_t *p = all;
    frame_decoder_init(&d, 0);
    ck_assert_int_eq(frame_decoder_next(&d, &p, &len, &out), FRAME_MESSAGE);
    ck_assert_ptr_eq(out.content, all + PROTO_FRAME_HEADER_LEN);
    ck_assert_ptr_null(d.buf);
    frame_decoder_free(&d);
    free(all);
}
END_TEST

static const char *decode_error(const char *hex, uint64_t max)
{
    static char msg[200];
    size_t len;
    uint8_t *buf = test_hex(hex, &len);
    struct frame_decoder d;
    struct frame_out out;
    const uint8_t *p = buf;
    enum frame_event ev;
    frame_decoder_init(&d, max);
    while ((ev = frame_decoder_next(&d, &p, &len, &out)) == FRAME_MESSAGE || ev == FRAME_RAW)
        ;
    ck_assert_int_eq(ev, FRAME_ERROR);
    /* Stays failed. */
    ck_assert_int_eq(frame_decoder_next(&d, &p, &len, &out), FRAME_ERROR);
    ck_assert_ptr_null(d.buf); /* nothing allocated for the bad frame */
    snprintf(msg, sizeof(msg), "%s", d.error);
    frame_decoder_free(&d);
    free(buf);
    return msg;
}

START_TEST(malformed_lengths_and_types_are_errors)
{
    ck_assert_str_eq(decode_error("0000000000000008 00", 0), "frame length should be positive: 0");
    ck_assert_str_eq(decode_error("0000000000000000 00", 0), "frame length should be positive: -8");
    ck_assert_str_eq(decode_error("ffffffffffffffff 00", 0), "frame length should be positive: -9");
    ck_assert_ptr_nonnull(strstr(decode_error("00000000ffffffff 03", 0), "too large frame"));
    /* 1 MiB limit: refused from the 9 header bytes alone, before allocating. */
    ck_assert_str_eq(decode_error("0000000000100001 03", 1 << 20),
                     "too large frame: 1048577 bytes (limit 1048576)");
    ck_assert_str_eq(decode_error("0000000000000015 0d", 0), "unknown message type 13 (0x0d)");
    ck_assert_str_eq(decode_error("0000000000000015 ff", 0), "unknown message type 255 (0xff)");
    /* StreamResponse whose byte count is negative. */
    ck_assert_ptr_nonnull(strstr(
        decode_error("0000000000000016 07 00000001 31 ffffffffffffffff", 0), "StreamResponse"));
}
END_TEST

START_TEST(the_largest_java_frame_is_accepted_by_default)
{
    /* frameLen - 8 = 2147483646 is Java's maximum; one more is refused. */
    size_t len;
    uint8_t *ok = test_hex("0000000080000006 03", &len);
    struct frame_decoder d;
    struct frame_out out;
    const uint8_t *p = ok;
    frame_decoder_init(&d, 0);
    ck_assert_int_eq(frame_decoder_next(&d, &p, &len, &out), FRAME_NEED_MORE);
    ck_assert(!frame_decoder_idle(&d));
    ck_assert_ptr_null(d.buf);
    frame_decoder_free(&d);
    free(ok);
    ck_assert_ptr_nonnull(strstr(decode_error("0000000080000007 03", 0), "too large frame"));
}
END_TEST

START_TEST(buffers_grow_only_with_arriving_bytes)
{
    /* A frame announcing 1 MiB whose first 100 bytes arrived holds ~4 KiB, not 1 MiB. */
    struct frame_decoder d;
    uint8_t head[9 + 100] = {0};
    proto_store_u64(head, (1 << 20) + 9);
    head[8] = PROTO_RPC_REQUEST;
    const uint8_t *p = head;
    size_t len = sizeof(head);
    struct frame_out out;
    frame_decoder_init(&d, 0);
    ck_assert_int_eq(frame_decoder_next(&d, &p, &len, &out), FRAME_NEED_MORE);
    ck_assert_uint_le(d.buf_cap, 4096);
    frame_decoder_free(&d);
}
END_TEST

START_TEST(upload_stream_data_follows_the_frame)
{
    /* Spec 4.11 example: meta of 26 bytes, 5 data bytes after the frame, then a
     * ChunkFetchRequest that must be decoded as a frame again. */
    size_t len;
    uint8_t *buf = test_hex("00 00 00 00 00 00 00 37 0a 00 00 00 00 00 00 00"
                            "02 00 00 00 1a 0c 00 00 00 05 61 70 70 2d 31 00"
                            "00 00 00 00 00 00 05 00 00 00 02 00 00 00 00 00"
                            "00 00 00 00 00 00 05 | 01 02 03 04 05"
                            "0000000000000015 00 0000000000000001 00000002",
                            &len);
    struct frame_decoder d;
    struct collected c = {0};
    frame_decoder_init(&d, 0);
    feed(&d, buf, len, &c);
    ck_assert_int_eq(c.frames, 2);
    ck_assert_int_eq(c.types[0], PROTO_UPLOAD_STREAM);
    ck_assert_int_eq(c.types[1], PROTO_CHUNK_FETCH_REQUEST);
    ck_assert_uint_eq(c.raw_len, 5);
    ck_assert_mem_eq(c.raw, "\x01\x02\x03\x04\x05", 5);
    frame_decoder_free(&d);
    free(buf);
}
END_TEST

/* A reader asks for the rest of a body plus one more header like the one that announced it:
 * its read then ends where the next such body would start. */
START_TEST(read_hint_is_the_body_rest_plus_one_header)
{
    size_t len;
    uint8_t *buf = test_hex("00 00 00 00 00 00 00 37 0a 00 00 00 00 00 00 00"
                            "02 00 00 00 1a 0c 00 00 00 05 61 70 70 2d 31 00"
                            "00 00 00 00 00 00 05 00 00 00 02 00 00 00 00 00"
                            "00 00 00 00 00 00 05 | 01 02 03 04 05"
                            "0000000000000015 00 0000000000000001 00000002",
                            &len);
    const size_t head = 55; /* the UploadStream's frame: 8 + 1 + 46 content bytes */
    struct frame_decoder d;
    struct frame_out out;
    frame_decoder_init(&d, 0);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 0); /* nothing known yet */
    const uint8_t *at = buf;
    size_t left = head - 1;
    ck_assert_int_eq(frame_decoder_next(&d, &at, &left, &out), FRAME_NEED_MORE);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 0); /* inside a header: no guess */
    left = 1;
    ck_assert_int_eq(frame_decoder_next(&d, &at, &left, &out), FRAME_MESSAGE);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 5 + head);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 5), 5 + head);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 6), 0); /* less body left than asked */
    left = 2;
    ck_assert_int_eq(frame_decoder_next(&d, &at, &left, &out), FRAME_RAW);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 3 + head);
    left = len - head - 2;
    ck_assert_int_eq(frame_decoder_next(&d, &at, &left, &out), FRAME_RAW);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 0); /* the body is done */
    ck_assert_int_eq(frame_decoder_next(&d, &at, &left, &out), FRAME_MESSAGE);
    ck_assert_int_eq(out.type, PROTO_CHUNK_FETCH_REQUEST);
    ck_assert_uint_eq(frame_decoder_read_hint(&d, 0), 0);
    frame_decoder_free(&d);
    free(buf);
}
END_TEST

static int count_visit(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    (void)out;
    if (ev == FRAME_MESSAGE)
        (*(int *)ctx)++;
    return 0;
}

START_TEST(scan_reports_truncated_input)
{
    size_t len;
    uint8_t *all = test_hex(three_frames_hex, &len);
    char err[128];
    int n = 0;
    ck_assert_int_eq(frame_scan(all, len, 0, count_visit, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 3);
    n = 0;
    ck_assert_int_eq(frame_scan(all, len - 1, 0, count_visit, &n, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "input ends inside a frame");
    free(all);
}
END_TEST

CHECK_MAIN((.suite = "frame", .name = "frame"), every_split_point_yields_the_same_frames,
           one_byte_at_a_time, whole_frames_in_input_are_not_copied,
           malformed_lengths_and_types_are_errors, the_largest_java_frame_is_accepted_by_default,
           buffers_grow_only_with_arriving_bytes, upload_stream_data_follows_the_frame,
           read_hint_is_the_body_rest_plus_one_header, scan_reports_truncated_input)
