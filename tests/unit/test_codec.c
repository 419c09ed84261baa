/* SPDX-License-Identifier: Apache-2.0 */
/* The big-endian reader/writer (protocol.md 3.2) and RoaringBitmap framing (protocol.md 3.3). */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "test_util.h"

START_TEST(integers_are_big_endian_at_their_limits)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_i32(&w, INT32_MIN);
    proto_write_i32(&w, INT32_MAX);
    proto_write_i64(&w, INT64_MIN);
    proto_write_i64(&w, -1);
    proto_write_bool(&w, true);
    proto_write_u8(&w, 0xfe);
    ck_assert_mem_hex(w.buf, w.len, "80000000 7fffffff 8000000000000000 ffffffffffffffff 01 fe");

    struct proto_reader r;
    int32_t a, b;
    int64_t c, d;
    bool t;
    uint8_t u;
    proto_reader_init(&r, w.buf, w.len);
    ck_assert(proto_read_i32(&r, &a) && proto_read_i32(&r, &b));
    ck_assert(proto_read_i64(&r, &c) && proto_read_i64(&r, &d));
    ck_assert(proto_read_bool(&r, &t) && proto_read_u8(&r, &u));
    ck_assert_int_eq(a, INT32_MIN);
    ck_assert_int_eq(b, INT32_MAX);
    ck_assert(c == INT64_MIN && d == -1 && t && u == 0xfe);
    ck_assert_uint_eq(proto_reader_remaining(&r), 0);
    ck_assert(!proto_read_u8(&r, &u));
    ck_assert_ptr_nonnull(proto_reader_error(&r));
    proto_writer_free(&w);
}
END_TEST

START_TEST(any_nonzero_byte_reads_as_true)
{
    const uint8_t bytes[] = {0x00, 0x02, 0xff};
    struct proto_reader r;
    bool v;
    proto_reader_init(&r, bytes, sizeof(bytes));
    ck_assert(proto_read_bool(&r, &v) && !v);
    ck_assert(proto_read_bool(&r, &v) && v);
    ck_assert(proto_read_bool(&r, &v) && v);
}
END_TEST

START_TEST(strings_are_length_prefixed_utf8)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_str(&w, "app-1");
    proto_write_str(&w, "");
    proto_write_str(&w, "d\xc3\xa9j\xc3\xa0 \xe2\x82\xac"); /* "déjà €" */
    ck_assert_mem_hex(w.buf, w.len, "00000005 6170702d31 00000000 0000000a 64c3a96ac3a020e282ac");
    struct proto_reader r;
    struct proto_bytes a, b, c;
    proto_reader_init(&r, w.buf, w.len);
    ck_assert(proto_read_bytes(&r, &a) && proto_read_bytes(&r, &b) && proto_read_bytes(&r, &c));
    ck_assert_str_eq(a.data, "app-1");
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.data, "");
    ck_assert_uint_eq(c.len, 10);
    ck_assert_str_eq(c.data, "d\xc3\xa9j\xc3\xa0 \xe2\x82\xac");
    proto_bytes_free(&a);
    proto_bytes_free(&b);
    proto_bytes_free(&c);
    proto_writer_free(&w);
}
END_TEST

