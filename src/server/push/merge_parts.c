/* SPDX-License-Identifier: Apache-2.0 */
/* A merge's partitions (merge_state.h): made on the first push of their reduce id (files
 * created) or replayed from the journal (files left closed); counted against
 * push_max_partitions while they are merged; their files closed and reopened so that at most
 * push_max_open_files / 3 partitions have theirs open: before one more is opened, the least
 * recently used partition nobody is writing has its files closed (merge_open_files.h), and a
 * push to it reopens them (on the blocking pool, under the manager's lock, as files are
 * created). Its state in memory (positions, bitmaps) stays. */
#include <config.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array_room.h"
#include "server/block/resolver.h"
#include "server/ops/metrics.h"
#include "server/push/merge_partition.h"
#include "server/push/merge_state.h"

/* Nobody is writing cl: its files may be closed. Under m->lock, so no writer can claim it
 * meanwhile (a claim takes m->lock); finalize and removal took it out of the list. */
static bool part_idle(struct merge_open_entry *e, void *arg)
{
    (void)arg;
    return !lru_entry(e, struct merge_claim, files)->writing;
}

/* Closes the files of the least recently used idle partitions until one more may be opened.
 * When every open partition is being written, none is closed and the bound is exceeded until
 * those writes end (docs/push.md, "Limits"). Under m->lock. */
static void make_room(struct merge_manager *m)
{
    struct merge_open_entry *e;
    while ((e = merge_open_files_victim(&m->files, part_idle, NULL)) != NULL) {
        struct merge_claim *cl = lru_entry(e, struct merge_claim, files);
        pthread_mutex_lock(&cl->p.lock); /* a writer just letting go may still hold it */
        merge_partition_close(&cl->p);
        pthread_mutex_unlock(&cl->p.lock);
        merge_open_files_closed(&m->files, e);
    }
}

int merge_part_files_open(struct merge_manager *m, struct merge_claim *cl, char *err, size_t errlen)
{
    if (cl->files.open) {
        merge_open_files_touch(&m->files, &cl->files);
        return 0;
    }
    make_room(m);
    pthread_mutex_lock(&cl->p.lock);
    int rc = merge_partition_reopen(&cl->p, err, errlen);
    pthread_mutex_unlock(&cl->p.lock);
    if (rc != 0)
        return -1;
    merge_open_files_opened(&m->files, &cl->files);
    metrics_inc(MC_PUSH_FILES_REOPENED);
    return 0;
}

static struct merge_claim *part_new(struct app_entry *a, const struct shuffle_entry *s,
                                    int32_t reduce)
{
    char *paths[3] = {0};
    enum merged_file kinds[3] = {MERGED_DATA, MERGED_INDEX, MERGED_META};
    char buf[4096];
    for (int i = 0; i < 3; i++) {
        if (merged_file_path(&a->dirs, a->app, s->shuffle_id, s->merge_id, reduce, kinds[i], buf,
                             sizeof buf) != 0 ||
            !(paths[i] = strdup(buf))) {
            for (int j = 0; j <= i; j++)
                free(paths[j]);
            return NULL;
        }
    }
    struct merge_claim *cl = calloc(1, sizeof *cl);
    if (!cl || merge_partition_init(&cl->p, reduce, paths) != 0) {
        free(cl);
        return NULL;
    }
    cl->refs = 1;
    cl->app = a;
    cl->shuffle = s->shuffle_id;
    cl->merge_id = s->merge_id;
    a->refs++;
    return cl;
}

/* Spark's refusal when a partition's files cannot be created (its RuntimeException, the
 * cause on the next line: e.g. the executor has not made the merge dir yet). */
static void no_partition(const char *app, const struct shuffle_entry *s, int32_t reduce,
                         const char *cause, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "java.lang.RuntimeException: Cannot initialize merged shuffle partition for appId "
             "%s shuffleId %d shuffleMergeId %d reduceId %d\nCaused by: %s",
             app, s->shuffle_id, s->merge_id, reduce, cause);
}

/* Whether app may create merged files where path says: its directory must lie under
 * allowed_local_dir_roots and inside no dir another application owns (the merge dir comes
 * from the client, beyond Spark's checks). A directory that does not exist is Spark's
 * failure to create the files (partition reduce of s). */
static bool merge_path_allowed(struct merge_manager *m, const char *app,
                               const struct shuffle_entry *s, int32_t reduce, const char *path,
                               char *err, size_t errlen)
{
    if (!m->res)
        return true;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *real = realpath(dirname(dir), NULL);
    if (!real && errno == ENOENT) {
        char cause[PATH_MAX + 80];
        snprintf(cause, sizeof cause, "java.io.FileNotFoundException: %s (%s)", path,
                 strerror(ENOENT));
        no_partition(app, s, reduce, cause, err, errlen);
        return false;
    }
    const struct root_set *roots = resolver_roots(m->res);
    bool ok = real && (!roots || roots->n == 0 || path_under_roots(roots->dirs, roots->n, real)) &&
              !resolver_dir_owned_by_other(m->res, app, real);
    if (!ok)
        snprintf(err, errlen,
                 "java.lang.SecurityException: merge dir %s of application %s is missing, not "
                 "under allowed_local_dir_roots or owned by another application",
                 path, app);
    free(real);
    return ok;
}

/* The partition of k in s, created (files too, unless restoring) if new. NULL with err.
 * Under m->lock. */
struct merge_claim *merge_part_for(struct merge_manager *m, struct app_entry *a,
                                   struct shuffle_entry *s, int32_t reduce, bool restoring,
                                   char *err, size_t errlen)
{
    bool found;
    size_t at = merge_part_slot(s, reduce, &found);
    if (found)
        return s->parts[at];
    if (!restoring && m->lim.max_partitions && m->merging_parts >= m->lim.max_partitions) {
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: %llu merged partitions are being merged "
                 "already (push_max_partitions)",
                 (unsigned long long)m->merging_parts);
        return NULL;
    }
    struct merge_claim **parts = array_room(s->parts, s->n, &s->cap, sizeof *parts);
    if (!parts)
        goto oom;
    s->parts = parts;
    struct merge_claim *cl = part_new(a, s, reduce);
    if (!cl)
        goto oom;
    for (int i = 0; i < 3; i++)
        if (!merge_path_allowed(m, a->app, s, reduce, cl->p.paths[i], err, errlen)) {
            merge_part_unref(m, cl);
            return NULL;
        }
    if (restoring) {
        merge_partition_restored(&cl->p); /* its files are opened when a push needs them */
    } else {
        make_room(m);
        char cause[512];
        if (merge_partition_open(&cl->p, cause, sizeof cause) != 0) {
            no_partition(a->app, s, reduce, cause, err, errlen);
            merge_part_unref(m, cl);
            return NULL;
        }
        merge_open_files_opened(&m->files, &cl->files);
    }
    cl->merging = true;
    m->merging_parts++;
    memmove(s->parts + at + 1, s->parts + at, (s->n - at) * sizeof *s->parts);
    s->parts[at] = cl;
    s->n++;
    return cl;
oom:
    snprintf(err, errlen, "java.lang.OutOfMemoryError: merge partition");
    return NULL;
}
