/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as state_dir/merges.wal (merge_journal.h), replayed by
 * merge_journal_open. Every record handed over must be well-formed (an app string without
 * NUL; an attempt record's dirs absolute); the compacted log the open leaves must replay
 * whole, to exactly the records kept. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/push/merge_journal.h"
#include "server/push/merged_layout.h"

static char dir[64];
static char path[128];

struct seen {
    size_t records, kept;
};

static void on_record(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    s->records++;
    if (!r->app || (r->op == MJ_ATTEMPT) != (r->dirs != NULL))
        abort();
    for (uint32_t i = 0; r->dirs && i < r->dirs->n_dirs; i++)
        if (r->dirs->dirs[i][0] != '/' || r->dirs->attempt_id != r->attempt)
            abort();
}

/* Keeps every other attempt id's records: some go, some stay. */
static bool keep_some(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    bool keep = (r->attempt & 1) == 0;
    s->kept += keep;
    return keep;
}

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
        merge_journal_open(dir, false, on_record, keep_some, &first, err, sizeof err);
    if (!j)
        abort();
    merge_journal_close(j);
    j = merge_journal_open(dir, false, on_record, NULL, &again, err, sizeof err);
    if (!j || again.records != first.kept)
        abort();
    merge_journal_close(j);
    return 0;
}
