/* SPDX-License-Identifier: Apache-2.0 */
/* RoaringBitmaps of map indices: see mapsets.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>

#include "client/mapsets.h"
#include "proto/blockmsg.h"

static void free_bitmaps(roaring_bitmap_t **bm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bm[i])
            roaring_bitmap_free(bm[i]);
    free(bm);
}

void *mapsets_decode(size_t front_bytes, const struct proto_view *raw, size_t n,
                     struct shuffle_map_sets **sets, char *err, size_t errlen)
{
    roaring_bitmap_t **bm = calloc(n + 1, sizeof(*bm));
    if (!bm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        bm[i] = roaring_bitmap_portable_deserialize_safe((const char *)raw[i].data, raw[i].len);
        if (!bm[i]) {
            snprintf(err, errlen, "bitmap %zu is not a portable RoaringBitmap", i);
            free_bitmaps(bm, n);
            return NULL;
        }
        total += roaring_bitmap_get_cardinality(bm[i]);
        if (total > MAPSETS_MAX_VALUES) {
            snprintf(err, errlen, "the bitmaps hold more than %u map indices", MAPSETS_MAX_VALUES);
            free_bitmaps(bm, n);
            return NULL;
        }
    }
    size_t front = (front_bytes + 7) & ~(size_t)7;
    size_t bytes = front + sizeof(struct shuffle_map_sets) + n * sizeof(size_t) +
                   n * sizeof(uint32_t *) + (size_t)total * sizeof(uint32_t);
    char *block = calloc(1, bytes);
    if (!block) {
        snprintf(err, errlen, "out of memory");
        free_bitmaps(bm, n);
        return NULL;
    }
    struct shuffle_map_sets *s = (struct shuffle_map_sets *)(block + front);
    size_t *sizes = (size_t *)(s + 1);
    const uint32_t **lists = (const uint32_t **)(sizes + n);
    uint32_t *values = (uint32_t *)(lists + n);
    for (size_t i = 0; i < n; i++) {
        sizes[i] = (size_t)roaring_bitmap_get_cardinality(bm[i]);
        lists[i] = values;
        roaring_bitmap_to_uint32_array(bm[i], values);
        values += sizes[i];
    }
    s->count = n;
    s->sizes = sizes;
    s->map_indices = lists;
    *sets = s;
    free_bitmaps(bm, n);
    return block;
}

int mapsets_split(const uint8_t *buf, size_t len, size_t count, struct proto_view *views, char *err,
                  size_t errlen)
{
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = roaring_bitmap_portable_deserialize_size((const char *)buf + at, len - at);
        if (n == 0) {
            snprintf(err, errlen, "chunk bitmap %zu of %zu is malformed or cut short", i, count);
            return -1;
        }
        views[i].data = buf + at;
        views[i].len = (uint32_t)n;
        at += n;
    }
    if (at != len) {
        snprintf(err, errlen, "%zu bytes after the %zu chunk bitmaps", len - at, count);
        return -1;
    }
    return 0;
}

/* ---- the replies that carry them ---- */

/* One malloc'd block: the statuses, then reduce ids and sizes, then the map sets. */
struct shuffle_merge_statuses *mapsets_statuses(const struct blockmsg *m, char *err, size_t errlen)
{
    size_t n = m->u.merge_statuses.bitmap_count;
    if (m->u.merge_statuses.reduce_ids.count != n || m->u.merge_statuses.sizes.count != n) {
        snprintf(err, errlen, "MergeStatuses: %zu bitmaps, %u reduce ids, %u sizes", n,
                 m->u.merge_statuses.reduce_ids.count, m->u.merge_statuses.sizes.count);
        return NULL;
    }
    struct proto_view *views = calloc(n + 1, sizeof(*views));
    if (!views) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        views[i].data = (const uint8_t *)m->u.merge_statuses.bitmaps[i].data;
        views[i].len = m->u.merge_statuses.bitmaps[i].len;
    }
    size_t front = sizeof(struct shuffle_merge_statuses) + n * (sizeof(int64_t) + sizeof(int32_t));
    struct shuffle_map_sets *sets;
    struct shuffle_merge_statuses *ms = mapsets_decode(front, views, n, &sets, err, errlen);
    free(views);
    if (!ms)
        return NULL;
    int64_t *sizes = (int64_t *)(ms + 1);
    int32_t *reduce_ids = (int32_t *)(sizes + n);
    if (n) {
        memcpy(sizes, m->u.merge_statuses.sizes.items, n * sizeof(int64_t));
        memcpy(reduce_ids, m->u.merge_statuses.reduce_ids.items, n * sizeof(int32_t));
    }
    ms->struct_size = sizeof(*ms);
    ms->shuffle_id = m->u.merge_statuses.shuffle_id;
    ms->shuffle_merge_id = m->u.merge_statuses.layout == BLOCKMSG_LAYOUT_32
                               ? m->u.merge_statuses.shuffle_merge_id
                               : -1;
    ms->num_partitions = n;
    ms->reduce_ids = reduce_ids;
    ms->sizes = sizes;
    ms->maps = *sets;
    return ms;
}

struct shuffle_map_sets *mapsets_meta_reply(const uint8_t *body, size_t len, char *err,
                                            size_t errlen)
{
    struct proto_reader r;
    int32_t num_chunks;
    proto_reader_init(&r, body, len);
    if (!proto_read_i32(&r, &num_chunks) || num_chunks < 0 || (size_t)num_chunks > (len - 4) / 8) {
        snprintf(err, errlen, "MergedBlockMetaSuccess: bad chunk count");
        return NULL;
    }
    size_t n = (size_t)num_chunks;
    struct proto_view *views = calloc(n + 1, sizeof(*views));
    if (!views) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct shuffle_map_sets *sets = NULL;
    void *block = NULL;
    if (mapsets_split(body + 4, len - 4, n, views, err, errlen) == 0)
        block = mapsets_decode(0, views, n, &sets, err, errlen);
    free(views);
    return block ? sets : NULL; /* with front_bytes 0 the sets start the block */
}
