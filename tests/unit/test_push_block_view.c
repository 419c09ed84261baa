/* SPDX-License-Identifier: Apache-2.0 */
/* push_block_view_decode (the push path's PushBlockStream decoder, no allocation) against the
 * message table's blockmsg_decode: both layouts, every truncation, trailing bytes, a negative
 * or overlong app id length, another message type. */
#include <config.h>

#include "proto/push_block_view.h"
#include "push_block_view_same.h"
#include "../check_main.h"

/* PushBlockStream in layout (3.1 or 3.2) with the given app id, encoded by the table. */
static void encode(struct proto_writer *w, enum blockmsg_layout layout, const char *app)
{
    struct blockmsg m = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
    m.u.push_block_stream.layout = layout;
    m.u.push_block_stream.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.push_block_stream.app_attempt_id = layout == BLOCKMSG_LAYOUT_32 ? 3 : 0;
    m.u.push_block_stream.shuffle_id = 7;
    m.u.push_block_stream.shuffle_merge_id = layout == BLOCKMSG_LAYOUT_32 ? -1 : 0;
    m.u.push_block_stream.map_index = 1234567;
    m.u.push_block_stream.reduce_id = 89;
    m.u.push_block_stream.index = 2;
    proto_writer_init(w);
    blockmsg_encode(w, &m);
    ck_assert(!w->failed);
}

/* Decodes the table's encoding in layout and checks every field, and that the app id is
 * borrowed from the buffer (after the type byte and the length). */
static void check_fields(enum blockmsg_layout layout, int32_t attempt, int32_t merge_id)
{
    struct proto_writer w;
    encode(&w, layout, "app-20261203-0001");
    struct push_block_view v;
    ck_assert_int_eq(push_block_view_decode(w.buf, w.len, &v), 0);
    ck_assert_int_eq(v.layout, layout);
    ck_assert_uint_eq(v.app_id_len, 17);
    ck_assert(v.app_id == w.buf + 5 && memcmp(v.app_id, "app-20261203-0001", 17) == 0);
    ck_assert_int_eq(v.app_attempt_id, attempt);
    ck_assert_int_eq(v.shuffle_id, 7);
    ck_assert_int_eq(v.shuffle_merge_id, merge_id);
    ck_assert_int_eq(v.map_index, 1234567);
    ck_assert_int_eq(v.reduce_id, 89);
    ck_assert_int_eq(v.index, 2);
    ck_assert(push_block_view_same(w.buf, w.len));
    proto_writer_free(&w);
}

START_TEST(test_layout_32_fields)
{
    check_fields(BLOCKMSG_LAYOUT_32, 3, -1);
}
END_TEST

START_TEST(test_layout_31_fields)
{
    check_fields(BLOCKMSG_LAYOUT_31, 0, 0); /* 3.1 has neither: left 0 */
}
END_TEST

/* Every prefix, and the whole with trailing bytes: the same verdict and fields as the table
 * (a 3.2 message cut short turns into a 3.1 one there too). */
START_TEST(test_truncations_and_trailing_bytes_agree)
{
    for (int layout = BLOCKMSG_LAYOUT_31; layout <= BLOCKMSG_LAYOUT_32; layout++) {
        struct proto_writer w;
        encode(&w, (enum blockmsg_layout)layout, "app-2");
        for (size_t n = 0; n <= w.len; n++)
            ck_assert_msg(push_block_view_same(w.buf, n), "layout %d, %zu of %zu bytes", layout, n,
                          w.len);
        for (int extra = 1; extra <= 9; extra++) {
            proto_write_u8(&w, 0x5a);
            ck_assert(push_block_view_same(w.buf, w.len));
        }
        proto_writer_free(&w);
    }
}
END_TEST

START_TEST(test_bad_lengths_and_other_types_fail)
{
    struct proto_writer w;
    encode(&w, BLOCKMSG_LAYOUT_32, "app-3");
    struct push_block_view v;
    proto_patch_i32(&w, 1, -1); /* negative app id length */
    ck_assert_int_eq(push_block_view_decode(w.buf, w.len, &v), -1);
    ck_assert(push_block_view_same(w.buf, w.len));
    proto_patch_i32(&w, 1, (int32_t)w.len); /* past the end */
    ck_assert_int_eq(push_block_view_decode(w.buf, w.len, &v), -1);
    ck_assert(push_block_view_same(w.buf, w.len));
    proto_patch_i32(&w, 1, 5);
    w.buf[0] = BLOCKMSG_FINALIZE_SHUFFLE_MERGE; /* decodes, but is no PushBlockStream */
    ck_assert_int_eq(push_block_view_decode(w.buf, w.len, &v), -1);
    ck_assert(push_block_view_same(w.buf, w.len));
    proto_writer_free(&w);
}
END_TEST

CHECK_MAIN((.suite = "push_block_view", .name = "decode"), test_layout_32_fields,
           test_layout_31_fields, test_truncations_and_trailing_bytes_agree,
           test_bad_lengths_and_other_types_fail)
