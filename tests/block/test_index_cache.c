/* SPDX-License-Identifier: Apache-2.0 */
/* Index files: parsing, corrupt/short/missing files with Spark's texts, and the
 * LRU bound under churn. */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "server/block/index_cache.h"
#include "test_util_block.h"
#include "../check_main.h"

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void write_index(const char *path, const uint64_t *offs, size_t n)
{
    uint8_t buf[8 * 64];
    for (size_t i = 0; i < n; i++)
        be64(buf + 8 * i, offs[i]);
    ck_assert_int_eq(harness_write_file(path, buf, 8 * n), 0);
}

START_TEST(test_spec_example)
{
    const char *dir = harness_test_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/shuffle_0_0_0.index", dir);
    const uint64_t offs[] = {0, 5, 5, 11, 16};
    write_index(path, offs, 5);
    struct index_cache *c = index_cache_create(1 << 20);
    uint64_t off, len;
    char err[512];
    ck_assert_int_eq(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert(off == 0 && len == 5);
    ck_assert_int_eq(index_cache_range(c, path, false, 1, 2, &off, &len, err, sizeof(err)), 0);
    ck_assert(off == 5 && len == 0);
    ck_assert_int_eq(index_cache_range(c, path, false, 2, 3, &off, &len, err, sizeof(err)), 0);
    ck_assert(off == 5 && len == 6);
    ck_assert_int_eq(index_cache_range(c, path, false, 1, 4, &off, &len, err, sizeof(err)), 0);
    ck_assert(off == 5 && len == 11);
    ck_assert_uint_ge(index_cache_stats(c).hits, 3);
    ck_assert_int_eq(index_cache_stats(c).count, 1);
    /* reduce 4 of 4 partitions, and a batch end past the index */
    ck_assert_int_lt(index_cache_range(c, path, false, 4, 5, &off, &len, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "java.lang.IndexOutOfBoundsException");
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 9, &off, &len, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "java.lang.IndexOutOfBoundsException");
    ck_assert_int_lt(index_cache_range(c, path, false, 3, 2, &off, &len, err, sizeof(err)), 0);
    index_cache_destroy(c);
}
END_TEST

START_TEST(test_missing_and_corrupt)
{
    const char *dir = harness_test_dir();
    char path[512];
    struct index_cache *c = index_cache_create(1 << 20);
    uint64_t off, len;
    char err[1024], want[1024];
    snprintf(path, sizeof(path), "%s/shuffle_0_9_0.index", dir);
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "java.lang.RuntimeException: Failed to open file: %s\n", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s", err);
    /* 12 bytes: not a multiple of 8 */
    ck_assert_int_eq(harness_write_file(path, "\0\0\0\0\0\0\0\0\0\0\0\5", 12), 0);
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert(strstr(err, "Corrupt shuffle index file") != NULL);
    /* empty file */
    ck_assert_int_eq(harness_write_file(path, "", 0), 0);
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert(strstr(err, "Corrupt shuffle index file") != NULL);
    /* decreasing offsets */
    const uint64_t dec[] = {0, 9, 4};
    write_index(path, dec, 3);
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert(strstr(err, "Corrupt shuffle index file") != NULL);
    /* a directory in place of the file */
    snprintf(path, sizeof(path), "%s/sub.index", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_lt(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert(strstr(err, "Failed to open file") != NULL);
    ck_assert_int_eq(index_cache_stats(c).count, 0);
    /* a single offset (0 partitions) is valid but has no block */
    size_t n;
    uint8_t z[8] = {0};
    ck_assert_int_eq(index_parse(z, 8, NULL, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 1);
    z[0] = 0x80; /* negative */
    ck_assert_int_lt(index_parse(z, 8, NULL, &n, err, sizeof(err)), 0);
    index_cache_destroy(c);
}
END_TEST

START_TEST(test_lru_bound_under_churn)
{
    const char *dir = harness_test_dir();
    const uint64_t max = 4096;
    struct index_cache *c = index_cache_create(max);
    uint64_t offs[33];
    for (int i = 0; i < 33; i++)
        offs[i] = (uint64_t)i * 10;
    char path[512], err[512];
    uint64_t off, len;
    /* 200 distinct files of 8..264 bytes: far more than fits */
    for (int i = 0; i < 200; i++) {
        snprintf(path, sizeof(path), "%s/shuffle_0_%d_0.index", dir, i);
        write_index(path, offs, 1 + (size_t)(i % 33));
        int rc = index_cache_range(c, path, false, 0, i % 33, &off, &len, err, sizeof(err));
        ck_assert_int_eq(rc, 0);
        ck_assert(len == (uint64_t)(i % 33) * 10);
        ck_assert_uint_le(index_cache_stats(c).weight, max);
    }
    ck_assert_uint_gt(index_cache_stats(c).count, 0);
    ck_assert_uint_lt(index_cache_stats(c).count, 200);
    /* the most recent entry is a hit; LRU order: touch #199, add new, #199 survives */
    uint64_t hits = index_cache_stats(c).hits, misses = index_cache_stats(c).misses;
    ck_assert_uint_ge(misses, 200); /* every file was read once */
    snprintf(path, sizeof(path), "%s/shuffle_0_%d_0.index", dir, 199);
    ck_assert_int_eq(index_cache_range(c, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert_uint_eq(index_cache_stats(c).hits, hits + 1);
    ck_assert_uint_eq(index_cache_stats(c).misses, misses);
    /* an entry larger than the whole cache is served but not kept */
    struct index_cache *tiny = index_cache_create(16);
    ck_assert_int_eq(index_cache_range(tiny, path, false, 0, 1, &off, &len, err, sizeof(err)), 0);
    ck_assert_int_eq(index_cache_stats(tiny).count, 0);
    ck_assert_uint_eq(index_cache_stats(tiny).weight, 0);
    index_cache_destroy(tiny);
    index_cache_destroy(c);
}
END_TEST

CHECK_MAIN((.suite = "index_cache", .name = "core"), test_spec_example, test_missing_and_corrupt,
           test_lru_bound_under_churn)
