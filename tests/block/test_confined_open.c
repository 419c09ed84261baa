/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a file or a directory checked against allowed_local_dir_roots (file_open.h):
 * refusing symlinks at the open keeps a component swapped for a symlink after the check from
 * redirecting a read or a deletion outside the roots. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/block/blockid.h"
#include "server/block/cleanup.h"
#include "server/block/resolver.h"
#include "server/stream/file_open.h"
#include "test_util_block.h"
#include "../check_main.h"

static int read_text(int fd, char *buf, size_t n)
{
    ssize_t got = pread(fd, buf, n - 1, 0);
    buf[got > 0 ? got : 0] = '\0';
    close(fd);
    return got > 0 ? 0 : -1;
}

static struct root_set *one_root(const char *dir)
{
    struct root_set *roots = malloc(sizeof *roots + sizeof(char *));
    ck_assert_ptr_nonnull(roots);
    roots->older = NULL;
    roots->n = 1;
    roots->dirs[0] = realpath(dir, NULL);
    ck_assert_ptr_nonnull(roots->dirs[0]);
    return roots;
}

static void free_roots(struct root_set *roots)
{
    free(roots->dirs[0]);
    free(roots);
}

START_TEST(test_open_modes)
{
    const char *dir = harness_test_dir();
    char real[600], link[600], file[700], via[700], last[700], fifo[700];
    snprintf(real, sizeof real, "%s/real", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    ck_assert_int_eq(mkdir(real, 0700), 0);
    ck_assert_int_eq(symlink(real, link), 0);
    snprintf(file, sizeof file, "%s/f", real);
    ck_assert_int_eq(harness_write_file(file, "data", 4), 0);
    snprintf(via, sizeof via, "%s/f", link);
    snprintf(last, sizeof last, "%s/f-link", real);
    ck_assert_int_eq(symlink(file, last), 0);
    char buf[16];
    ck_assert_int_eq(read_text(file_open_for_read(file, true), buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "data");
    /* a symlink anywhere in the path: followed without the flag, refused with it */
    ck_assert_int_eq(read_text(file_open_for_read(via, false), buf, sizeof buf), 0);
    errno = 0;
    ck_assert_int_eq(file_open_for_read(via, true), -1);
    ck_assert_int_eq(errno, ELOOP);
    errno = 0;
    ck_assert_int_eq(file_open_for_read(last, true), -1);
    ck_assert_int_eq(errno, ELOOP);
    /* a FIFO in place of a file does not block the open, in either mode */
    snprintf(fifo, sizeof fifo, "%s/fifo", real);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    for (int no_symlinks = 0; no_symlinks < 2; no_symlinks++) {
        int fd = file_open_for_read(fifo, no_symlinks);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
}
END_TEST

/* The resolver hands out the canonical data path with no_symlinks set when roots are set; a
 * sub-directory swapped for a symlink to a directory outside the roots afterwards is refused
 * at the open (without the flag the open would read the outside file). */
START_TEST(test_swap_after_check_is_refused)
{
    const char *top = harness_test_dir();
    char root[600], local[700], outside[600];
    snprintf(root, sizeof root, "%s/roots", top);
    snprintf(local, sizeof local, "%s/blockmgr-0", root);
    snprintf(outside, sizeof outside, "%s/outside", top);
    ck_assert_int_eq(mkdir(root, 0700), 0);
    ck_assert_int_eq(mkdir(local, 0700), 0);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    struct resolver *r = resolver_create(1 << 20);
    char *dirs[1] = {local};
    struct executor_info info = {dirs, 1, 4, "org.apache.spark.shuffle.sort.SortShuffleManager",
                                 NULL};
    ck_assert_int_eq(resolver_register(r, "app-1", "0", &info), 0);
    char name[96], index_path[1024], data_path[1024], err[512];
    block_index_file_name(0, 0, name, sizeof name);
    ck_assert_int_eq(
        resolver_file_path(r, "app-1", "0", name, index_path, sizeof index_path, err, sizeof err),
        0);
    block_data_file_name(0, 0, name, sizeof name);
    ck_assert_int_eq(
        resolver_file_path(r, "app-1", "0", name, data_path, sizeof data_path, err, sizeof err), 0);
    char *sub = strdup(data_path);
    *strrchr(sub, '/') = '\0'; /* <local>/<2 hex digits> */
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    uint8_t idx[16] = {0};
    idx[15] = 6; /* offsets 0, 6: one reduce of 6 bytes */
    ck_assert_int_eq(harness_write_file(index_path, idx, sizeof idx), 0);
    ck_assert_int_eq(harness_write_file(data_path, "inside", 6), 0);
    struct root_set *roots = one_root(root);
    resolver_set_roots(r, roots);
    struct block_location loc;
    ck_assert_msg(resolver_shuffle_range(r, "app-1", "0", 0, 0, 0, 1, &loc, err, sizeof err) == 0,
                  "%s", err);
    ck_assert(loc.no_symlinks);
    ck_assert_uint_eq(loc.length, 6);
    /* the swap: the sub-directory becomes a symlink to a directory outside the roots */
    char moved[1100], fake[1100];
    snprintf(moved, sizeof moved, "%s.moved", sub);
    ck_assert_int_eq(rename(sub, moved), 0);
    snprintf(fake, sizeof fake, "%s/%s", outside, name);
    ck_assert_int_eq(harness_write_file(fake, "SECRET", 6), 0);
    ck_assert_int_eq(symlink(outside, sub), 0);
    errno = 0;
    ck_assert_int_eq(file_open_for_read(loc.path, loc.no_symlinks), -1);
    ck_assert_int_eq(errno, ELOOP);
    char buf[16];
    ck_assert_int_eq(read_text(file_open_for_read(loc.path, false), buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "SECRET"); /* what the check alone would have let through */
    /* without roots nothing is confined: symlinked local dirs stay usable, as in Spark */
    resolver_set_roots(r, NULL);
    struct block_location free_loc;
    ck_assert_int_eq(unlink(sub), 0);
    ck_assert_int_eq(rename(moved, sub), 0);
    ck_assert_int_eq(
        resolver_shuffle_range(r, "app-1", "0", 0, 0, 0, 1, &free_loc, err, sizeof err), 0);
    ck_assert(!free_loc.no_symlinks);
    free(free_loc.path);
    free(loc.path);
    free_roots(roots);
    free(sub);
    resolver_destroy(r);
}
END_TEST

/* RemoveBlocks deletes through a directory fd: once opened on the checked directory, a swap
 * of that directory for a symlink cannot move the deletion elsewhere. */
START_TEST(test_dir_fd_pins_the_checked_dir)
{
    const char *top = harness_test_dir();
    char dir[600], link[600], moved[700], outside[600], path[800];
    snprintf(dir, sizeof dir, "%s/0c", top);
    snprintf(link, sizeof link, "%s/via", top);
    snprintf(outside, sizeof outside, "%s/outside", top);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    ck_assert_int_eq(symlink(dir, link), 0);
    errno = 0;
    ck_assert_int_eq(file_open_dir(link, true), -1);
    ck_assert_int_eq(errno, ELOOP);
    int via_fd = file_open_dir(link, false);
    ck_assert_int_ge(via_fd, 0);
    close(via_fd);
    snprintf(path, sizeof path, "%s/shuffle_0_0_0.data", dir);
    ck_assert_int_eq(harness_write_file(path, "x", 1), 0);
    snprintf(path, sizeof path, "%s/shuffle_0_0_0.data", outside);
    ck_assert_int_eq(harness_write_file(path, "keep", 4), 0);
    int dir_fd = file_open_dir(dir, true);
    ck_assert_int_ge(dir_fd, 0);
    snprintf(moved, sizeof moved, "%s.moved", dir);
    ck_assert_int_eq(rename(dir, moved), 0);
    ck_assert_int_eq(symlink(outside, dir), 0);
    ck_assert_int_eq(unlinkat(dir_fd, "shuffle_0_0_0.data", 0), 0);
    close(dir_fd);
    ck_assert(harness_path_exists(path)); /* the file outside is untouched */
    snprintf(path, sizeof path, "%s/shuffle_0_0_0.data", moved);
    ck_assert(!harness_path_exists(path)); /* the one in the checked directory went */
}
END_TEST

/* applicationRemoved / executorRemoved with roots set: a local dir whose parent was swapped
 * for a symlink out of the roots after registration is not deleted (the tree outside stays);
 * an intact one is. */
START_TEST(test_cleanup_stays_in_roots)
{
    const char *top = harness_test_dir();
    char root[600], parent[700], local[800], outside[600];
    char victim_dir[700], victim[800], kept[900];
    snprintf(root, sizeof root, "%s/roots", top);
    snprintf(parent, sizeof parent, "%s/spark", root);
    snprintf(local, sizeof local, "%s/blockmgr-0", parent);
    snprintf(outside, sizeof outside, "%s/outside", top);
    snprintf(victim_dir, sizeof victim_dir, "%s/blockmgr-0", outside);
    snprintf(victim, sizeof victim, "%s/precious", victim_dir);
    ck_assert_int_eq(mkdir(root, 0700), 0);
    ck_assert_int_eq(mkdir(parent, 0700), 0);
    ck_assert_int_eq(mkdir(local, 0700), 0);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    ck_assert_int_eq(mkdir(victim_dir, 0700), 0);
    ck_assert_int_eq(harness_write_file(victim, "keep", 4), 0);
    struct resolver *r = resolver_create(1 << 20);
    struct root_set *roots = one_root(root);
    resolver_set_roots(r, roots);
    char *dirs[1] = {local};
    struct executor_info info = {dirs, 1, 4, "org.apache.spark.shuffle.sort.SortShuffleManager",
                                 NULL};
    ck_assert_int_eq(resolver_register(r, "app-1", "0", &info), 0);
    ck_assert_int_eq(resolver_register(r, "app-2", "0", &info), 0);
    /* the swap: <root>/spark becomes a symlink to <top>/outside */
    snprintf(kept, sizeof kept, "%s.moved", parent);
    ck_assert_int_eq(rename(parent, kept), 0);
    ck_assert_int_eq(symlink(outside, parent), 0);
    ck_assert_int_eq(cleanup_executor_removed(r, "app-1", "0", false), 0);
    char err[512];
    ck_assert_int_eq(cleanup_application_removed(r, NULL, "app-1", true, err, sizeof err), 1);
    ck_assert(harness_path_exists(victim));
    /* back in place, the same removal deletes the local dir */
    ck_assert_int_eq(unlink(parent), 0);
    ck_assert_int_eq(rename(kept, parent), 0);
    snprintf(kept, sizeof kept, "%s/temp_shuffle_1", local);
    ck_assert_int_eq(harness_write_file(kept, "t", 1), 0);
    ck_assert_int_eq(cleanup_application_removed(r, NULL, "app-2", true, err, sizeof err), 1);
    ck_assert(!harness_path_exists(local));
    ck_assert(harness_path_exists(parent));
    ck_assert(harness_path_exists(victim));
    /* a local dir that is itself a symlink (inside the roots) goes as a link, as in Spark:
     * what it points to stays */
    char target[800], target_file[900];
    snprintf(target, sizeof target, "%s/target", root);
    snprintf(target_file, sizeof target_file, "%s/shuffle_0_0_0.data", target);
    ck_assert_int_eq(mkdir(target, 0700), 0);
    ck_assert_int_eq(harness_write_file(target_file, "d", 1), 0);
    ck_assert_int_eq(symlink(target, local), 0);
    ck_assert_int_eq(resolver_register(r, "app-3", "0", &info), 0);
    ck_assert_int_eq(cleanup_application_removed(r, NULL, "app-3", true, err, sizeof err), 1);
    struct stat st;
    ck_assert_int_eq(lstat(local, &st), -1);
    ck_assert(harness_path_exists(target_file));
    resolver_destroy(r);
    free_roots(roots);
}
END_TEST

CHECK_MAIN((.suite = "confined_open", .name = "core"), test_open_modes,
           test_swap_after_check_is_refused, test_dir_fd_pins_the_checked_dir,
           test_cleanup_stays_in_roots)
