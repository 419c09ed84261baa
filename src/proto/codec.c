/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "proto/codec.h"

#include <roaring/roaring.h>

#include <stdlib.h>
#include <string.h>

void proto_reader_init(struct proto_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->error = NULL;
}

void proto_reader_fail(struct proto_reader *r, const char *why)
{
    if (!r->error)
        r->error = why;
}

static bool take(struct proto_reader *r, size_t n, const uint8_t **p, const char *what)
{
    if (r->error)
        return false;
    if (proto_reader_remaining(r) < n) {
        proto_reader_fail(r, what);
        return false;
    }
    *p = r->buf + r->pos;
    r->pos += n;
    return true;
}

/* The inline fixed-width reads' failure (codec.h): the reader failed before, or fewer than n
 * bytes are left. */
bool proto_read_short(struct proto_reader *r, size_t n, const char *what)
{
    const uint8_t *ignored;
    return take(r, n, &ignored, what);
}

bool proto_read_bool(struct proto_reader *r, bool *out)
{
    uint8_t b;
    bool ok = proto_read_u8(r, &b);
    *out = b != 0;
    return ok;
}

bool proto_read_raw(struct proto_reader *r, size_t n, const uint8_t **out)
{
    *out = NULL;
    return take(r, n, out, "truncated: bytes past end");
}

/* Reads an i32 count and checks count * min_item_size fits in what is left,
 * so that a hostile count can never cause a large allocation. */
static bool read_count(struct proto_reader *r, size_t min_item_size, uint32_t *count)
{
    int32_t n;
    *count = 0;
    if (!proto_read_i32(r, &n))
        return false;
    if (n < 0) {
        proto_reader_fail(r, "negative length or count");
        return false;
    }
    if ((uint64_t)n * min_item_size > proto_reader_remaining(r)) {
        proto_reader_fail(r, "length or count past end of message");
        return false;
    }
    *count = (uint32_t)n;
    return true;
}

bool proto_read_bytes_borrowed(struct proto_reader *r, const uint8_t **data, uint32_t *len)
{
    *data = NULL;
    if (!read_count(r, 1, len))
        return false;
    return take(r, *len, data, "truncated string");
}

bool proto_bytes_set(struct proto_bytes *b, const void *data, size_t len)
{
    b->data = malloc(len + 1);
    b->len = 0;
    if (!b->data)
        return false;
    if (len)
        memcpy(b->data, data, len);
    b->data[len] = '\0';
    b->len = (uint32_t)len;
    return true;
}

bool proto_bytes_set_str(struct proto_bytes *b, const char *s)
{
    return proto_bytes_set(b, s, strlen(s));
}

bool proto_read_bytes(struct proto_reader *r, struct proto_bytes *out)
{
    const uint8_t *p;
    uint32_t n;
    out->data = NULL;
    out->len = 0;
    if (!proto_read_bytes_borrowed(r, &p, &n))
        return false;
    if (!proto_bytes_set(out, p, n)) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    return true;
}

void proto_bytes_free(struct proto_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

bool proto_read_string_array(struct proto_reader *r, struct proto_string_array *out)
{
    uint32_t n;
    out->items = NULL;
    out->count = 0;
    if (!read_count(r, 4, &n))
        return false;
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (!out->items) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!proto_read_bytes(r, &out->items[i]))
            break;
        out->count = i + 1;
    }
    if (r->error) {
        proto_string_array_free(out);
        return false;
    }
    return true;
}

void proto_string_array_free(struct proto_string_array *a)
{
    for (uint32_t i = 0; i < a->count; i++)
        proto_bytes_free(&a->items[i]);
    free(a->items);
    a->items = NULL;
    a->count = 0;
}

bool proto_read_int_array(struct proto_reader *r, struct proto_int_array *out)
{
    uint32_t n;
    out->items = NULL;
    out->count = 0;
    if (!read_count(r, 4, &n))
        return false;
    out->items = malloc((n ? n : 1) * sizeof(int32_t));
    if (!out->items) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n; i++)
        proto_read_i32(r, &out->items[i]);
    out->count = n;
    return true;
}

void proto_int_array_free(struct proto_int_array *a)
{
    free(a->items);
    a->items = NULL;
    a->count = 0;
}

bool proto_read_long_array(struct proto_reader *r, struct proto_long_array *out)
{
    uint32_t n;
    out->items = NULL;
    out->count = 0;
    if (!read_count(r, 8, &n))
        return false;
    out->items = malloc((n ? n : 1) * sizeof(int64_t));
    if (!out->items) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n; i++)
        proto_read_i64(r, &out->items[i]);
    out->count = n;
    return true;
}

void proto_long_array_free(struct proto_long_array *a)
{
    free(a->items);
    a->items = NULL;
    a->count = 0;
}

