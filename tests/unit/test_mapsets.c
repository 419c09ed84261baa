/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's RoaringBitmaps of map indices as libshuffle reads them (client/mapsets.c, through
 * CRoaring): the recorded vectors-35 bitmaps (a run container, arrays, the empty set), the
 * spec's two-container example, chunk bitmaps back to back as in a .meta file, and malformed
 * or oversized input refused. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "client/mapsets.h"
#include "../check_main.h"

/* Hex to bytes (spaces ignored); the length. */
static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1];) {
        if (*p == ' ') {
            p++;
            continue;
        }
        char b[3] = {p[0], p[1], 0};
        out[n++] = (uint8_t)strtoul(b, NULL, 16);
        p += 2;
    }
    return n;
}

static void expect_values(const struct shuffle_map_sets *s, size_t i, const uint32_t *want,
                          size_t n)
{
    ck_assert_uint_eq(s->sizes[i], n);
    for (size_t k = 0; k < n; k++)
        ck_assert_uint_eq(s->map_indices[i][k], want[k]);
}

START_TEST(test_recorded_bitmaps)
{
    static const char *hex[] = {
        "3b3000000100000500010000000500",                            /* {0..5}, a run container */
        "3a300000010000000000020010000000000002000400",              /* {0,2,4} */
        "3a3000000100000000000000100000000100",                      /* {1} */
        "3a30000000000000",                                          /* {} */
        "3a300000020000000000000001000000180000001a0000000700 0200", /* {7,65538} */
    };
    uint8_t buf[5][64];
    struct proto_view v[5];
    for (int i = 0; i < 5; i++) {
        v[i].data = buf[i];
        v[i].len = (uint32_t)unhex(hex[i], buf[i]);
    }
    struct shuffle_map_sets *s;
    char err[200];
    void *block = mapsets_decode(24, v, 5, &s, err, sizeof(err));
    ck_assert_msg(block != NULL, "%s", err);
    ck_assert_ptr_eq((char *)block + 24, (char *)s); /* the caller's front comes first */
    ck_assert_uint_eq(s->count, 5);
    expect_values(s, 0, (const uint32_t[]){0, 1, 2, 3, 4, 5}, 6);
    expect_values(s, 1, (const uint32_t[]){0, 2, 4}, 3);
    expect_values(s, 2, (const uint32_t[]){1}, 1);
    expect_values(s, 3, NULL, 0);
    expect_values(s, 4, (const uint32_t[]){7, 65538}, 2);
    free(block);
}
END_TEST

/* reduce 0's .meta file of vectors-35: {0,1} {2,3,4} {5}, 60 bytes. */
START_TEST(test_split_meta)
{
    uint8_t buf[128];
    size_t len = unhex("3a30000001000000000001001000000000000100"
                       "3a300000010000000000020010000000020003000400"
                       "3a3000000100000000000000100000000500",
                       buf);
    ck_assert_uint_eq(len, 60);
    struct proto_view v[3];
    char err[200];
    ck_assert_int_eq(mapsets_split(buf, len, 3, v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v[0].len, 20);
    ck_assert_uint_eq(v[1].len, 22);
    ck_assert_uint_eq(v[2].len, 18);
    struct shuffle_map_sets *s;
    void *block = mapsets_decode(0, v, 3, &s, err, sizeof(err));
    ck_assert(block != NULL);
    expect_values(s, 1, (const uint32_t[]){2, 3, 4}, 3);
    free(block);
    /* one byte short, one byte too many, one chunk too many */
    ck_assert_int_eq(mapsets_split(buf, len - 1, 3, v, err, sizeof(err)), -1);
    buf[len] = 0;
    ck_assert_int_eq(mapsets_split(buf, len + 1, 3, v, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "1 bytes after the 3 chunk bitmaps");
    ck_assert_int_eq(mapsets_split(buf, len, 4, v, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_malformed_refused)
{
    uint8_t buf[64];
    struct proto_view v = {buf, (uint32_t)unhex("3a3000000100000000000200100000", buf)};
    struct shuffle_map_sets *s;
    char err[200];
    ck_assert(mapsets_decode(0, &v, 1, &s, err, sizeof(err)) == NULL); /* cut short */
    ck_assert_str_eq(err, "bitmap 0 is not a portable RoaringBitmap");
    /* 300 full run containers: 300 x 65536 values, past the bound. Layout: cookie with the
     * count, run flags, keys and cardinalities, offsets (4 or more containers), runs. */
    size_t n = 300, data_at = 4 + 38 + 8 * n, len = data_at + 6 * n;
    uint8_t *big = calloc(1, len);
    big[0] = 0x3b;
    big[1] = 0x30;
    big[2] = (uint8_t)((n - 1) & 0xff);
    big[3] = (uint8_t)((n - 1) >> 8);
    memset(big + 4, 0xff, 38); /* every container is a run */
    for (size_t k = 0; k < n; k++) {
        uint8_t *key = big + 42 + 4 * k, *offset = big + 42 + 4 * n + 4 * k;
        uint8_t *run = big + data_at + 6 * k;
        key[0] = (uint8_t)k;
        key[1] = (uint8_t)(k >> 8);
        key[2] = key[3] = 0xff; /* cardinality - 1 = 65535 */
        uint32_t at = (uint32_t)(data_at + 6 * k);
        for (int b = 0; b < 4; b++)
            offset[b] = (uint8_t)(at >> (8 * b));
        run[0] = 1;             /* one run ... */
        run[4] = run[5] = 0xff; /* ... from 0, length - 1 = 65535 */
    }
    struct proto_view bv = {big, (uint32_t)len};
    ck_assert(mapsets_decode(0, &bv, 1, &s, err, sizeof(err)) == NULL);
    ck_assert_msg(strstr(err, "more than") != NULL, "%s", err);
    free(big);
}
END_TEST

CHECK_MAIN((.suite = "mapsets", .name = "roaring"), test_recorded_bitmaps, test_split_meta,
           test_malformed_refused)
