/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_journal.h. */
#include <config.h>

#include "server/push/merge_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/write_all.h"
#include "proto/codec.h"
#include "server/block/registry_store.h"
#include "server/push/merge_journal_attempt.h"
#include "server/push/merge_journal_part.h"

#define JOURNAL_NAME "merges.wal"
#define JOURNAL_MAGIC 0x53484d31u                   /* "SHM1" */
#define JOURNAL_MAX_RECORD MERGE_JOURNAL_MAX_RECORD /* as registrations.wal's: many dirs fit */
/* Compaction while running: once records of dropped merges hold at least this much and at
 * least half of the file (so rewriting costs at most what was appended since). */
#define COMPACT_MIN_DEAD_BYTES (32u << 10)

struct merge_journal {
    pthread_mutex_t lock;
    pthread_cond_t written_cv; /* a batch was written (or the writer role is free) */
    int fd;
    bool sync;
    char path[4096];
    /* Group commit: records wait in `pending` while a batch is being written; the next
     * writer takes them all in one write (and one fdatasync with state_sync). */
    struct proto_writer pending, batch;
    uint64_t appended, written; /* record sequence numbers */
    bool writing;               /* a thread is writing a batch (or compacting) */
    bool swapping;              /* compaction copies the tail: no direct writes */
    int direct_writers;         /* merge_journal_append_nowait writing */
    uint64_t left_behind;       /* the last record it left to a batch */
    bool compacting;
    uint64_t size; /* bytes in the file */
    uint64_t dead; /* of them, estimated bytes of records no longer needed */
};

/* The whole record (header + payload) appended to w, without an allocation of its own. */
bool merge_journal_encode(struct proto_writer *w, const struct merge_journal_rec *r)
{
    size_t at = w->len;
    proto_write_i32(w, (int32_t)JOURNAL_MAGIC);
    proto_write_i32(w, 0); /* length and CRC32, patched below */
    proto_write_i32(w, 0);
    proto_write_u8(w, (uint8_t)r->op);
    proto_write_str(w, r->app);
    proto_write_i32(w, r->attempt);
    proto_write_i32(w, r->shuffle);
    proto_write_i32(w, r->merge_id);
    if (r->op == MJ_COMMIT) {
        proto_write_i32(w, r->reduce);
        proto_write_i32(w, r->map_index);
        proto_write_i64(w, r->end);
        proto_write_u8(w, r->chunk_closed);
    }
    if (r->op == MJ_ATTEMPT)
        merge_journal_attempt_encode(w, r->dirs);
    if (r->op == MJ_PARTITION)
        merge_journal_part_encode(
            w, &(struct merge_journal_part){r->reduce, r->end, r->index_len, r->meta_len, r->maps});
    if (r->op == MJ_APP_REMOVED && r->cleanup)
        proto_write_u8(w, 1);
    if (w->failed || w->len - at - 12 > JOURNAL_MAX_RECORD) {
        w->len = at;
        w->failed = false;
        return false;
    }
    size_t n = w->len - at - 12;
    proto_patch_i32(w, at + 4, (int32_t)n);
    proto_patch_i32(w, at + 8, (int32_t)registry_crc32(w->buf + at + 12, n));
    return true;
}

/* What a decoded record points into (decoded_free). */
struct decoded {
    char *app;
    struct merge_dirs dirs; /* attempt record */
    roaring_bitmap_t *maps; /* partition record */
};

static void decoded_free(struct decoded *d)
{
    free(d->app);
    merge_dirs_free(&d->dirs);
    if (d->maps)
        roaring_bitmap_free(d->maps);
    memset(d, 0, sizeof *d);
}

/* One payload; false when it does not decode. What r points to is in *d (decoded_free it
 * either way). */
