/* SPDX-License-Identifier: Apache-2.0 */
/* Write-ahead log of registrations; see registry_store.h for the format. */
#include <config.h>

#include "server/block/registry_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/write_all.h"
#include "server/block/blockid.h"

#define WAL_NAME "registrations.wal"
#define WAL_MAGIC 0x53485231u /* "SHR1" */
#define WAL_MAX_RECORD (1u << 20)
#define OP_PUT 1
#define OP_REMOVE_APP 2

struct registry_store {
    pthread_mutex_t mu;
    struct resolver *res;
    uint64_t file_bytes;
    uint64_t file_records; /* records in the log; those beyond the live registrations are dead */
    bool sync;             /* fdatasync each record before the caller replies */
    uint64_t syncs;        /* fdatasync calls made for records */
    int fd;
    char *dir;
    char *path;
};

/* zlib's CRC-32 (table-driven by slices, several bytes per step). */
uint32_t registry_crc32(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) { /* zlib takes uInt lengths */
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        c = crc32(c, p, step);
        p += step;
        n -= step;
    }
    return (uint32_t)c;
}

/* ---- encoding ---- */

struct buf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
};

static void put_raw(struct buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + n)
            nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_raw(b, x, 4);
}

static void put_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    put_raw(b, s, n);
}

/* Appends a whole record (header + payload) built by fill(). */
static void put_record(struct buf *b, const struct buf *payload)
{
    put_u32(b, WAL_MAGIC);
    put_u32(b, (uint32_t)payload->len);
    put_u32(b, registry_crc32(payload->p, payload->len));
    put_raw(b, payload->p, payload->len);
}

static void encode_put(struct buf *b, const char *app, const char *exec,
                       const struct executor_info *info)
{
    struct buf pl = {0};
    uint8_t op = OP_PUT;
    put_raw(&pl, &op, 1);
    put_str(&pl, app);
    put_str(&pl, exec);
    put_u32(&pl, info->n_dirs);
    for (uint32_t i = 0; i < info->n_dirs; i++)
        put_str(&pl, info->local_dirs[i]);
    put_u32(&pl, (uint32_t)info->sub_dirs);
    put_str(&pl, info->shuffle_manager ? info->shuffle_manager : "");
    if (pl.failed)
        b->failed = true;
    else
        put_record(b, &pl);
    free(pl.p);
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
};

static uint32_t get_u32(struct rd *r)
{
    if (r->bad || r->len - r->pos < 4) {
        r->bad = true;
        return 0;
    }
    const uint8_t *x = r->p + r->pos;
    r->pos += 4;
    return ((uint32_t)x[0] << 24) | ((uint32_t)x[1] << 16) | ((uint32_t)x[2] << 8) | x[3];
}

/* A malloc'd NUL-terminated copy; NULL (and r->bad) on error or embedded NUL. */
static char *get_str(struct rd *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || r->len - r->pos < n || memchr(r->p + r->pos, 0, n)) {
        r->bad = true;
        return NULL;
    }
    char *s = malloc(n + 1);
    if (!s) {
        r->bad = true;
        return NULL;
    }
    memcpy(s, r->p + r->pos, n);
    s[n] = 0;
    r->pos += n;
    return s;
}

/* Applies one verified payload to the resolver; false if it does not decode. */
static bool apply(struct resolver *res, const uint8_t *p, size_t len)
{
    struct rd r = {p, len, 1, false};
    if (len < 1)
        return false;
    char *app = get_str(&r), *exec = NULL;
    bool ok = false;
    if (p[0] == OP_REMOVE_APP) {
        ok = !r.bad && id_is_safe(app, strlen(app));
        if (ok)
            resolver_remove_app(res, app, NULL);
        free(app);
        return ok;
    }
    if (p[0] != OP_PUT) {
        free(app);
        return false;
    }
    struct executor_info info = {0};
    exec = get_str(&r);
    uint32_t n = get_u32(&r);
    if (!r.bad && n <= (len - r.pos) / 4) {
        info.local_dirs = calloc(n ? n : 1, sizeof(char *));
        for (uint32_t i = 0; info.local_dirs && i < n && !r.bad; i++) {
            info.local_dirs[i] = get_str(&r);
            if (info.local_dirs[i])
                info.n_dirs = i + 1;
        }
        info.sub_dirs = (int32_t)get_u32(&r);
        info.shuffle_manager = get_str(&r);
        ok = !r.bad && info.local_dirs && info.n_dirs == n && n > 0 && info.sub_dirs > 0 &&
             id_is_safe(app, strlen(app)) && id_is_safe(exec, strlen(exec));
        if (ok)
            ok = resolver_register(res, app, exec, &info) == 0;
    }
    executor_info_free(&info);
    free(app);
    free(exec);
    return ok;
}

