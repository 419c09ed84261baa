/* SPDX-License-Identifier: Apache-2.0 */
/* The engine over message descriptions, generic over any row: decode (with the
 * layout rules), encode, size and free, built from the per-field steps in
 * msgdesc_codec.h, and the out-of-line helpers those steps call. */
#include <config.h>

#include "proto/msgdesc_codec.h"

#include <stdlib.h>

#define OUT_OF_LINE __attribute__((noinline))

size_t msgdesc_field_c_size(const struct msg_field *f)
{
    static const uint8_t c_size[MSGF_KIND_COUNT] = {
        [MSGF_U8] = sizeof(uint8_t),
        [MSGF_BOOL] = sizeof(bool),
        [MSGF_I32] = sizeof(int32_t),
        [MSGF_I64] = sizeof(int64_t),
        [MSGF_BYTES] = sizeof(struct proto_bytes),
        [MSGF_STRINGS] = sizeof(struct proto_string_array),
        [MSGF_INTS] = sizeof(struct proto_int_array),
        [MSGF_LONGS] = sizeof(struct proto_long_array),
        [MSGF_INT_MATRIX] = sizeof(struct proto_int_matrix),
        [MSGF_BITMAPS] = sizeof(struct proto_bytes *),
        [MSGF_VIEW] = sizeof(struct proto_view),
        [MSGF_LEGACY_LEN] = 0,
        [MSGF_BYTE_COUNT] = sizeof(int64_t),
        [MSGF_BODY] = sizeof(struct proto_view),
    };
    return f->kind == MSGF_NESTED ? f->nested->size : c_size[f->kind];
}

/* Fewest bytes f can take on the wire. */
static size_t min_wire_len(const struct msg_field *f)
{
    size_t n = 0;
    if (f->kind != MSGF_NESTED)
        return msgdesc_fixed_wire_len[f->kind];
    for (uint8_t i = 0; i < f->nested->nfields; i++)
        n += min_wire_len(&f->nested->fields[i]);
    return n;
}

/* ---- decode ---- */

OUT_OF_LINE void msgdesc_read_bitmaps(struct proto_reader *r, struct proto_bytes **out,
                                      uint32_t *count)
{
    int32_t n;
    *out = NULL;
    *count = 0;
    if (!proto_read_i32(r, &n))
        return;
    /* An empty bitmap is 8 bytes: bound the count by what is left. */
    if (n < 0 || (uint64_t)n * 8 > proto_reader_remaining(r)) {
        proto_reader_fail(r, "bitmap count negative or past end of message");
        return;
    }
    *out = calloc(n ? (size_t)n : 1, sizeof(**out));
    if (!*out) {
        proto_reader_fail(r, "out of memory");
        return;
    }
    for (int32_t i = 0; i < n && proto_read_bitmap(r, &(*out)[i]); i++)
        *count = (uint32_t)i + 1;
}

OUT_OF_LINE void msgdesc_read_view(struct proto_reader *r, struct proto_view *v)
{
    proto_read_bytes_borrowed(r, &v->data, &v->len);
}

OUT_OF_LINE void msgdesc_skip_legacy_len(struct proto_reader *r)
{
    int32_t ignored;
    proto_read_i32(r, &ignored);
}

OUT_OF_LINE void msgdesc_read_byte_count(struct proto_reader *r, int64_t *count)
{
    proto_read_i64(r, count);
    if (!proto_reader_error(r) && *count < 0)
        proto_reader_fail(r, "negative byte count");
}

OUT_OF_LINE void msgdesc_read_body(struct proto_reader *r, struct proto_view *v)
{
    size_t n = proto_reader_remaining(r);
    v->len = (uint32_t)n;
    proto_read_raw(r, n, &v->data);
}

OUT_OF_LINE void msgdesc_decode_nested(const struct msg_field *f, struct proto_reader *r, void *msg)
{
    msgdesc_decode(f->nested, r, MSG_FIELD_AT(msg, f, char));
}

static void decode_layout(const struct msgdesc *d, struct proto_reader *r, void *msg, int layout)
{
    msgdesc_set_layout(d, msg, layout);
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        if (msgdesc_field_present(f, layout))
            msgdesc_decode_field(f, r, msg);
}

/* MSG_LAYOUT_BY_REMAINING: the fields before the first extended-only one are in
 * both layouts; there the input left decides. */
static __attribute__((noinline)) void decode_by_remaining(const struct msgdesc *d,
                                                          struct proto_reader *r, void *msg)
{
    int layout = MSG_LAYOUT_BASE;
    bool picked = false;
    msgdesc_set_layout(d, msg, layout);
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        if (!picked && (f->flags & MSGF_EXTENDED_ONLY)) {
            size_t need = 0;
            for (uint8_t j = i; j < d->nfields; j++)
                need += min_wire_len(&d->fields[j]);
            layout = proto_reader_remaining(r) >= need ? MSG_LAYOUT_EXTENDED : MSG_LAYOUT_BASE;
            msgdesc_set_layout(d, msg, layout);
            picked = true;
        }
        if (msgdesc_field_present(f, layout))
            msgdesc_decode_field(f, r, msg);
    }
}

