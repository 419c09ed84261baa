/* SPDX-License-Identifier: Apache-2.0 */
/* What the block-service tests share: the harness's files and locations (tests/harness), and
 * the registry store opened and closed as the daemon does it. */
#ifndef SHUFFLED_TESTS_BLOCK_UTIL_H
#define SHUFFLED_TESTS_BLOCK_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "../harness/locate.h"
#include "server/block/blockid.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"

/* A fresh resolver in *r and the store of dir replayed into it (stats in *st, may be NULL);
 * failing to open fails the test. */
static inline struct registry_store *store_open(const char *dir, struct resolver **r,
                                                struct registry_store_stats *st)
{
    char err[512];
    *r = resolver_create(1 << 16);
    struct registry_store *s = registry_store_open(dir, *r, st, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static inline void store_close(struct registry_store *s, struct resolver *r)
{
    registry_store_close(s);
    resolver_destroy(r);
}

/* What replaying dir's store finds (opened into a fresh resolver, then closed). */
static inline struct registry_store_stats replay_stats(const char *dir)
{
    struct resolver *r;
    struct registry_store_stats st;
    struct registry_store *s = store_open(dir, &r, &st);
    store_close(s, r);
    return st;
}

/* The size of dir's registration log; it must exist. */
static inline long wal_size(const char *dir)
{
    char p[700];
    snprintf(p, sizeof(p), "%s/registrations.wal", dir);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return (long)st.st_size;
}

/* One block line of a gen-shuffle-data manifest: id, size, crc32 (hex), sha, file, offset. */
struct manifest_row {
    char id[128], crc[16], sha[80], file[1024];
    unsigned long long size, offset;
};

/* dir/name opened for reading; it must exist. */
static inline FILE *open_in(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    return f;
}

/* Reads the next block line of f into *row, skipping comment lines: false at the end. A
 * malformed line fails the test. */
static inline bool manifest_next(FILE *f, struct manifest_row *row)
{
    char line[2048];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        ck_assert_int_eq(sscanf(line, "%127s %llu %15s %79s %1023s %llu", row->id, &row->size,
                                row->crc, row->sha, row->file, &row->offset),
                         6);
        return true;
    }
    return false;
}

/* Where the resolver puts block id of app/exec (shuffle or RDD block); it must know it. */
static inline void resolve_block_id(struct resolver *r, const char *app, const char *exec,
                                    const char *id, struct block_location *loc)
{
    char err[512];
    struct block_id b;
    ck_assert_int_eq(block_id_parse(id, strlen(id), &b, err, sizeof(err)), 0);
    if (b.kind == BLOCK_RDD)
        ck_assert_msg(
            resolver_rdd_block(r, app, exec, b.rdd_id, b.split_index, loc, err, sizeof(err)) == 0,
            "%s: %s", id, err);
    else
        ck_assert_msg(resolver_shuffle_range(r, app, exec, b.shuffle_id, b.map_id, b.reduce_id,
                                             b.reduce_id + 1, loc, err, sizeof(err)) == 0,
                      "%s: %s", id, err);
}

#endif