static bool decode(const uint8_t *p, size_t len, struct merge_journal_rec *r, struct decoded *d)
{
    struct proto_reader rd;
    struct proto_bytes name = {0};
    uint8_t op = 0, closed = 0;
    proto_reader_init(&rd, p, len);
    memset(r, 0, sizeof *r);
    proto_read_u8(&rd, &op);
    proto_read_bytes(&rd, &name);
    proto_read_i32(&rd, &r->attempt);
    proto_read_i32(&rd, &r->shuffle);
    proto_read_i32(&rd, &r->merge_id);
    if (op == MJ_COMMIT) {
        proto_read_i32(&rd, &r->reduce);
        proto_read_i32(&rd, &r->map_index);
        proto_read_i64(&rd, &r->end);
        proto_read_u8(&rd, &closed);
    }
    bool dirs_ok = op != MJ_ATTEMPT || merge_journal_attempt_decode(&rd, &d->dirs);
    struct merge_journal_part part = {0};
    bool part_ok = op != MJ_PARTITION || merge_journal_part_decode(&rd, &part, &d->maps);
    r->reduce = op == MJ_PARTITION ? part.reduce : r->reduce;
    r->end = op == MJ_PARTITION ? part.data_len : r->end;
    r->index_len = part.index_len, r->meta_len = part.meta_len, r->maps = part.maps;
    if (op == MJ_APP_REMOVED && rd.pos < rd.len) /* its cleanup byte (not always there) */
        proto_read_u8(&rd, &closed);
    r->cleanup = op == MJ_APP_REMOVED && closed != 0;
    d->dirs.attempt_id = r->attempt;
    r->dirs = op == MJ_ATTEMPT ? &d->dirs : NULL;
    r->op = (enum merge_journal_op)op;
    r->chunk_closed = closed != 0;
    bool ok = !proto_reader_error(&rd) && name.data && strlen(name.data) == name.len &&
              op >= MJ_COMMIT && op <= MJ_PARTITION && dirs_ok && part_ok;
    d->app = name.data;
    r->app = name.data;
    return ok;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The records of buf[0, len) (valid) through fn, or through keeper's keep into *live. */
static void each(const uint8_t *buf, size_t len,
                 void (*fn)(void *, const struct merge_journal_rec *),
                 const struct merge_journal_keeper *keeper, void *arg, struct proto_writer *live)
{
    for (size_t at = 0; at < len;) {
        uint32_t n = be32(buf + at + 4);
        struct merge_journal_rec r;
        struct decoded d = {0};
        if (decode(buf + at + 12, n, &r, &d)) {
            if (fn)
                fn(arg, &r);
            else if (!keeper || !keeper->keep || keeper->keep(arg, &r, live))
                proto_write_raw(live, buf + at, 12 + n);
        }
        decoded_free(&d);
        at += 12 + n;
    }
}

/* Replays path's records through fn and collects those keeper keeps in *live. The length of
 * the valid prefix. */
static size_t replay(const uint8_t *buf, size_t len,
                     void (*fn)(void *, const struct merge_journal_rec *),
                     const struct merge_journal_keeper *keeper, void *arg,
                     struct proto_writer *live)
{
    size_t pos = 0;
    while (len - pos >= 12) {
        uint32_t n = be32(buf + pos + 4);
        if (be32(buf + pos) != JOURNAL_MAGIC || n > JOURNAL_MAX_RECORD || len - pos - 12 < n ||
            registry_crc32(buf + pos + 12, n) != be32(buf + pos + 8))
            break;
        struct merge_journal_rec r;
        struct decoded d = {0};
        bool ok = decode(buf + pos + 12, n, &r, &d);
        if (ok && fn)
            fn(arg, &r);
        decoded_free(&d);
        if (!ok)
            break;
        pos += 12 + n;
    }
    /* Kept records, judged once the whole log is known (a later removal drops earlier ones,
     * a finalize folds its merge's commits), after keeper has seen them all. */
    if (keeper && keeper->look)
        each(buf, pos, keeper->look, NULL, arg, NULL);
    each(buf, pos, NULL, keeper, arg, live);
    return pos;
}

static uint8_t *read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return NULL;
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    size_t have = 0;
    while (buf && have < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    *len = have;
    return buf;
}

/* The compacted log written whole beside the one at path (synced): the fd it was written
 * through, open for appending and reading, or -1. */
static int write_tmp(const char *path, const struct proto_writer *live)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (live->failed || write_all(fd, live->buf, live->len) != 0 || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    return fd;
}

/* ... then put in the old one's place (atomically: a crash leaves one or the other), or
 * dropped (!keep). fd, or -1 (closed). */
static int rename_tmp(const char *path, int fd, bool keep)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!keep || rename(tmp, path) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    return fd;
}