START_TEST(arrays_round_trip_including_empty_ones)
{
    struct proto_bytes names[2];
    proto_bytes_set_str(&names[0], "x");
    proto_bytes_set_str(&names[1], "");
    struct proto_string_array sa = {names, 2}, sa_empty = {NULL, 0};
    int32_t ints[] = {INT32_MIN, 0, INT32_MAX};
    struct proto_int_array ia = {ints, 3};
    int64_t longs[] = {INT64_MAX, 5};
    struct proto_long_array la = {longs, 2};
    struct proto_int_array rows[] = {{ints, 1}, {NULL, 0}};
    struct proto_int_matrix im = {rows, 2};

    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_string_array(&w, &sa);
    proto_write_string_array(&w, &sa_empty);
    proto_write_int_array(&w, &ia);
    proto_write_long_array(&w, &la);
    proto_write_int_matrix(&w, &im);
    ck_assert_mem_hex(w.buf, w.len,
                      "00000002 00000001 78 00000000 | 00000000 |"
                      "00000003 80000000 00000000 7fffffff |"
                      "00000002 7fffffffffffffff 0000000000000005 |"
                      "00000002 00000001 80000000 00000000");

    struct proto_reader r;
    struct proto_string_array sa2, sa3;
    struct proto_int_array ia2;
    struct proto_long_array la2;
    struct proto_int_matrix im2;
    proto_reader_init(&r, w.buf, w.len);
    ck_assert(proto_read_string_array(&r, &sa2));
    ck_assert(proto_read_string_array(&r, &sa3));
    ck_assert(proto_read_int_array(&r, &ia2));
    ck_assert(proto_read_long_array(&r, &la2));
    ck_assert(proto_read_int_matrix(&r, &im2));
    ck_assert_uint_eq(proto_reader_remaining(&r), 0);
    ck_assert_uint_eq(sa2.count, 2);
    ck_assert_str_eq(sa2.items[0].data, "x");
    ck_assert_uint_eq(sa3.count, 0);
    ck_assert_int_eq(ia2.items[0], INT32_MIN);
    ck_assert_int_eq(ia2.items[2], INT32_MAX);
    ck_assert(la2.items[0] == INT64_MAX);
    ck_assert_uint_eq(im2.count, 2);
    ck_assert_uint_eq(im2.rows[0].count, 1);
    ck_assert_uint_eq(im2.rows[1].count, 0);
    proto_string_array_free(&sa2);
    proto_string_array_free(&sa3);
    proto_int_array_free(&ia2);
    proto_long_array_free(&la2);
    proto_int_matrix_free(&im2);
    proto_bytes_free(&names[0]);
    proto_bytes_free(&names[1]);
    proto_writer_free(&w);
}
END_TEST

/* Each malformed input fails cleanly, with nothing allocated to leak. */
START_TEST(negative_and_oversized_lengths_are_rejected_without_allocating)
{
    struct {
        const char *hex;
        int kind; /* 0 string, 1 string[], 2 int[], 3 long[], 4 int[][] */
    } cases[] = {
        {"ffffffff", 0},             /* negative string length */
        {"7fffffff 61", 0},          /* length past end */
        {"00000002 00000001 61", 1}, /* second string missing */
        {"80000000", 1},             /* negative count */
        {"10000000 00000000", 2},    /* 2^28 ints announced, 4 bytes present */
        {"00000001 00000000", 3},    /* one long, 4 bytes present */
        {"00000002 00000000", 4},    /* second row missing */
        {"00000001 ffffffff", 4},    /* negative inner count */
        {"000000", 0},               /* truncated length itself */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t len;
        uint8_t *buf = test_hex(cases[i].hex, &len);
        struct proto_reader r;
        proto_reader_init(&r, buf, len);
        bool ok = true;
        struct proto_bytes b;
        struct proto_string_array sa;
        struct proto_int_array ia;
        struct proto_long_array la;
        struct proto_int_matrix im;
        switch (cases[i].kind) {
        case 0:
            ok = proto_read_bytes(&r, &b);
            ck_assert_ptr_null(b.data);
            break;
        case 1:
            ok = proto_read_string_array(&r, &sa);
            ck_assert_ptr_null(sa.items);
            break;
        case 2:
            ok = proto_read_int_array(&r, &ia);
            ck_assert_ptr_null(ia.items);
            break;
        case 3:
            ok = proto_read_long_array(&r, &la);
            ck_assert_ptr_null(la.items);
            break;
        case 4:
            ok = proto_read_int_matrix(&r, &im);
            ck_assert_ptr_null(im.rows);
            break;
        }
        ck_assert_msg(!ok, "case %zu (%s) should fail", i, cases[i].hex);
        ck_assert_ptr_nonnull(proto_reader_error(&r));
        free(buf);
    }
}
END_TEST

