/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as state_dir/merges.wal (merge_journal.h), replayed by
 * merge_journal_open. Every record handed over must be well-formed (an app string without
 * NUL; an attempt record's dirs absolute; a partition record's lengths in range and its
 * bitmap non-empty; cleanup only on a removal); the compacted log the open leaves must replay
 * whole, to exactly the records kept, partition records written again by the keeper
 * (merge_journal_encode) in place of the originals included, with the same fields and bitmap. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <roaring/roaring.h>

#include "server/push/merge_journal.h"
#include "server/push/merged_layout.h"

static char dir[64];
static char path[128];

struct seen {
    size_t records, kept, looked;
    /* digests of the partition records' fields and bitmaps: replayed, kept */
    uint64_t parts, kept_parts;
};

static uint64_t part_digest(const struct merge_journal_rec *r)
{
    const roaring_bitmap_t *maps = (const roaring_bitmap_t *)r->maps;
    return (uint64_t)r->reduce * 31 + (uint64_t)r->end * 7 + (uint64_t)r->index_len * 3 +
           (uint64_t)r->meta_len + roaring_bitmap_get_cardinality(maps) * 131 +
           roaring_bitmap_minimum(maps) * 17 + roaring_bitmap_maximum(maps);
}

static void on_record(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    s->records++;
    if (!r->app || (r->op == MJ_ATTEMPT) != (r->dirs != NULL))
        abort();
    for (uint32_t i = 0; r->dirs && i < r->dirs->n_dirs; i++)
        if (r->dirs->dirs[i][0] != '/' || r->dirs->attempt_id != r->attempt)
            abort();
    if ((r->op == MJ_PARTITION) != (r->maps != NULL) || (r->cleanup && r->op != MJ_APP_REMOVED))
        abort();
    if (r->op == MJ_PARTITION) {
        if (r->reduce < 0 || r->end < 0 || r->index_len < 8 || r->index_len % 8 != 0 ||
            r->meta_len < 0 || roaring_bitmap_is_empty((const roaring_bitmap_t *)r->maps))
            abort();
        s->parts += part_digest(r);
    }
}

static void look(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    s->looked++;
    (void)r;
}

/* Keeps every other attempt id's records: some go, some stay; a kept partition record is
 * written again through the encoder in its own place. */
static bool keep_some(void *arg, const struct merge_journal_rec *r, struct proto_writer *out)
{
    struct seen *s = arg;
    bool keep = (r->attempt & 1) == 0;
    s->kept += keep;
    if (keep && r->op == MJ_PARTITION) {
        if (!merge_journal_encode(out, r))
            abort(); /* it was read: it fits */
        s->kept_parts += part_digest(r);
        return false;
    }
    return keep;
}

static const struct merge_journal_keeper keeper = {look, keep_some};

/* The state dir goes when the fuzzer exits. */
static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-merge-journal-%d", (int)getpid());
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            abort();
        snprintf(path, sizeof path, "%s/merges.wal", dir);
        atexit(remove_dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    char err[256];
    struct seen first = {0}, again = {0};
    struct merge_journal *j =
        merge_journal_open(dir, false, on_record, &keeper, &first, err, sizeof err);
    if (!j || first.looked != first.records)
        abort();
    merge_journal_close(j);
    j = merge_journal_open(dir, false, on_record, NULL, &again, err, sizeof err);
    if (!j || again.records != first.kept || again.parts != first.kept_parts)
        abort();
    merge_journal_close(j);
    return 0;
}
