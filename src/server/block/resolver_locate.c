/* SPDX-License-Identifier: Apache-2.0 */
/* Block resolution: a shuffle block's reduce range or an RDD block turned into a file segment
 * (index read through the index cache, data file kept open in the open map outputs when it
 * can be), with the registry's placement and the allowed roots; see resolver.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/block/blockid.h"
#include "server/block/index_cache.h"
#include "server/block/map_output_cache.h"
#include "server/block/resolver.h"
#include "server/stream/file_open.h"

#define PATH_BUF 4096

/* The index and data paths of (shuffle, map) in app/exec's dirs, confined to the allowed
 * roots; *id the registration's id (may be NULL), *confined: open them refusing symlinks. */
static int shuffle_paths(struct resolver *r, const char *app, const char *exec, int32_t shuffle_id,
                         int64_t map_id, char *index_path, char *data_path, uint64_t *id,
                         bool *confined, char *err, size_t errlen)
{
    char name[96];
    block_index_file_name(shuffle_id, map_id, name, sizeof(name));
    if (resolver_file_path_id(r, app, exec, name, index_path, PATH_BUF, id, err, errlen) < 0)
        return -1;
    block_data_file_name(shuffle_id, map_id, name, sizeof(name));
    if (resolver_file_path(r, app, exec, name, data_path, PATH_BUF, err, errlen) < 0)
        return -1;
    int c = resolver_confine_path(r, index_path, PATH_BUF, err, errlen);
    if (c < 0 || resolver_confine_path(r, data_path, PATH_BUF, err, errlen) < 0)
        return -1;
    *confined = c == 1;
    return 0;
}

/* [start, end) of the map output by the index, the data file by its path. */
static int range_by_path(struct resolver *r, const char *index_path, const char *data_path,
                         bool confined, int32_t start, int32_t end, struct block_location *loc,
                         char *err, size_t errlen)
{
    loc->no_symlinks = confined;
    if (index_cache_range(resolver_index_cache(r), index_path, confined, start, end, &loc->offset,
                          &loc->length, err, errlen) < 0)
        return -1;
    loc->path = strdup(data_path);
    if (!loc->path) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError");
        return -1;
    }
    return 0;
}

int resolver_shuffle_range(struct resolver *r, const char *app, const char *exec,
                           int32_t shuffle_id, int64_t map_id, int32_t start, int32_t end,
                           struct block_location *loc, char *err, size_t errlen)
{
    char index_path[PATH_BUF], data_path[PATH_BUF];
    bool confined;
    memset(loc, 0, sizeof(*loc));
    if (shuffle_paths(r, app, exec, shuffle_id, map_id, index_path, data_path, NULL, &confined, err,
                      errlen) < 0)
        return -1;
    return range_by_path(r, index_path, data_path, confined, start, end, loc, err, errlen);
}

int resolver_rdd_block(struct resolver *r, const char *app, const char *exec, int32_t rdd_id,
                       int32_t split_index, struct block_location *loc, char *err, size_t errlen)
{
    char name[64], path[PATH_BUF];
    struct stat st;
    memset(loc, 0, sizeof(*loc));
    block_rdd_file_name(rdd_id, split_index, name, sizeof(name));
    int confined;
    if (resolver_file_path(r, app, exec, name, path, sizeof(path), err, errlen) < 0 ||
        (confined = resolver_confine_path(r, path, PATH_BUF, err, errlen)) < 0)
        return -1;
    loc->no_symlinks = confined;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        loc->missing = true;
        return 0;
    }
    loc->path = strdup(path);
    if (!loc->path) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError");
        return -1;
    }
    loc->length = (uint64_t)st.st_size;
    return 0;
}

/* The data file opened and kept in the open map outputs with the index's offsets. 0 with
 * *out set; 1 when it cannot be kept (the caller opens by path; the error texts of a file
 * that cannot be opened or is too short come from there). */
static int keep_open(struct resolver *r, uint64_t id, int32_t shuffle_id, int64_t map_id,
                     const char *data_path, bool confined, uint64_t *offs, size_t count,
                     struct map_output **out)
{
    struct stat st;
    int fd = file_open_for_read(data_path, confined);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        free(offs);
        return 1;
    }
    *out = map_output_cache_insert(resolver_open_maps(r), id, shuffle_id, map_id, fd, offs, count);
    if (!*out) {
        close(fd);
        free(offs);
        return 1;
    }
    return 0;
}

int resolver_shuffle_open(struct resolver *r, const char *app, const char *exec, int32_t shuffle_id,
                          int64_t map_id, int32_t start, int32_t end, struct block_location *loc,
                          struct map_output **out, uint64_t *reg_id, char *err, size_t errlen)
{
    char index_path[PATH_BUF], data_path[PATH_BUF];
    uint64_t id = 0, *offs = NULL;
    size_t count = 0;
    bool confined;
    memset(loc, 0, sizeof(*loc));
    *out = NULL;
    if (shuffle_paths(r, app, exec, shuffle_id, map_id, index_path, data_path, &id, &confined, err,
                      errlen) < 0)
        return -1;
    loc->no_symlinks = confined;
    int rc = index_cache_offsets(resolver_index_cache(r), index_path, confined, &offs, &count, err,
                                 errlen);
    if (rc < 0)
        return -1;
    if (rc == 0 && (start < 0 || end < start || (size_t)end >= count)) {
        free(offs);
        snprintf(err, errlen, "java.lang.IndexOutOfBoundsException");
        return -1;
    }
    if (rc == 0 &&
        keep_open(r, id, shuffle_id, map_id, data_path, confined, offs, count, out) == 0) {
        if (map_output_range(resolver_open_maps(r), *out, start, end, &loc->offset, &loc->length)) {
            *reg_id = id;
            return 0;
        }
        map_output_release(*out, -1); /* shorter than its index says: the path reports it */
        *out = NULL;
    }
    return range_by_path(r, index_path, data_path, confined, start, end, loc, err, errlen);
}
