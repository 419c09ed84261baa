/* SPDX-License-Identifier: Apache-2.0 */
/* Block-id grammar: Spark's forms parse; path tricks, bad numbers and
 * overlong ids are refused; OpenBlocks validation gives Spark's texts. */
#include <config.h>

#include <check.h>
#include <string.h>

#include "server/block/blockid.h"
#include "../check_main.h"

static int parse(const char *s, struct block_id *b)
{
    char err[256];
    return block_id_parse(s, strlen(s), b, err, sizeof(err));
}

START_TEST(test_valid_forms)
{
    struct block_id b;
    ck_assert_int_eq(parse("shuffle_0_5_1", &b), 0);
    ck_assert_int_eq(b.kind, BLOCK_SHUFFLE);
    ck_assert_int_eq(b.shuffle_id, 0);
    ck_assert_int_eq(b.map_id, 5);
    ck_assert_int_eq(b.reduce_id, 1);
    ck_assert_int_eq(parse("shuffle_3_9223372036854775807_2", &b), 0);
    ck_assert(b.map_id == INT64_MAX);
    ck_assert_int_eq(parse("shuffle_1_2_3_7", &b), 0);
    ck_assert_int_eq(b.kind, BLOCK_SHUFFLE_BATCH);
    ck_assert_int_eq(b.reduce_id, 3);
    ck_assert_int_eq(b.end_reduce, 7);
    ck_assert_int_eq(parse("rdd_3_1", &b), 0);
    ck_assert_int_eq(b.kind, BLOCK_RDD);
    ck_assert_int_eq(b.rdd_id, 3);
    ck_assert_int_eq(b.split_index, 1);
}
END_TEST

START_TEST(test_invalid_forms)
{
    static const char *bad[] = {
        "",
        "shuffle",
        "shuffle_0_1",
        "shuffle_0_1_",
        "shuffle__1_2",
        "shuffle_0_1_2_3_4",
        "shuffle_-1_2_3",
        "shuffle_+1_2_3",
        "shuffle_a_2_3",
        "shuffle_0_2_3 ",
        "shuffle_2147483648_0_0",
        "shuffle_0_9223372036854775808_0",
        "shuffle_0_0_99999999999999999999",
        "rdd_1",
        "rdd_1_2_3x",
        "rdd_1_-2",
        "rdd_../../etc_1",
        "shuffle_0_0_5_2" /* end < start */,
        "shuffle_0_../x_1",
        "shuffle_0_0_0/..",
        "broadcast_1",
        "_shuffle_0_0_0",
        "shuffle_0_0_0\x7f",
    };
    struct block_id b;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(parse(bad[i], &b) < 0, "accepted %s", bad[i]);
    char err[256];
    ck_assert_int_lt(block_id_parse("shuffle_0_0\0_0", 14, &b, err, sizeof(err)), 0);
    char longid[400];
    memset(longid, '1', sizeof(longid));
    memcpy(longid, "rdd_1_", 6);
    ck_assert_int_lt(block_id_parse(longid, sizeof(longid), &b, err, sizeof(err)), 0);
}
END_TEST

static int open_ids(const char **ids, size_t n, bool rdd, char *err, size_t errlen)
{
    size_t lens[8];
    struct block_id out[8];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(ids[i]);
    return block_ids_parse_open(ids, lens, n, rdd, out, err, errlen);
}

/* Opening ids (n of them) must fail with exactly want. */
static void expect_open_refused(const char **ids, size_t n, bool rdd, const char *want)
{
    char err[512];
    ck_assert_int_lt(open_ids(ids, n, rdd, err, sizeof(err)), 0);
    ck_assert_str_eq(err, want);
}

START_TEST(test_open_blocks_texts)
{
    char err[512];
    const char *ok[] = {"shuffle_0_0_1", "shuffle_0_2_0", "shuffle_0_1_3"};
    ck_assert_int_eq(open_ids(ok, 3, false, err, sizeof(err)), 0);
    const char *batch[] = {"shuffle_0_0_0_2"};
    expect_open_refused(batch, 1, false,
                        "java.lang.IllegalArgumentException: Unexpected block id format: "
                        "shuffle_0_0_0_2");
    const char *mixed[] = {"shuffle_0_0_1", "rdd_1_2"};
    expect_open_refused(
        mixed, 2, true,
        "java.lang.IllegalArgumentException: Unexpected shuffle block id format: rdd_1_2");
    const char *two[] = {"shuffle_0_0_1", "shuffle_1_0_1"};
    expect_open_refused(
        two, 2, false,
        "java.lang.IllegalArgumentException: Expected shuffleId=0, got:shuffle_1_0_1");
    const char *rdds[] = {"rdd_3_0", "shuffle_0_0_0"};
    expect_open_refused(
        rdds, 2, true,
        "java.lang.IllegalArgumentException: Unexpected RDD block id format: shuffle_0_0_0");
    const char *rdd_ok[] = {"rdd_3_0", "rdd_3_1"};
    ck_assert_int_eq(open_ids(rdd_ok, 2, true, err, sizeof(err)), 0);
    ck_assert_int_lt(open_ids(rdd_ok, 2, false, err, sizeof(err)), 0);
    ck_assert(strstr(err, "fetch_rdd_enabled") != NULL);
    const char *num[] = {"shuffle_0_x_1"};
    expect_open_refused(num, 1, false, "java.lang.NumberFormatException: For input string: \"x\"");
    /* OpenBlocks parses the map id as a 32-bit int, as Spark does */
    const char *big[] = {"shuffle_0_2147483648_1"};
    expect_open_refused(big, 1, false,
                        "java.lang.NumberFormatException: For input string: \"2147483648\"");
    const char *weird[] = {"../../etc/passwd"};
    ck_assert_int_lt(open_ids(weird, 1, false, err, sizeof(err)), 0);
    ck_assert_int_lt(open_ids(NULL, 0, false, err, sizeof(err)), 0);
    ck_assert(strstr(err, "ArrayIndexOutOfBoundsException") != NULL);
}
END_TEST

START_TEST(test_safe_ids)
{
    ck_assert(id_is_safe("app-20240101010101-0001", 23));
    ck_assert(id_is_safe("0", 1));
    ck_assert(id_is_safe("driver", 6));
    ck_assert(!id_is_safe("", 0));
    ck_assert(!id_is_safe(".", 1));
    ck_assert(!id_is_safe("..", 2));
    ck_assert(!id_is_safe("a/b", 3));
    ck_assert(!id_is_safe("a\\b", 3));
    ck_assert(!id_is_safe("a\0b", 3));
    ck_assert(!id_is_safe("a b", 3));
    ck_assert(!id_is_safe("a\nb", 3));
    char longid[300];
    memset(longid, 'a', sizeof(longid));
    ck_assert(!id_is_safe(longid, sizeof(longid)));
    ck_assert(id_is_safe(longid, BLOCKID_MAX_LEN));
    char name[64];
    block_index_file_name(0, 5, name, sizeof(name));
    ck_assert_str_eq(name, "shuffle_0_5_0.index");
    block_data_file_name(1, 9223372036854775807LL, name, sizeof(name));
    ck_assert_str_eq(name, "shuffle_1_9223372036854775807_0.data");
    block_rdd_file_name(3, 1, name, sizeof(name));
    ck_assert_str_eq(name, "rdd_3_1");
}
END_TEST

CHECK_MAIN((.suite = "blockid", .name = "core"), test_valid_forms, test_invalid_forms,
           test_open_blocks_texts, test_safe_ids)