bool proto_read_int_matrix(struct proto_reader *r, struct proto_int_matrix *out)
{
    uint32_t n;
    out->rows = NULL;
    out->count = 0;
    if (!read_count(r, 4, &n))
        return false;
    out->rows = calloc(n ? n : 1, sizeof(*out->rows));
    if (!out->rows) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!proto_read_int_array(r, &out->rows[i]))
            break;
        out->count = i + 1;
    }
    if (r->error) {
        proto_int_matrix_free(out);
        return false;
    }
    return true;
}

void proto_int_matrix_free(struct proto_int_matrix *m)
{
    for (uint32_t i = 0; i < m->count; i++)
        proto_int_array_free(&m->rows[i]);
    free(m->rows);
    m->rows = NULL;
    m->count = 0;
}

/* CRoaring knows the portable layout (protocol.md 3.3): it finds where a bitmap ends without
 * building it, and 0 means malformed or truncated. */
size_t proto_bitmap_size(const uint8_t *buf, size_t len)
{
    return roaring_bitmap_portable_deserialize_size((const char *)buf, len);
}

bool proto_read_bitmap(struct proto_reader *r, struct proto_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    if (r->error)
        return false;
    size_t n = proto_bitmap_size(r->buf + r->pos, proto_reader_remaining(r));
    if (n == 0) {
        proto_reader_fail(r, "malformed or truncated RoaringBitmap");
        return false;
    }
    if (!proto_bytes_set(out, r->buf + r->pos, n)) {
        proto_reader_fail(r, "out of memory");
        return false;
    }
    r->pos += n;
    return true;
}

void proto_writer_init(struct proto_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void proto_writer_init_fixed(struct proto_writer *w, void *storage, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = storage;
    w->cap = cap;
    w->fixed = true;
}

void proto_writer_free(struct proto_writer *w)
{
    if (!w->fixed)
        free(w->buf);
    memset(w, 0, sizeof(*w));
}

void proto_writer_reset(struct proto_writer *w)
{
    w->len = 0;
    w->failed = false;
}

uint8_t *proto_writer_take(struct proto_writer *w, size_t *len)
{
    uint8_t *b = w->buf;
    *len = w->len;
    if (w->fixed) {
        b = malloc(w->len ? w->len : 1);
        if (b)
            memcpy(b, w->buf, w->len);
    }
    memset(w, 0, sizeof(*w));
    return b;
}

bool proto_writer_grow(struct proto_writer *w, size_t extra)
{
    if (w->failed)
        return false;
    if (extra > SIZE_MAX - w->len) {
        w->failed = true;
        return false;
    }
    size_t need = w->len + extra;
    if (need <= w->cap)
        return true;
    if (w->fixed) {
        w->failed = true;
        return false;
    }
    size_t cap = w->cap ? w->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
        w->failed = true;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

void proto_write_raw(struct proto_writer *w, const void *data, size_t n)
{
    if (!proto_writer_reserve(w, n))
        return;
    if (n)
        memcpy(w->buf + w->len, data, n);
    w->len += n;
}

void proto_write_bool(struct proto_writer *w, bool v)
{
    proto_write_u8(w, v ? 1 : 0);
}

void proto_write_bytes(struct proto_writer *w, const void *data, size_t n)
{
    if (n > INT32_MAX) {
        w->failed = true;
        return;
    }
    proto_write_i32(w, (int32_t)n);
    proto_write_raw(w, data, n);
}

void proto_write_str(struct proto_writer *w, const char *s)
{
    proto_write_bytes(w, s, strlen(s));
}

void proto_write_proto_bytes(struct proto_writer *w, const struct proto_bytes *b)
{
    proto_write_bytes(w, b->data, b->len);
}

void proto_write_string_array(struct proto_writer *w, const struct proto_string_array *a)
{
    proto_write_i32(w, (int32_t)a->count);
    for (uint32_t i = 0; i < a->count; i++)
        proto_write_proto_bytes(w, &a->items[i]);
}

void proto_write_int_array(struct proto_writer *w, const struct proto_int_array *a)
{
    proto_write_i32(w, (int32_t)a->count);
    for (uint32_t i = 0; i < a->count; i++)
        proto_write_i32(w, a->items[i]);
}

void proto_write_long_array(struct proto_writer *w, const struct proto_long_array *a)
{
    proto_write_i32(w, (int32_t)a->count);
    for (uint32_t i = 0; i < a->count; i++)
        proto_write_i64(w, a->items[i]);
}

void proto_write_int_matrix(struct proto_writer *w, const struct proto_int_matrix *m)
{
    proto_write_i32(w, (int32_t)m->count);
    for (uint32_t i = 0; i < m->count; i++)
        proto_write_int_array(w, &m->rows[i]);
}

void proto_patch_i32(struct proto_writer *w, size_t at, int32_t v)
{
    if (!w->failed && at + 4 <= w->len)
        proto_store_u32(w->buf + at, (uint32_t)v);
}

void proto_patch_i64(struct proto_writer *w, size_t at, int64_t v)
{
    if (!w->failed && at + 8 <= w->len)
        proto_store_u64(w->buf + at, (uint64_t)v);
}
