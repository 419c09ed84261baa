/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_partition.h. */
#include <config.h>

#include "server/push/merge_partition.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/push/merge_bitmap.h"

enum { DATA, INDEX, META };

int merge_partition_init(struct merge_partition *p, int32_t reduce_id, char *paths[3])
{
    memset(p, 0, sizeof *p);
    p->reduce_id = reduce_id;
    for (int i = 0; i < 3; i++) {
        p->paths[i] = paths[i];
        p->fds[i] = -1;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->maps = roaring_bitmap_create();
    p->chunk = roaring_bitmap_create();
    if (!p->maps || !p->chunk) {
        merge_partition_destroy(p);
        return -1;
    }
    return 0;
}

static void close_files(struct merge_partition *p)
{
    for (int i = 0; i < 3; i++) {
        if (p->fds[i] >= 0)
            close(p->fds[i]);
        p->fds[i] = -1;
    }
}

void merge_partition_destroy(struct merge_partition *p)
{
    close_files(p);
    for (int i = 0; i < 3; i++)
        free(p->paths[i]);
    if (p->maps)
        roaring_bitmap_free(p->maps);
    if (p->chunk)
        roaring_bitmap_free(p->chunk);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t at)
{
    const uint8_t *b = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, b, len, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
        at += (uint64_t)n;
    }
    return 0;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* Opens the three files with flags (O_RDWR and more); 0, or -1 (errno set, none left open)
 * with *failed the path that failed. */
static int open_files(struct merge_partition *p, int flags, const char **failed)
{
    for (int i = 0; i < 3; i++) {
        p->fds[i] = open(p->paths[i], O_RDWR | O_CLOEXEC | O_NOFOLLOW | flags, 0640);
        if (p->fds[i] < 0) {
            int e = errno;
            *failed = p->paths[i];
            close_files(p);
            errno = e;
            return -1;
        }
    }
    return 0;
}

int merge_partition_open(struct merge_partition *p, char *err, size_t errlen)
{
    const char *failed;
    if (p->fds[DATA] >= 0)
        return 0;
    if (open_files(p, O_CREAT | O_TRUNC, &failed) != 0) {
        snprintf(err, errlen,
                 "java.lang.RuntimeException: Cannot initialize merged shuffle partition for "
                 "reduce %d: %s: %s",
                 p->reduce_id, failed, strerror(errno));
        return -1;
    }
    /* Reducers on this host read merged files straight from disk (Spark's push-merged-local
     * reads), and they may run under another account than the daemon (which the unit starts
     * with UMask=0077): rw-r--r-- whatever the umask, as Spark's service leaves them under the
     * usual 022. The merge dir, which the executor creates with mode 770, keeps other
     * accounts out. */
    for (int i = 0; i < 3; i++)
        if (fchmod(p->fds[i], 0644) != 0) {
            snprintf(err, errlen, "java.io.IOException: %s: %s", p->paths[i], strerror(errno));
            close_files(p);
            return -1;
        }
    uint8_t zero[8];
    be64(zero, 0);
    if (pwrite_all(p->fds[INDEX], zero, 8, 0) != 0) {
        snprintf(err, errlen, "java.io.IOException: %s: %s", p->paths[INDEX], strerror(errno));
        close_files(p);
        return -1;
    }
    p->index_pos = 8;
    return 0;
}

int merge_partition_write(struct merge_partition *p, const void *buf, size_t len, uint64_t at,
                          char *err, size_t errlen)
{
    if (p->fds[DATA] < 0 || pwrite_all(p->fds[DATA], buf, len, p->data_pos + at) != 0) {
        snprintf(err, errlen, "java.io.IOException: %s: %s", p->paths[DATA],
                 p->fds[DATA] < 0 ? "not open" : strerror(errno));
        return -1;
    }
    return 0;
}

/* Appends boundary `end` to the index and the current chunk's bitmap to the meta file. */
static int close_chunk(struct merge_partition *p, uint64_t end, char *err, size_t errlen)
{
    uint8_t b[8];
    be64(b, end);
    uint8_t *bm = NULL;
    size_t bm_len = 0;
    if (merge_bitmap_serialize(p->chunk, false, &bm, &bm_len) != 0) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: chunk bitmap");
        return -1;
    }
    int rc = pwrite_all(p->fds[META], bm, bm_len, p->meta_pos);
    if (rc == 0)
        rc = pwrite_all(p->fds[INDEX], b, 8, p->index_pos);
    free(bm);
    if (rc != 0) {
        snprintf(err, errlen, "java.io.IOException: %s: %s", p->paths[INDEX], strerror(errno));
        return -1;
    }
    p->meta_pos += bm_len;
    p->index_pos += 8;
    p->chunk_start = end;
    roaring_bitmap_clear(p->chunk);
    return 0;
}