static int replace_log(const char *path, const struct proto_writer *live)
{
    int fd = write_tmp(path, live);
    return fd < 0 ? -1 : rename_tmp(path, fd, true);
}

struct merge_journal *merge_journal_open(const char *state_dir, bool sync,
                                         void (*fn)(void *arg, const struct merge_journal_rec *r),
                                         const struct merge_journal_keeper *keeper, void *arg,
                                         char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", state_dir, JOURNAL_NAME);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0;
    uint8_t *buf = read_all(fd, &len);
    close(fd);
    struct proto_writer live;
    proto_writer_init(&live);
    size_t valid = buf ? replay(buf, len, fn, keeper, arg, &live) : 0;
    free(buf);
    if (valid < len)
        log_warn("%s: %zu bytes of a damaged or partial tail dropped", path, len - valid);
    fd = replace_log(path, &live);
    size_t size = live.len;
    proto_writer_free(&live);
    struct merge_journal *j = fd >= 0 ? calloc(1, sizeof *j) : NULL;
    if (!j) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->written_cv, NULL);
    j->fd = fd;
    j->sync = sync;
    j->size = size;
    snprintf(j->path, sizeof j->path, "%s", path);
    proto_writer_init(&j->pending);
    proto_writer_init(&j->batch);
    return j;
}

