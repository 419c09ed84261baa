/* SPDX-License-Identifier: Apache-2.0 */
/* gen-shuffle-data writes Spark's layout: the same file set as the recorded
 * dataset for the same shape, and a manifest whose every entry the resolver
 * finds at the same place with the same bytes. */
#include <config.h>

#include <check.h>
#include <string.h>

#include "server/block/blockid.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"
#include "test_util_block.h"
#include "../check_main.h"

static int run_gen(const char *args)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "'%s/gen-shuffle-data' %s", harness_build_dir(), args);
    return system(cmd);
}

/* Sorted list of regular files under dir, relative to it. */
static char *file_list(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && find . -type f ! -name '*.tsv' | sort", dir);
    FILE *p = popen(cmd, "r");
    ck_assert(p != NULL);
    static char buf[3][8192];
    static int which;
    char *out = buf[which++ % 3];
    size_t n = fread(out, 1, sizeof(buf[0]) - 1, p);
    out[n] = 0;
    pclose(p);
    return out;
}

/* Runs gen-shuffle-data with --root `root` and the other arguments `rest`; it must succeed. */
static void gen_under(const char *root, const char *rest)
{
    char args[2048];
    snprintf(args, sizeof(args), "--root '%s' %s", root, rest);
    ck_assert_int_eq(run_gen(args), 0);
}

/* the same arguments twice must write the same manifest */
static const char manifest_args[] =
    "--dirs 3 --subdirs 16 --shuffle 7 --maps 5 --reduces 9 --min-size 0 --max-size 3000 "
    "--map-id-base 4294967296 --rdd-id 2 --rdd-splits 4 --seed 42";

START_TEST(test_layout_matches_recorded_dataset)
{
    const char *root = harness_test_dir();
    char args[1024], want_dir[1024];
    gen_under(root, "--dirs 2 --subdirs 64 --shuffle 0 --maps 3 --reduces 4 --rdd-id 3 "
                    "--rdd-splits 2 --seed 5");
    snprintf(args, sizeof(args),
             "--root '%s' --shuffle 1 --maps 1 --reduces 2 --min-size 307200 --max-size 307200 "
             "--manifest '%s/m1.tsv'",
             root, root);
    ck_assert_int_eq(run_gen(args), 0);
    snprintf(want_dir, sizeof(want_dir), "%s/vectors/data", harness_shared_dir());
    char *got = file_list(root), *want = file_list(want_dir);
    ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_manifest_agrees_with_resolver)
{
    const char *root = harness_test_dir();
    gen_under(root, manifest_args);
    struct resolver *r = resolver_create(1 << 20);
    char d[3][512], *dirs[3];
    for (int i = 0; i < 3; i++) {
        snprintf(d[i], sizeof(d[i]), "%s/blockmgr-%d", root, i);
        dirs[i] = d[i];
    }
    struct executor_info info = {dirs, 3, 16, "m", NULL};
    ck_assert_int_eq(resolver_register(r, "app", "0", &info), 0);
    FILE *f = open_in(root, "manifest.tsv");
    int blocks = 0;
    struct manifest_row row;
    while (manifest_next(f, &row)) {
        struct block_location loc;
        resolve_block_id(r, "app", "0", row.id, &loc);
        ck_assert_str_eq(loc.path, row.file);
        ck_assert_uint_eq(loc.offset, row.offset);
        ck_assert_uint_eq(loc.length, row.size);
        FILE *df = fopen(row.file, "rb");
        ck_assert(df != NULL);
        uint8_t *buf = malloc(row.size + 1);
        fseek(df, (long)row.offset, SEEK_SET);
        ck_assert_uint_eq(fread(buf, 1, row.size, df), row.size);
        fclose(df);
        ck_assert_uint_eq(registry_crc32(buf, row.size), strtoul(row.crc, NULL, 16));
        free(buf);
        free(loc.path);
        blocks++;
    }
    fclose(f);
    ck_assert_int_eq(blocks, 5 * 9 + 4);
    resolver_destroy(r);
    /* deterministic: same args, same manifest */
    char root2[600], cmd[2400];
    snprintf(root2, sizeof(root2), "%s/again", root);
    gen_under(root2, manifest_args);
    snprintf(cmd, sizeof(cmd),
             "cmp -s <(cut -f1-4 '%s/manifest.tsv' | grep -v '^#') <(cut -f1-4 '%s/manifest.tsv' "
             "| grep -v '^#')",
             root, root2);
    char bash[2600];
    snprintf(bash, sizeof(bash), "bash -c \"%s\"", cmd);
    ck_assert_int_eq(system(bash), 0);
    /* bad arguments are refused with a usage message */
    ck_assert_int_ne(run_gen("--maps x --root /tmp 2>/dev/null"), 0);
    ck_assert_int_ne(run_gen("2>/dev/null"), 0);
}
END_TEST

CHECK_MAIN((.suite = "gen_shuffle_data", .name = "core", .needs_shared_vectors = true),
           test_layout_matches_recorded_dataset, test_manifest_agrees_with_resolver)