START_TEST(a_failed_reader_stays_failed)
{
    const uint8_t bytes[] = {0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8};
    struct proto_reader r;
    struct proto_bytes b;
    int32_t v;
    proto_reader_init(&r, bytes, sizeof(bytes));
    ck_assert(!proto_read_bytes(&r, &b));
    ck_assert(!proto_read_i32(&r, &v)); /* bytes are there, but the reader failed */
    ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(roaring_bitmap_sizes_match_spec_examples)
{
    const char *examples[] = {
        "3a300000 00000000",
        "3a300000 01000000 00000200 10000000 010003000500",
        "3b300000 01 00000900 0100 0000 0900",
        "3a300000 02000000 00000000 01000000 18000000 1a000000 0700 0200",
    };
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        uint8_t *buf = test_hex(examples[i], &len);
        ck_assert_uint_eq(proto_bitmap_size(buf, len), len);
        for (size_t cut = 0; cut < len; cut++)
            ck_assert_uint_eq(proto_bitmap_size(buf, cut), 0);
        /* Trailing bytes are not part of the bitmap. */
        uint8_t *longer = malloc(len + 3);
        memcpy(longer, buf, len);
        memset(longer + len, 0xAA, 3);
        struct proto_reader r;
        struct proto_bytes bm;
        proto_reader_init(&r, longer, len + 3);
        ck_assert(proto_read_bitmap(&r, &bm));
        ck_assert_uint_eq(bm.len, len);
        ck_assert_uint_eq(proto_reader_remaining(&r), 3);
        proto_bytes_free(&bm);
        free(longer);
        free(buf);
    }
    const uint8_t bad_cookie[] = {0x3c, 0x30, 0, 0, 0, 0, 0, 0};
    ck_assert_uint_eq(proto_bitmap_size(bad_cookie, sizeof(bad_cookie)), 0);
}
END_TEST

START_TEST(writer_patches_and_hands_over_its_buffer)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_i64(&w, 0);
    proto_write_i32(&w, 0);
    proto_write_raw(&w, "abc", 3);
    proto_patch_i64(&w, 0, (int64_t)w.len);
    proto_patch_i32(&w, 8, 3);
    size_t len;
    uint8_t *buf = proto_writer_take(&w, &len);
    ck_assert_mem_hex(buf, len, "000000000000000f 00000003 616263");
    ck_assert_ptr_null(w.buf);
    free(buf);
}
END_TEST

START_TEST(a_fixed_writer_fills_the_callers_storage_and_fails_past_it)
{
    uint8_t storage[8];
    struct proto_writer w;
    proto_writer_init_fixed(&w, storage, sizeof storage);
    proto_write_i32(&w, 7);
    proto_write_raw(&w, "ab", 2);
    ck_assert(!w.failed);
    ck_assert_ptr_eq(w.buf, storage); /* no allocation */
    ck_assert_mem_hex(storage, w.len, "00000007 6162");
    size_t len;
    uint8_t *copy = proto_writer_take(&w, &len); /* a copy the caller frees */
    ck_assert_ptr_ne(copy, storage);
    ck_assert_mem_hex(copy, len, "00000007 6162");
    free(copy);

    proto_writer_init_fixed(&w, storage, sizeof storage);
    proto_write_i32(&w, 1);
    proto_write_i32(&w, 2);
    ck_assert(!w.failed); /* exactly full */
    proto_write_u8(&w, 3);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 8);
    ck_assert_ptr_eq(w.buf, storage);
    proto_writer_free(&w); /* does not free the caller's storage */
}
END_TEST

CHECK_MAIN((.suite = "codec", .name = "codec"), integers_are_big_endian_at_their_limits,
           any_nonzero_byte_reads_as_true, strings_are_length_prefixed_utf8,
           arrays_round_trip_including_empty_ones,
           negative_and_oversized_lengths_are_rejected_without_allocating,
           a_failed_reader_stays_failed, roaring_bitmap_sizes_match_spec_examples,
           writer_patches_and_hands_over_its_buffer,
           a_fixed_writer_fills_the_callers_storage_and_fails_past_it)
