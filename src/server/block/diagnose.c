/* SPDX-License-Identifier: Apache-2.0 */
/* Corruption diagnosis; see diagnose.h. */
#include <config.h>

#include "server/block/diagnose.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "proto/blockmsg.h"
#include "server/block/block_service.h"
#include "server/block/blockid.h"
#include "server/stream/file_open.h"

/* Reads exactly len bytes at off; false on error or end of file. */
static bool pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* The checksum of [offset, offset + length) of fd as Java's Checksum.getValue() over Spark's
 * FileSegmentManagedBuffer.createInputStream(): a block starting past the end of the file
 * cannot be read (false: skipFully fails), one running past it is checksummed up to the end
 * (its LimitedInputStream just ends there), so a data file cut short reads as DISK_ISSUE. */
static bool checksum_range(enum spark_checksum_algo algo, int fd, uint64_t offset, uint64_t length,
                           int64_t *out)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || offset > (uint64_t)st.st_size)
        return false;
    if (length > (uint64_t)st.st_size - offset)
        length = (uint64_t)st.st_size - offset;
    uint8_t buf[65536];
    uint32_t sum = spark_checksum_start(algo);
    while (length > 0) {
        size_t n = length < sizeof buf ? (size_t)length : sizeof buf;
        ssize_t r = pread(fd, buf, n, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return false;
        if (r == 0) /* shrank meanwhile: the stream would end here too */
            break;
        sum = spark_checksum_update(algo, sum, buf, (size_t)r);
        offset += (uint64_t)r;
        length -= (uint64_t)r;
    }
    *out = (int64_t)sum;
    return true;
}

enum corruption_cause corruption_cause_of(enum spark_checksum_algo algo, int checksum_fd,
                                          int32_t reduce_id, int data_fd, uint64_t offset,
                                          uint64_t length, int64_t checksum_by_reader)
{
    /* the algorithm first, then the checksum file, then the data (Spark's order) */
    if (algo == SPARK_CHECKSUM_UNSUPPORTED)
        return CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM;
    uint8_t raw[8];
    if (checksum_fd < 0 || reduce_id < 0 ||
        !pread_full(checksum_fd, raw, sizeof raw, (uint64_t)reduce_id * 8))
        return CAUSE_UNKNOWN_ISSUE;
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++)
        stored = stored << 8 | raw[i];
    int64_t recomputed;
    if (data_fd < 0 || !checksum_range(algo, data_fd, offset, length, &recomputed))
        return CAUSE_UNKNOWN_ISSUE;
    if ((int64_t)stored != recomputed)
        return CAUSE_DISK_ISSUE;
    if ((int64_t)stored != checksum_by_reader)
        return CAUSE_NETWORK_ISSUE;
    return CAUSE_CHECKSUM_VERIFY_PASS;
}

struct diagnose_job {
    struct block_service *s;
    struct rpc_reply *reply;
    char *app, *exec, *algorithm;
    int32_t shuffle_id, reduce_id;
    int64_t map_id, checksum;
};

/* Opens name placed among app/exec's dirs (confined like a fetch): the fd, or -1. */
static int open_placed(struct resolver *r, const char *app, const char *exec, const char *name)
{
    char path[PATH_MAX], err[512];
    if (resolver_file_path(r, app, exec, name, path, sizeof path, err, sizeof err) < 0)
        return -1;
    int confined = resolver_confine_path(r, path, sizeof path, err, sizeof err);
    return confined < 0 ? -1 : file_open_for_read(path, confined == 1);
}

static void diagnose_run(void *arg)
{
    struct diagnose_job *j = arg;
    struct resolver *r = j->s->res;
    char err[1024];
    struct executor_info info;
    if (resolver_get(r, j->app, j->exec, &info) < 0) {
        resolver_not_registered(j->app, j->exec, err, sizeof err);
        rpc_reply_fail(j->reply, err);
        return;
    }
    executor_info_free(&info);
    enum spark_checksum_algo algo = spark_checksum_algo_of(j->algorithm);
    struct block_location loc;
    int32_t end = j->reduce_id < INT32_MAX ? j->reduce_id + 1 : -1;
    if (resolver_shuffle_range(r, j->app, j->exec, j->shuffle_id, j->map_id, j->reduce_id, end,
                               &loc, err, sizeof err) < 0) {
        rpc_reply_fail(j->reply, err);
        return;
    }
    int checksum_fd = -1, data_fd = -1;
    if (algo != SPARK_CHECKSUM_UNSUPPORTED) { /* only a known name becomes part of a file name */
        char name[128];
        snprintf(name, sizeof name, "shuffle_%d_%lld_0.checksum.%s", (int)j->shuffle_id,
                 (long long)j->map_id, j->algorithm);
        checksum_fd = open_placed(r, j->app, j->exec, name);
        data_fd = file_open_for_read(loc.path, loc.no_symlinks);
    }
    enum corruption_cause cause = corruption_cause_of(algo, checksum_fd, j->reduce_id, data_fd,
                                                      loc.offset, loc.length, j->checksum);
    log_info("corruption diagnosis of shuffle_%d_%lld_%d (%s, app %s): cause %d",
             (int)j->shuffle_id, (long long)j->map_id, (int)j->reduce_id, j->algorithm, j->app,
             (int)cause);
    if (checksum_fd >= 0)
        close(checksum_fd);
    if (data_fd >= 0)
        close(data_fd);
    free(loc.path);
    struct blockmsg m = {.type = BLOCKMSG_CORRUPTION_CAUSE};
    m.u.corruption_cause.cause = (uint8_t)cause;
    block_reply_msg(j->reply, &m);
}

static void diagnose_done(struct conn *c, void *arg)
{
    struct diagnose_job *j = arg;
    (void)c;
    free(j->app);
    free(j->exec);
    free(j->algorithm);
    free(j);
}

void block_diagnose_corruption(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                               const struct blockmsg *m)
{
    const __typeof__(m->u.diagnose_corruption) *d = &m->u.diagnose_corruption;
    struct diagnose_job *j = calloc(1, sizeof *j);
    const struct proto_bytes *a = &d->algorithm;
    /* a name with a NUL in it is no algorithm Spark knows */
    const char *algorithm = a->data && strlen(a->data) == a->len ? a->data : "";
    if (j) {
        *j = (struct diagnose_job){.s = s,
                                   .reply = reply,
                                   .app = strdup(d->app_id.data),
                                   .exec = strdup(d->exec_id.data),
                                   .algorithm = strdup(algorithm),
                                   .shuffle_id = d->shuffle_id,
                                   .reduce_id = d->reduce_id,
                                   .map_id = d->map_id,
                                   .checksum = d->checksum};
    }
    if (!j || !j->app || !j->exec || !j->algorithm) {
        rpc_reply_fail(reply, "java.lang.OutOfMemoryError: DiagnoseCorruption");
        if (j)
            diagnose_done(c, j);
        return;
    }
    conn_run_blocking(c, diagnose_run, diagnose_done, j);
}
