/* SPDX-License-Identifier: Apache-2.0 */
/* Sample messages from descriptions: see test_blockmsg_sample.h. */
#include <config.h>

#include "test_blockmsg_sample.h"

#include <stdlib.h>
#include <string.h>

/* Empty, maximal, minimal and sign-flipping values of every width. */
static const uint64_t edges[] = {
    0, 1, UINT64_MAX, INT32_MAX, (uint64_t)INT32_MIN, INT64_MAX, (uint64_t)INT64_MIN, 255, 0x80,
};

/* Empty, non-ASCII (4-byte UTF-8 too), an id, an embedded NUL. */
static const struct {
    const char *text;
    uint32_t len;
} texts[] = {{"", 0}, {"app-\xe2\x82\xac\xf0\x9f\x98\x80", 11}, {"shuffle_0_1_2", 13}, {"a\0b", 3}};

/* Valid portable RoaringBitmaps: empty; {1,3,5} in an array container; 0-9 as a run. */
static const uint8_t bitmap_empty[] = {0x3a, 0x30, 0, 0, 0, 0, 0, 0};
static const uint8_t bitmap_array[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2,
                                       0,    0x10, 0, 0, 0, 1, 0, 3, 0, 5, 0};
static const uint8_t bitmap_run[] = {0x3b, 0x30, 0, 0, 1, 0, 0, 9, 0, 1, 0, 0, 0, 9, 0};
static const struct {
    const uint8_t *bytes;
    size_t len;
} bitmaps[] = {{bitmap_empty, sizeof(bitmap_empty)},
               {bitmap_array, sizeof(bitmap_array)},
               {bitmap_run, sizeof(bitmap_run)}};

static uint64_t next_value(struct sample_source *s)
{
    uint64_t v = 0;
    if (!s->data)
        return edges[s->turn++ % (sizeof(edges) / sizeof(*edges))];
    for (int i = 0; i < 8; i++)
        v = v << 8 | (s->pos < s->len ? s->data[s->pos++] : 0);
    return v;
}

/* An array of a count small enough to keep samples short (one spare item, so
 * that an empty array is not a NULL pointer). */
static void *new_items(struct sample_source *s, uint32_t *count, size_t item_size)
{
    *count = (uint32_t)(next_value(s) % 4);
    return calloc((size_t)*count + 1, item_size);
}

static void next_text(struct sample_source *s, const uint8_t **data, uint32_t *len)
{
    uint64_t v = next_value(s);
    if (!s->data) {
        *data = (const uint8_t *)texts[v % (sizeof(texts) / sizeof(*texts))].text;
        *len = texts[v % (sizeof(texts) / sizeof(*texts))].len;
        return;
    }
    size_t n = (size_t)(v % 32), left = s->len - s->pos;
    *len = (uint32_t)(n < left ? n : left);
    *data = s->data + s->pos;
    s->pos += *len;
}

static void fill_bytes(struct proto_bytes *b, struct sample_source *s)
{
    const uint8_t *data;
    uint32_t len;
    next_text(s, &data, &len);
    proto_bytes_set(b, data, len);
}

static void fill_ints(struct proto_int_array *a, struct sample_source *s)
{
    a->items = new_items(s, &a->count, sizeof(*a->items));
    for (uint32_t i = 0; i < a->count; i++)
        a->items[i] = (int32_t)(uint32_t)next_value(s);
}

static void fill_field(const struct msg_field *f, void *msg, struct sample_source *s)
{
    switch (f->kind) {
    case MSGF_U8:
        *MSG_FIELD_AT(msg, f, uint8_t) = (uint8_t)next_value(s);
        break;
    case MSGF_BOOL:
        *MSG_FIELD_AT(msg, f, bool) = next_value(s) & 1;
        break;
    case MSGF_I32:
        *MSG_FIELD_AT(msg, f, int32_t) = (int32_t)(uint32_t)next_value(s);
        break;
    case MSGF_I64:
        *MSG_FIELD_AT(msg, f, int64_t) = (int64_t)next_value(s);
        break;
    case MSGF_BYTE_COUNT: /* never negative */
        *MSG_FIELD_AT(msg, f, int64_t) = (int64_t)(next_value(s) >> 1);
        break;
    case MSGF_BYTES:
        fill_bytes(MSG_FIELD_AT(msg, f, struct proto_bytes), s);
        break;
    case MSGF_VIEW:
    case MSGF_BODY: {
        struct proto_view *v = MSG_FIELD_AT(msg, f, struct proto_view);
        next_text(s, &v->data, &v->len);
        break;
    }
    case MSGF_STRINGS: {
        struct proto_string_array *a = MSG_FIELD_AT(msg, f, struct proto_string_array);
        a->items = new_items(s, &a->count, sizeof(*a->items));
        for (uint32_t i = 0; i < a->count; i++)
            fill_bytes(&a->items[i], s);
        break;
    }
    case MSGF_INTS:
        fill_ints(MSG_FIELD_AT(msg, f, struct proto_int_array), s);
        break;
    case MSGF_LONGS: {
        struct proto_long_array *a = MSG_FIELD_AT(msg, f, struct proto_long_array);
        a->items = new_items(s, &a->count, sizeof(*a->items));
        for (uint32_t i = 0; i < a->count; i++)
            a->items[i] = (int64_t)next_value(s);
        break;
    }
    case MSGF_INT_MATRIX: {
        struct proto_int_matrix *m = MSG_FIELD_AT(msg, f, struct proto_int_matrix);
        m->rows = new_items(s, &m->count, sizeof(*m->rows));
        for (uint32_t i = 0; i < m->count; i++)
            fill_ints(&m->rows[i], s);
        break;
    }
    case MSGF_BITMAPS: {
        struct proto_bytes **items = MSG_FIELD_AT(msg, f, struct proto_bytes *);
        uint32_t *count = MSG_COUNT_AT(msg, f);
        *items = new_items(s, count, sizeof(**items));
        for (uint32_t i = 0; i < *count; i++) {
            uint64_t pick = next_value(s) % (sizeof(bitmaps) / sizeof(*bitmaps));
            proto_bytes_set(&(*items)[i], bitmaps[pick].bytes, bitmaps[pick].len);
        }
        break;
    }
    case MSGF_NESTED:
        sample_fill(f->nested, MSG_FIELD_AT(msg, f, char), MSG_LAYOUT_BASE, s);
        break;
    case MSGF_LEGACY_LEN: /* not stored */
        break;
    }
}

void sample_fill(const struct msgdesc *d, void *msg, int layout, struct sample_source *src)
{
    msgdesc_set_layout(d, msg, layout);
    for (uint8_t i = 0; i < d->nfields; i++)
        if (msgdesc_field_present(&d->fields[i], layout))
            fill_field(&d->fields[i], msg, src);
}

int sample_layouts(const struct msgdesc *d)
{
    return d->layout_rule == MSG_LAYOUT_FIXED ? 1 : 2;
}
