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

#define JOURNAL_NAME "merges.wal"
#define JOURNAL_MAGIC 0x53484d31u /* "SHM1" */
#define JOURNAL_MAX_RECORD 4096u

struct merge_journal {
    pthread_mutex_t lock;
    int fd;
    bool sync;
};

/* The whole record (header + payload) into w. */
static void encode(struct proto_writer *w, const struct merge_journal_rec *r)
{
    struct proto_writer pl;
    proto_writer_init(&pl);
    proto_write_u8(&pl, (uint8_t)r->op);
    proto_write_str(&pl, r->app);
    proto_write_i32(&pl, r->attempt);
    proto_write_i32(&pl, r->shuffle);
    proto_write_i32(&pl, r->merge_id);
    if (r->op == MJ_COMMIT) {
        proto_write_i32(&pl, r->reduce);
        proto_write_i32(&pl, r->map_index);
        proto_write_i64(&pl, r->end);
        proto_write_u8(&pl, r->chunk_closed);
    }
    proto_write_i32(w, (int32_t)JOURNAL_MAGIC);
    proto_write_i32(w, (int32_t)pl.len);
    proto_write_i32(w, (int32_t)registry_crc32(pl.buf, pl.len));
    proto_write_raw(w, pl.buf, pl.len);
    if (pl.failed)
        w->failed = true;
    proto_writer_free(&pl);
}

/* One payload; false when it does not decode. app points into a malloc'd copy in *app. */
static bool decode(const uint8_t *p, size_t len, struct merge_journal_rec *r, char **app)
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
    r->op = (enum merge_journal_op)op;
    r->chunk_closed = closed != 0;
    bool ok = !proto_reader_error(&rd) && name.data && strlen(name.data) == name.len &&
              op >= MJ_COMMIT && op <= MJ_APP_REMOVED;
    *app = name.data;
    r->app = name.data;
    return ok;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Replays path's records through fn and collects those keep() wants in *live. The length of
 * the valid prefix. */
static size_t replay(const uint8_t *buf, size_t len,
                     void (*fn)(void *, const struct merge_journal_rec *),
                     bool (*keep)(void *, const struct merge_journal_rec *), void *arg,
                     struct proto_writer *live)
{
    size_t pos = 0;
    while (len - pos >= 12) {
        uint32_t n = be32(buf + pos + 4);
        if (be32(buf + pos) != JOURNAL_MAGIC || n > JOURNAL_MAX_RECORD || len - pos - 12 < n ||
            registry_crc32(buf + pos + 12, n) != be32(buf + pos + 8))
            break;
        struct merge_journal_rec r;
        char *app = NULL;
        bool ok = decode(buf + pos + 12, n, &r, &app);
        if (ok)
            fn(arg, &r);
        free(app);
        if (!ok)
            break;
        pos += 12 + n;
    }
    /* Kept records, judged once the whole log is known (a later removal drops earlier ones). */
    for (size_t at = 0; at < pos;) {
        uint32_t n = be32(buf + at + 4);
        struct merge_journal_rec r;
        char *app = NULL;
        if (decode(buf + at + 12, n, &r, &app) && (!keep || keep(arg, &r)))
            proto_write_raw(live, buf + at, 12 + n);
        free(app);
        at += 12 + n;
    }
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

struct merge_journal *merge_journal_open(const char *state_dir, bool sync,
                                         void (*fn)(void *arg, const struct merge_journal_rec *r),
                                         bool (*keep)(void *arg, const struct merge_journal_rec *r),
                                         void *arg, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", state_dir, JOURNAL_NAME);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
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
    size_t valid = buf ? replay(buf, len, fn, keep, arg, &live) : 0;
    free(buf);
    if (valid < len)
        log_warn("%s: %zu bytes of a damaged or partial tail dropped", path, len - valid);
    /* The compacted log replaces the old one whole (written, synced, renamed). */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 || live.failed || write_all(fd, live.buf, live.len) != 0 || fsync(fd) != 0 ||
                     rename(tmp, path) != 0
                 ? -1
                 : 0;
    proto_writer_free(&live);
    if (fd >= 0)
        close(fd);
    fd = rc == 0 ? open(path, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
    struct merge_journal *j = fd >= 0 ? calloc(1, sizeof *j) : NULL;
    if (!j) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    j->fd = fd;
    j->sync = sync;
    return j;
}

void merge_journal_close(struct merge_journal *j)
{
    if (!j)
        return;
    close(j->fd);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

int merge_journal_append(struct merge_journal *j, const struct merge_journal_rec *r, char *err,
                         size_t errlen)
{
    struct proto_writer w;
    proto_writer_init(&w);
    encode(&w, r);
    pthread_mutex_lock(&j->lock);
    int rc = w.failed ? -1 : write_all(j->fd, w.buf, w.len);
    if (rc == 0 && j->sync)
        rc = fdatasync(j->fd);
    pthread_mutex_unlock(&j->lock);
    if (rc != 0)
        snprintf(err, errlen, "java.io.IOException: %s: %s", JOURNAL_NAME,
                 w.failed ? "out of memory" : strerror(errno));
    proto_writer_free(&w);
    return rc;
}