int merge_partition_commit(struct merge_partition *p, int32_t map_index, uint64_t len,
                           uint64_t min_chunk_bytes, char *err, size_t errlen)
{
    uint64_t end = p->data_pos + len;
    roaring_bitmap_add(p->chunk, (uint32_t)map_index);
    if (end - p->chunk_start >= min_chunk_bytes && close_chunk(p, end, err, errlen) != 0) {
        roaring_bitmap_remove(p->chunk, (uint32_t)map_index);
        return -1;
    }
    roaring_bitmap_add(p->maps, (uint32_t)map_index);
    p->data_pos = end;
    return 0;
}

void merge_partition_rollback(struct merge_partition *p)
{
    /* a failure does no harm: the next block overwrites it, and finalize cuts it again */
    if (p->fds[DATA] >= 0) {
        if (ftruncate(p->fds[DATA], (off_t)p->data_pos) != 0)
            (void)0;
    } else if (!p->finalized && truncate(p->paths[DATA], (off_t)p->data_pos) != 0) {
        (void)0; /* its files closed meanwhile (push_max_open_files): cut by path */
    }
}

void merge_partition_close(struct merge_partition *p)
{
    close_files(p);
}

int merge_partition_finalize(struct merge_partition *p, char *err, size_t errlen)
{
    if (p->finalized)
        return 0;
    p->finalized = true;
    if (p->fds[DATA] < 0 && p->data_pos == 0 && roaring_bitmap_is_empty(p->maps))
        return 0; /* nothing merged: the files hold what they were created with */
    if (p->fds[DATA] < 0 && merge_partition_reopen(p, err, errlen) != 0)
        return -1; /* closed for push_max_open_files, and now gone */
    int rc = 0;
    if (p->data_pos != p->chunk_start)
        rc = close_chunk(p, p->data_pos, err, errlen);
    if (rc == 0 && (ftruncate(p->fds[DATA], (off_t)p->data_pos) != 0 ||
                    ftruncate(p->fds[INDEX], (off_t)p->index_pos) != 0 ||
                    ftruncate(p->fds[META], (off_t)p->meta_pos) != 0)) {
        snprintf(err, errlen, "java.io.IOException: %s: %s", p->paths[DATA], strerror(errno));
        rc = -1;
    }
    close_files(p);
    return rc;
}

void merge_partition_unlink(struct merge_partition *p)
{
    close_files(p);
    for (int i = 0; i < 3; i++)
        if (p->paths[i])
            unlink(p->paths[i]);
}

int merge_partition_reopen(struct merge_partition *p, char *err, size_t errlen)
{
    const char *failed;
    if (p->fds[DATA] >= 0)
        return 0;
    if (open_files(p, 0, &failed) != 0) {
        snprintf(err, errlen, "java.io.IOException: cannot reopen %s: %s", failed, strerror(errno));
        return -1;
    }
    return 0;
}

void merge_partition_restored(struct merge_partition *p)
{
    if (p->index_pos == 0)
        p->index_pos = 8; /* the first boundary, 0, written when it was created */
}

/* The in-memory side of close_chunk: the chunk's boundary and bitmap are in the files. */
static void replay_close_chunk(struct merge_partition *p, uint64_t end)
{
    p->index_pos += 8;
    p->meta_pos += roaring_bitmap_portable_size_in_bytes(p->chunk);
    p->chunk_start = end;
    roaring_bitmap_clear(p->chunk);
}

void merge_partition_replay_commit(struct merge_partition *p, int32_t map_index, uint64_t end,
                                   bool chunk_closed)
{
    roaring_bitmap_add(p->chunk, (uint32_t)map_index);
    roaring_bitmap_add(p->maps, (uint32_t)map_index);
    p->data_pos = end;
    if (chunk_closed)
        replay_close_chunk(p, end);
}

void merge_partition_replay_finalize(struct merge_partition *p)
{
    if (p->data_pos != p->chunk_start)
        replay_close_chunk(p, p->data_pos);
    p->finalized = true;
    close_files(p);
}

int merge_partition_replay_done(struct merge_partition *p)
{
    const char *failed;
    if (p->finalized)
        return 0;
    /* as they are (made again, empty, if missing), cut, and closed until a push needs them */
    int rc = p->fds[DATA] >= 0 ? 0 : open_files(p, O_CREAT, &failed);
    if (rc == 0 && (ftruncate(p->fds[DATA], (off_t)p->data_pos) != 0 ||
                    ftruncate(p->fds[INDEX], (off_t)p->index_pos) != 0 ||
                    ftruncate(p->fds[META], (off_t)p->meta_pos) != 0))
        rc = -1;
    close_files(p);
    return rc;
}