static int replay(struct resolver *res, const uint8_t *data, size_t size,
                  struct registry_store_stats *st)
{
    size_t pos = 0;
    while (pos < size) {
        struct rd h = {data, size, pos, false};
        uint32_t magic = get_u32(&h), len = get_u32(&h), crc = get_u32(&h);
        if (!h.bad && magic == WAL_MAGIC && len <= WAL_MAX_RECORD && size - h.pos >= len &&
            registry_crc32(data + h.pos, len) == crc && apply(res, data + h.pos, len)) {
            st->records++;
            pos = h.pos + len;
            continue;
        }
        /* Damaged or torn: resynchronise on the next magic. */
        size_t next = pos + 1;
        while (next + 4 <= size && !(data[next] == 0x53 && data[next + 1] == 0x48 &&
                                     data[next + 2] == 0x52 && data[next + 3] == 0x31))
            next++;
        if (next + 4 > size)
            next = size;
        st->skipped_bytes += next - pos;
        pos = next;
    }
    return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    uint8_t *p = malloc(st.st_size ? (size_t)st.st_size : 1);
    size_t done = 0;
    int read_errno = 0;
    while (p && done < (size_t)st.st_size) {
        ssize_t n = read(fd, p + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            read_errno = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    if (!p)
        return -1;
    if (read_errno) {
        /* never replay (and then compact away) a log we could only read part of */
        free(p);
        errno = read_errno;
        return -1;
    }
    *out = p;
    *size = done;
    return 0;
}

static void encode_one(void *arg, const char *app, const char *exec,
                       const struct executor_info *info)
{
    encode_put(arg, app, exec, info);
}

/* mkdir -p with mode 0700 for what it creates. */
static int mkdir_p(const char *path)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s", path);
    if (n <= 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Rewrites the log with exactly the live registrations, atomically. */
/* Rewrites the log with exactly the live registrations, atomically: the new
 * file is written, fsync'ed, opened for append, then renamed over the log and
 * the directory fsync'ed; only then does s->fd switch to it. Caller holds
 * s->mu (or is the only user, at open). */
static int compact(struct registry_store *s, char *err, size_t errlen)
{
    struct buf b = {0};
    resolver_foreach(s->res, encode_one, &b);
    size_t tl = strlen(s->path) + 5;
    char *tmp = malloc(tl);
    if (b.failed || !tmp) {
        free(b.p);
        free(tmp);
        snprintf(err, errlen, "out of memory compacting %s", s->path);
        return -1;
    }
    snprintf(tmp, tl, "%s.tmp", s->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    int rc = -1;
    if (fd >= 0 && write_all(fd, b.p, b.len) == 0 && fsync(fd) == 0 && rename(tmp, s->path) == 0) {
        rc = fsync_dir(s->dir);
        if (s->fd >= 0)
            close(s->fd);
        s->fd = fd; /* the renamed file: valid even if the dir fsync failed */
        fd = -1;
        s->file_bytes = b.len;
        s->file_records = resolver_count(s->res);
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot rewrite %s: %s", s->path, strerror(errno));
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(b.p);
    return rc;
}

struct registry_store *registry_store_open(const char *state_dir, struct resolver *res,
                                           struct registry_store_stats *stats, char *err,
                                           size_t errlen)
{
    struct registry_store_stats st = {0};
    struct registry_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->res = res;
    pthread_mutex_init(&s->mu, NULL);
    size_t pl = strlen(state_dir) + sizeof(WAL_NAME) + 2;
    s->dir = strdup(state_dir);
    s->path = malloc(pl);
    if (!s->dir || !s->path) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(s->path, pl, "%s/%s", state_dir, WAL_NAME);
    if (mkdir_p(state_dir) < 0) {
        snprintf(err, errlen, "state_dir %s: cannot create: %s", state_dir, strerror(errno));
        goto fail;
    }
    uint8_t *data;
    size_t size;
    if (read_file(s->path, &data, &size) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", s->path, strerror(errno));
        goto fail;
    }
    replay(res, data, size, &st);
    free(data);
    if (compact(s, err, errlen) < 0)
        goto fail;
    st.live = resolver_count(res);
    if (stats)
        *stats = st;
    return s;
fail:
    registry_store_close(s);
    return NULL;
}

void registry_store_close(struct registry_store *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s->path);
    free(s);
}

/* Appends b (and syncs it when s->sync); then applies a put to the resolver (the caller holds
 * s->mu, so a compaction never misses a logged registration) and compacts
 * once the log has grown well past the live set. */
static int append(struct registry_store *s, const struct buf *b, const char *app, const char *exec,
                  const struct executor_info *info, char *err, size_t errlen)
{
    if (b->failed) {
        snprintf(err, errlen, "out of memory encoding a registration");
        return -1;
    }
    int rc = write_all(s->fd, b->p, b->len);
    if (rc == 0 && s->sync) {
        rc = fdatasync(s->fd);
        s->syncs++;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot persist registration to %s: %s", s->path, strerror(errno));
    } else {
        s->file_bytes += b->len;
        s->file_records++;
        if (info && resolver_register(s->res, app, exec, info) < 0) {
            snprintf(err, errlen, "out of memory registering an executor");
            rc = -1;
        }
    }
    return rc;
}

/* Rewrites the log once dead records (replaced or removed registrations, removal records)
 * outnumber the live ones and it is past REGISTRY_COMPACT_SLACK: so under any churn it stays
 * within about twice the live set plus the slack, and each record is rewritten O(1) times on
 * average. Caller holds s->mu. */
static void compact_if_dead_dominate(struct registry_store *s)
{
    uint64_t live = resolver_count(s->res);
    char why[256];
    if (s->file_bytes > REGISTRY_COMPACT_SLACK && s->file_records > 2 * live &&
        compact(s, why, sizeof(why)) < 0)
        fprintf(stderr, "<4>shuffled: registry store: online compaction failed: %s\n", why);
}

int registry_store_put(struct registry_store *s, const char *app, const char *exec,
                       const struct executor_info *info, char *err, size_t errlen)
{
    struct buf b = {0};
    encode_put(&b, app, exec, info);
    if (!b.failed && b.len - 12 > WAL_MAX_RECORD) {
        /* replay skips such a record (and resynchronises inside it, where crafted dir
         * strings could pass for records): refuse it rather than lose it at restart */
        snprintf(err, errlen,
                 "registration of %zu bytes exceeds the %u-byte record limit of %s (too many or "
                 "too long local dirs)",
                 b.len - 12, WAL_MAX_RECORD, s->path);
        free(b.p);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    /* checked under the lock: no other registration can slip in between */
    enum resolver_refusal why = resolver_admit(s->res, app, exec, info, err, errlen);
    int rc = why != RESOLVER_ADMITTED ? (int)why : append(s, &b, app, exec, info, err, errlen);
    if (rc == 0)
        compact_if_dead_dominate(s);
    pthread_mutex_unlock(&s->mu);
    free(b.p);
    return rc;
}

int registry_store_remove_app_take(struct registry_store *s, const char *app,
                                   struct executor_info **removed, size_t *nremoved, char *err,
                                   size_t errlen)
{
    struct buf pl = {0}, b = {0};
    uint8_t op = OP_REMOVE_APP;
    put_raw(&pl, &op, 1);
    put_str(&pl, app);
    if (pl.failed)
        b.failed = true;
    else
        put_record(&b, &pl);
    /* The resolver is updated under the same lock as the log: otherwise a put logged and
     * registered between our resolver removal and our log record would stay live in memory
     * while the log (remove after put) drops it at the next start. As before, the executors
     * leave the resolver even if the record cannot be written (the error is returned). */
    pthread_mutex_lock(&s->mu);
    int rc = append(s, &b, NULL, NULL, NULL, err, errlen);
    size_t n = resolver_remove_app(s->res, app, removed);
    compact_if_dead_dominate(s);
    pthread_mutex_unlock(&s->mu);
    if (nremoved)
        *nremoved = n;
    free(pl.p);
    free(b.p);
    return rc;
}

int registry_store_remove_app(struct registry_store *s, const char *app, char *err, size_t errlen)
{
    return registry_store_remove_app_take(s, app, NULL, NULL, err, errlen);
}

void registry_store_set_sync(struct registry_store *s, bool sync)
{
    pthread_mutex_lock(&s->mu);
    s->sync = sync;
    pthread_mutex_unlock(&s->mu);
}

uint64_t registry_store_syncs(struct registry_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->syncs;
    pthread_mutex_unlock(&s->mu);
    return n;
}