/* MSG_LAYOUT_BY_EXACT_FIT: the base layout when it consumes the input exactly. */
static __attribute__((noinline)) void decode_by_exact_fit(const struct msgdesc *d,
                                                          struct proto_reader *r, void *msg)
{
    struct proto_reader start = *r;
    decode_layout(d, r, msg, MSG_LAYOUT_BASE);
    if (!proto_reader_error(r) && proto_reader_remaining(r) == 0)
        return;
    msgdesc_free(d, msg);
    *r = start;
    decode_layout(d, r, msg, MSG_LAYOUT_EXTENDED);
}

void msgdesc_decode(const struct msgdesc *d, struct proto_reader *r, void *msg)
{
    if (d->layout_rule == MSG_LAYOUT_BY_REMAINING)
        decode_by_remaining(d, r, msg);
    else if (d->layout_rule == MSG_LAYOUT_BY_EXACT_FIT)
        decode_by_exact_fit(d, r, msg);
    else /* every field of a fixed layout is present */
        for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
            msgdesc_decode_field(f, r, msg);
}

/* ---- encode and size ---- */

OUT_OF_LINE void msgdesc_write_bitmaps(struct proto_writer *w, const struct proto_bytes *bitmaps,
                                       uint32_t n)
{
    proto_write_i32(w, (int32_t)n);
    for (uint32_t i = 0; i < n; i++) /* self-delimiting, no prefix */
        proto_write_raw(w, bitmaps[i].data, bitmaps[i].len);
}

OUT_OF_LINE void msgdesc_write_view(struct proto_writer *w, const struct proto_view *v)
{
    proto_write_bytes(w, v->data, v->len);
}

OUT_OF_LINE void msgdesc_encode_nested(const struct msg_field *f, struct proto_writer *w,
                                       const void *msg)
{
    msgdesc_encode(f->nested, w, MSG_FIELD_OF(msg, f, char), 0);
}

void msgdesc_encode(const struct msgdesc *d, struct proto_writer *w, const void *msg,
                    uint64_t body_len)
{
    int layout = msgdesc_layout(d, msg);
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        if (msgdesc_field_present(f, layout))
            msgdesc_encode_field(f, w, msg, body_len);
}

/* Bytes after the length or count prefix of a variable-size field. */
OUT_OF_LINE size_t msgdesc_variable_wire_len(const struct msg_field *f, const void *msg)
{
    size_t n = 0;
    switch (f->kind) {
    case MSGF_BYTES:
        return MSG_FIELD_OF(msg, f, struct proto_bytes)->len;
    case MSGF_VIEW:
        return MSG_FIELD_OF(msg, f, struct proto_view)->len;
    case MSGF_STRINGS: {
        const struct proto_string_array *a = MSG_FIELD_OF(msg, f, struct proto_string_array);
        for (uint32_t i = 0; i < a->count; i++)
            n += 4 + (size_t)a->items[i].len;
        return n;
    }
    case MSGF_INTS:
        return 4 * (size_t)MSG_FIELD_OF(msg, f, struct proto_int_array)->count;
    case MSGF_LONGS:
        return 8 * (size_t)MSG_FIELD_OF(msg, f, struct proto_long_array)->count;
    case MSGF_INT_MATRIX: {
        const struct proto_int_matrix *m = MSG_FIELD_OF(msg, f, struct proto_int_matrix);
        for (uint32_t i = 0; i < m->count; i++)
            n += 4 + 4 * (size_t)m->rows[i].count;
        return n;
    }
    case MSGF_BITMAPS: {
        const struct proto_bytes *bitmaps = *MSG_FIELD_OF(msg, f, struct proto_bytes *);
        for (uint32_t i = 0; i < MSG_COUNT_OF(msg, f); i++)
            n += bitmaps[i].len;
        return n;
    }
    case MSGF_NESTED:
        return msgdesc_wire_len(f->nested, MSG_FIELD_OF(msg, f, char));
    default: /* fixed size, or not on the wire (MSGF_BODY) */
        return 0;
    }
}

size_t msgdesc_field_wire_len(const struct msg_field *f, const void *msg)
{
    return msgdesc_field_wire_len_inline(f, msg);
}

size_t msgdesc_wire_len(const struct msgdesc *d, const void *msg)
{
    size_t n = 0;
    int layout = msgdesc_layout(d, msg);
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        if (msgdesc_field_present(f, layout))
            n += msgdesc_field_wire_len_inline(f, msg);
    return n;
}

/* ---- free ---- */

OUT_OF_LINE void msgdesc_free_bitmaps(struct proto_bytes **bitmaps, uint32_t *count)
{
    for (uint32_t i = 0; i < *count; i++)
        proto_bytes_free(&(*bitmaps)[i]);
    free(*bitmaps);
    *bitmaps = NULL;
    *count = 0;
}

OUT_OF_LINE void msgdesc_free_nested(const struct msg_field *f, void *msg)
{
    msgdesc_free(f->nested, MSG_FIELD_AT(msg, f, char));
}

void msgdesc_free(const struct msgdesc *d, void *msg)
{
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        msgdesc_free_field(f, msg);
}
