/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's file placement, checked against every row of the table computed by
 * Spark's own code (vectors/placement.tsv), plus the spec's worked examples. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/block/placement.h"
#include "test_util_block.h"
#include "../check_main.h"

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

START_TEST(test_placement_table)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/vectors/placement.tsv", harness_shared_dir());
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[4096];
    int rows = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || strncmp(line, "filename_utf8_hex", 17) == 0)
            continue;
        char *fields[8];
        int nf = 0;
        char *p = line;
        while (nf < 8) {
            fields[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = 0;
            p = tab + 1;
        }
        ck_assert_int_eq(nf, 8);
        fields[7][strcspn(fields[7], "\r\n")] = 0;
        size_t hl = strlen(fields[0]);
        char name[1024];
        for (size_t i = 0; i < hl / 2; i++)
            name[i] = (char)(hexval(fields[0][2 * i]) * 16 + hexval(fields[0][2 * i + 1]));
        size_t len = hl / 2;
        int32_t h = java_string_hash(name, len);
        ck_assert_int_eq(h, atoi(fields[2]));
        ck_assert_int_eq(non_negative_hash(h), atoi(fields[3]));
        uint32_t d, sub;
        placement_of(name, len, (uint32_t)atoi(fields[4]), atoi(fields[5]), &d, &sub);
        ck_assert_int_eq(d, (uint32_t)atoi(fields[6]));
        char subname[16];
        snprintf(subname, sizeof(subname), "%02x", sub);
        ck_assert_msg(strcmp(subname, fields[7]) == 0, "row %d (%s): subdir %s, want %s", rows,
                      fields[1], subname, fields[7]);
        rows++;
    }
    fclose(f);
    ck_assert_int_gt(rows, 1000);
}
END_TEST

START_TEST(test_paths)
{
    const char *dirs3[] = {"/d0", "/d1", "/d2"};
    const char *dirs2[] = {"d0", "d1/"};
    char buf[256];
    ck_assert_int_eq(placement_path(dirs3, 3, 64, "shuffle_0_5_0.index", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "/d1/3c/shuffle_0_5_0.index");
    ck_assert_int_eq(placement_path(dirs3, 3, 64, "shuffle_1_0_0.index", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "/d2/2f/shuffle_1_0_0.index");
    ck_assert_int_eq(placement_path(dirs2, 2, 4, "shuffle_0_5_0.data", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "d1/03/shuffle_0_5_0.data");
    ck_assert_int_eq(placement_path(dirs3, 3, 64, "polygenelubricants", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "/d0/00/polygenelubricants");
    ck_assert_int_eq(java_string_hash("polygenelubricants", 18), INT32_MIN);
    ck_assert_int_eq(non_negative_hash(INT32_MIN), 0);
    /* three hex digits past 255 subdirs */
    const char *one[] = {"/x"};
    ck_assert_int_eq(placement_path(one, 1, 1000, "rdd_1_2", buf, sizeof(buf)), 0);
    ck_assert_int_eq(strlen(buf), strlen("/x/") + 3 + 1 + 7);
    ck_assert_int_lt(placement_path(one, 1, 64, "rdd_1_2", buf, 8), 0);
    ck_assert_int_lt(placement_path(one, 0, 64, "rdd_1_2", buf, sizeof(buf)), 0);
    /* a 4-byte UTF-8 char is a surrogate pair in Java: U+1F600 */
    ck_assert_int_eq(java_string_hash("\xf0\x9f\x98\x80", 4), 0xd83d * 31 + 0xde00);
}
END_TEST

CHECK_MAIN((.suite = "placement", .name = "core", .needs_shared_vectors = true),
           test_placement_table, test_paths)
