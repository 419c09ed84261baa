/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_journal_part.h. */
#include <config.h>

#include "server/push/merge_journal_part.h"

#include <stdint.h>
#include <string.h>

void merge_journal_part_encode(struct proto_writer *w, const struct merge_journal_part *r)
{
    proto_write_i32(w, r->reduce);
    proto_write_i64(w, r->data_len);
    proto_write_i64(w, r->index_len);
    proto_write_i64(w, r->meta_len);
    size_t n = roaring_bitmap_portable_size_in_bytes(r->maps);
    if (n > INT32_MAX) {
        w->failed = true;
        return;
    }
    proto_write_i32(w, (int32_t)n);
    if (!proto_writer_reserve(w, n))
        return;
    w->len += roaring_bitmap_portable_serialize(r->maps, (char *)w->buf + w->len);
}

bool merge_journal_part_decode(struct proto_reader *rd, struct merge_journal_part *r,
                               roaring_bitmap_t **maps)
{
    const uint8_t *bm = NULL;
    uint32_t n = 0;
    *maps = NULL;
    if (!proto_read_i32(rd, &r->reduce) || !proto_read_i64(rd, &r->data_len) ||
        !proto_read_i64(rd, &r->index_len) || !proto_read_i64(rd, &r->meta_len) ||
        !proto_read_bytes_borrowed(rd, &bm, &n) || !bm)
        return false;
    /* as finalize leaves them: the index holds 0 and one boundary per chunk */
    if (r->reduce < 0 || r->data_len < 0 || r->index_len < 8 || r->index_len % 8 != 0 ||
        r->meta_len < 0 || roaring_bitmap_portable_deserialize_size((const char *)bm, n) != n)
        return false;
    *maps = roaring_bitmap_portable_deserialize_safe((const char *)bm, n);
    if (!*maps || roaring_bitmap_is_empty(*maps)) {
        if (*maps)
            roaring_bitmap_free(*maps);
        *maps = NULL;
        return false;
    }
    r->maps = *maps;
    return true;
}

size_t merge_journal_part_bytes(const char *app, const roaring_bitmap_t *maps)
{
    return 12 + 1 + 4 + strlen(app) + 3 * 4 + 4 + 3 * 8 + 4 +
           roaring_bitmap_portable_size_in_bytes(maps);
}
