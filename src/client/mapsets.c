/* SPDX-License-Identifier: Apache-2.0 */
/* RoaringBitmaps of map indices: see mapsets.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>

#include "client/mapsets.h"

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