void merge_journal_close(struct merge_journal *j)
{
    if (!j)
        return;
    close(j->fd);
    proto_writer_free(&j->pending);
    proto_writer_free(&j->batch);
    pthread_cond_destroy(&j->written_cv);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* Takes the writer role (waits while another thread has it). Under j->lock. */
static void take_writer(struct merge_journal *j)
{
    while (j->writing)
        pthread_cond_wait(&j->written_cv, &j->lock);
    j->writing = true;
}

static void give_writer(struct merge_journal *j)
{
    j->writing = false;
    pthread_cond_broadcast(&j->written_cv);
}

/* Writes records (or waits for another thread's batch) until seq is written. Under j->lock.
 * 0, or -1 with err. */
static int write_until(struct merge_journal *j, uint64_t seq, char *err, size_t errlen)
{
    int rc = 0;
    /* Whoever finds the writer role free writes every record waiting, its own among them;
     * the others wait until a batch holding theirs is written. */
    while (j->written < seq) {
        if (j->writing) {
            pthread_cond_wait(&j->written_cv, &j->lock);
            continue;
        }
        j->writing = true;
        struct proto_writer t = j->batch;
        j->batch = j->pending;
        j->pending = t;
        uint64_t upto = j->appended;
        pthread_mutex_unlock(&j->lock);
        int wrc = write_all(j->fd, j->batch.buf, j->batch.len);
        if (wrc == 0 && j->sync)
            wrc = fdatasync(j->fd);
        int werr = errno;
        pthread_mutex_lock(&j->lock);
        if (wrc == 0) {
            j->size += j->batch.len;
        } else { /* logged by this writer once for the batch; the merges stand */
            rc = -1;
            snprintf(err, errlen, "java.io.IOException: %s: %s (%llu records not journaled)",
                     JOURNAL_NAME, strerror(werr), (unsigned long long)(upto - j->written));
        }
        proto_writer_reset(&j->batch);
        j->written = upto;
        give_writer(j);
    }
    return rc;
}

static void writer_release(struct proto_writer *w, bool on_stack)
{
    if (!on_stack)
        proto_writer_free(w);
}

/* This loop thread's batching (merge_journal_loop_begin): the journal its records went to and
 * the sequence number of its last one. They wait in the group-commit batch (`pending`), in
 * commit order whatever the thread, so records of one partition keep their order; until they
 * are written, left_behind sends later direct records there too. */
static _Thread_local struct {
    bool active;
    struct merge_journal *j;
    uint64_t seq;
} loop_batch;

void merge_journal_loop_begin(void)
{
    loop_batch.active = true;
}

void merge_journal_loop_flush(void)
{
    loop_batch.active = false;
    if (!loop_batch.seq)
        return;
    struct merge_journal *j = loop_batch.j;
    char err[256];
    pthread_mutex_lock(&j->lock);
    int rc = write_until(j, loop_batch.seq, err, sizeof err);
    pthread_mutex_unlock(&j->lock);
    loop_batch.seq = 0;
    if (rc != 0)
        log_error("merge journal: %s", err); /* the merges stand, as for a single record */
}

void merge_journal_loop_cover(struct merge_journal *j)
{
    if (!j || j->sync) /* with state_sync no loop batches (and no flush hook) */
        return;
    pthread_mutex_lock(&j->lock);
    if (!loop_batch.seq || loop_batch.j == j) {
        loop_batch.j = j;
        if (loop_batch.seq < j->appended)
            loop_batch.seq = j->appended;
    }
    pthread_mutex_unlock(&j->lock);
}

/* Under j->lock: keeps w's record for this thread's merge_journal_loop_flush. */
static bool loop_batch_keep(struct merge_journal *j, const struct proto_writer *w)
{
    if (!loop_batch.active || (loop_batch.seq && loop_batch.j != j))
        return false;
    size_t before = j->pending.len;
    proto_write_raw(&j->pending, w->buf, w->len);
    if (j->pending.failed) {
        j->pending.len = before;
        j->pending.failed = false;
        return false;
    }
    loop_batch.j = j;
    loop_batch.seq = ++j->appended;
    j->left_behind = loop_batch.seq;
    return true;
}

int merge_journal_append_nowait(struct merge_journal *j, const struct merge_journal_rec *r,
                                uint64_t *seq, char *err, size_t errlen)
{
    /* The record on the stack (a push on the loop allocates nothing for it); the writer never
     * grows there: an app name too long for it takes the heap. */
    uint8_t stack[512];
    struct proto_writer w;
    proto_writer_init(&w);
    bool on_stack = r->app && strlen(r->app) + 64 <= sizeof stack;
    if (on_stack) {
        w.buf = stack;
        w.cap = sizeof stack;
    }
    bool encoded = merge_journal_encode(&w, r);
    pthread_mutex_lock(&j->lock);
    if (encoded && loop_batch_keep(j, &w)) {
        pthread_mutex_unlock(&j->lock);
        writer_release(&w, on_stack);
        return 0;
    }
    if (!encoded) {
        pthread_mutex_unlock(&j->lock);
        writer_release(&w, on_stack);
        snprintf(err, errlen, "java.io.IOException: %s: out of memory", JOURNAL_NAME);
        return -1;
    }
    /* While a compaction swaps logs, and until what was left waiting then is written (a later
     * record of the same partition must not overtake it), records wait for a batch. */
    if (j->swapping || j->written < j->left_behind) {
        proto_write_raw(&j->pending, w.buf, w.len);
        *seq = ++j->appended;
        j->left_behind = *seq;
        pthread_mutex_unlock(&j->lock);
        writer_release(&w, on_stack);
        return 1;
    }
    /* Written beside the batches: O_APPEND keeps each write whole, and order matters only
     * within a partition, whose records are written before its claim is let go. */
    j->direct_writers++;
    pthread_mutex_unlock(&j->lock);
    int rc = write_all(j->fd, w.buf, w.len);
    int werr = errno;
    pthread_mutex_lock(&j->lock);
    if (rc == 0)
        j->size += w.len;
    if (--j->direct_writers == 0)
        pthread_cond_broadcast(&j->written_cv);
    pthread_mutex_unlock(&j->lock);
    writer_release(&w, on_stack);
    if (rc != 0)
        snprintf(err, errlen, "java.io.IOException: %s: %s", JOURNAL_NAME, strerror(werr));
    return rc;
}

int merge_journal_append(struct merge_journal *j, const struct merge_journal_rec *r, char *err,
                         size_t errlen)
{
    pthread_mutex_lock(&j->lock);
    if (!merge_journal_encode(&j->pending, r)) {
        pthread_mutex_unlock(&j->lock);
        snprintf(err, errlen, "java.io.IOException: %s: out of memory", JOURNAL_NAME);
        return -1;
    }
    int rc = write_until(j, ++j->appended, err, errlen);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int merge_journal_wait(struct merge_journal *j, uint64_t seq, char *err, size_t errlen)
{
    pthread_mutex_lock(&j->lock);
    int rc = write_until(j, seq, err, errlen);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void merge_journal_note_dead(struct merge_journal *j, uint64_t bytes)
{
    pthread_mutex_lock(&j->lock);
    j->dead += bytes;
    pthread_mutex_unlock(&j->lock);
}

size_t merge_journal_commit_bytes(const char *app)
{
    return 12 + 1 + 4 + strlen(app) + 3 * 4 + 4 + 4 + 8 + 1;
}

uint64_t merge_journal_size(struct merge_journal *j)
{
    pthread_mutex_lock(&j->lock);
    uint64_t n = j->size;
    pthread_mutex_unlock(&j->lock);
    return n;
}

int merge_journal_maybe_compact(struct merge_journal *j, const struct merge_journal_keeper *keeper,
                                void *arg)
{
    pthread_mutex_lock(&j->lock);
    bool due = !j->compacting && j->dead >= COMPACT_MIN_DEAD_BYTES && 2 * j->dead >= j->size;
    uint64_t judged = 0;
    if (due) { /* what the file holds now; records appended later are copied as they are */
        j->compacting = true;
        take_writer(j);
        judged = j->size;
        give_writer(j);
    }
    pthread_mutex_unlock(&j->lock);
    if (!due)
        return 0;
    /* Judged without the journal's lock: keep() takes the merge manager's, which holders of
     * it (finalize) may take before appending. */
    int rc = -1;
    struct proto_writer live;
    proto_writer_init(&live);
    uint8_t *buf = malloc(judged ? judged : 1);
    size_t have = 0;
    while (buf && have < judged) {
        ssize_t n = pread(j->fd, buf + have, judged - have, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    int fd = -1;
    if (buf && have == judged && replay(buf, judged, NULL, keeper, arg, &live) == judged)
        fd = write_tmp(j->path, &live);
    if (fd >= 0) {
        /* Appends wait from here on: only the tail written meanwhile is copied (kept whole)
         * and the new log renamed over the old; no fsync but the one state_sync asks for. */
        pthread_mutex_lock(&j->lock);
        take_writer(j);
        j->swapping = true;
        while (j->direct_writers > 0)
            pthread_cond_wait(&j->written_cv, &j->lock);
        pthread_mutex_unlock(&j->lock);
        uint64_t tail = j->size - judged;
        uint8_t *rest = malloc(tail ? tail : 1);
        bool copied = rest && pread(j->fd, rest, tail, (off_t)judged) == (ssize_t)tail &&
                      write_all(fd, rest, tail) == 0 && (!j->sync || fdatasync(fd) == 0);
        if (rename_tmp(j->path, fd, copied) >= 0) {
            close(j->fd);
            j->fd = fd;
            rc = 0;
        }
        free(rest);
        pthread_mutex_lock(&j->lock);
        if (rc == 0) {
            log_info("%s compacted: %llu bytes to %llu", j->path, (unsigned long long)j->size,
                     (unsigned long long)(live.len + tail));
            j->size = live.len + tail;
            j->dead = 0;
        }
        j->swapping = false;
        give_writer(j);
        pthread_mutex_unlock(&j->lock);
    }
    if (rc != 0)
        log_warn("%s: compaction failed (%s); the journal goes on growing until restart", j->path,
                 strerror(errno ? errno : ENOMEM));
    free(buf);
    proto_writer_free(&live);
    pthread_mutex_lock(&j->lock);
    j->compacting = false;
    pthread_mutex_unlock(&j->lock);
    return rc;
}
