/* The engine over message descriptions: one switch per operation on the field
 * kind, the same codec calls the hand-written decoders made. */
#include "proto/msgdesc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_AT(msg, f, type) ((type *)((char *)(msg) + (f)->offset))
#define FIELD_OF(msg, f, type) ((const type *)((const char *)(msg) + (f)->offset))

void msg_text_init(struct msg_text *t, char *buf, size_t cap)
{
    t->buf = buf;
    t->cap = cap;
    t->len = 0;
    if (cap)
        buf[0] = '\0';
}

void msg_text_add(struct msg_text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n < t->cap - t->len ? t->len + (size_t)n : t->cap - 1;
}

int msgdesc_layout(const struct msgdesc *d, const void *msg)
{
    int layout = MSG_LAYOUT_BASE;
    if (d->layout_rule != MSG_LAYOUT_FIXED) /* an int-sized enum: see msgdesc.h */
        memcpy(&layout, (const char *)msg + d->layout_offset, sizeof(layout));
    return layout;
}

void msgdesc_set_layout(const struct msgdesc *d, void *msg, int layout)
{
    if (d->layout_rule != MSG_LAYOUT_FIXED)
        memcpy((char *)msg + d->layout_offset, &layout, sizeof(layout));
}

bool msgdesc_field_present(const struct msg_field *f, int layout)
{
    return !(f->flags & MSGF_EXTENDED_ONLY) || layout == MSG_LAYOUT_EXTENDED;
}

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
    switch (f->kind) {
    case MSGF_U8:
    case MSGF_BOOL:
        return 1;
    case MSGF_I64:
    case MSGF_BYTE_COUNT:
        return 8;
    case MSGF_BODY:
        return 0;
    case MSGF_NESTED:
        for (uint8_t i = 0; i < f->nested->nfields; i++)
            n += min_wire_len(&f->nested->fields[i]);
        return n;
    default: /* an int, or the length or count prefix of the rest */
        return 4;
    }
}

static void read_bitmaps(struct proto_reader *r, struct proto_bytes **out, uint32_t *count)
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

static void decode_fields(const struct msgdesc *d, struct proto_reader *r, void *msg, int layout,
                          bool pick_by_remaining);

static void decode_field(const struct msg_field *f, struct proto_reader *r, void *msg)
{
    switch (f->kind) {
    case MSGF_U8:
        proto_read_u8(r, FIELD_AT(msg, f, uint8_t));
        break;
    case MSGF_BOOL:
        proto_read_bool(r, FIELD_AT(msg, f, bool));
        break;
    case MSGF_I32:
        proto_read_i32(r, FIELD_AT(msg, f, int32_t));
        break;
    case MSGF_I64:
        proto_read_i64(r, FIELD_AT(msg, f, int64_t));
        break;
    case MSGF_BYTES:
        proto_read_bytes(r, FIELD_AT(msg, f, struct proto_bytes));
        break;
    case MSGF_STRINGS:
        proto_read_string_array(r, FIELD_AT(msg, f, struct proto_string_array));
        break;
    case MSGF_INTS:
        proto_read_int_array(r, FIELD_AT(msg, f, struct proto_int_array));
        break;
    case MSGF_LONGS:
        proto_read_long_array(r, FIELD_AT(msg, f, struct proto_long_array));
        break;
    case MSGF_INT_MATRIX:
        proto_read_int_matrix(r, FIELD_AT(msg, f, struct proto_int_matrix));
        break;
    case MSGF_BITMAPS:
        read_bitmaps(r, FIELD_AT(msg, f, struct proto_bytes *),
                     (uint32_t *)((char *)msg + f->count_offset));
        break;
    case MSGF_NESTED:
        decode_fields(f->nested, r, FIELD_AT(msg, f, char), MSG_LAYOUT_BASE, false);
        break;
    case MSGF_VIEW: {
        struct proto_view *v = FIELD_AT(msg, f, struct proto_view);
        proto_read_bytes_borrowed(r, &v->data, &v->len);
        break;
    }
    case MSGF_LEGACY_LEN: {
        int32_t ignored;
        proto_read_i32(r, &ignored);
        break;
    }
    case MSGF_BYTE_COUNT: {
        int64_t *count = FIELD_AT(msg, f, int64_t);
        proto_read_i64(r, count);
        if (!proto_reader_error(r) && *count < 0)
            proto_reader_fail(r, "negative byte count");
        break;
    }
    case MSGF_BODY: {
        struct proto_view *v = FIELD_AT(msg, f, struct proto_view);
        size_t n = proto_reader_remaining(r);
        v->len = (uint32_t)n;
        proto_read_raw(r, n, &v->data);
        break;
    }
    }
}

static void decode_fields(const struct msgdesc *d, struct proto_reader *r, void *msg, int layout,
                          bool pick_by_remaining)
{
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        if (pick_by_remaining && (f->flags & MSGF_EXTENDED_ONLY)) {
            size_t need = 0;
            for (uint8_t j = i; j < d->nfields; j++)
                need += min_wire_len(&d->fields[j]);
            layout = proto_reader_remaining(r) >= need ? MSG_LAYOUT_EXTENDED : MSG_LAYOUT_BASE;
            msgdesc_set_layout(d, msg, layout);
            pick_by_remaining = false;
        }
        if (msgdesc_field_present(f, layout))
            decode_field(f, r, msg);
    }
}

void msgdesc_decode(const struct msgdesc *d, struct proto_reader *r, void *msg)
{
    struct proto_reader start = *r;
    msgdesc_set_layout(d, msg, MSG_LAYOUT_BASE);
    switch (d->layout_rule) {
    case MSG_LAYOUT_FIXED:
        decode_fields(d, r, msg, MSG_LAYOUT_BASE, false);
        break;
    case MSG_LAYOUT_BY_REMAINING:
        decode_fields(d, r, msg, MSG_LAYOUT_BASE, true);
        break;
    case MSG_LAYOUT_BY_EXACT_FIT:
        decode_fields(d, r, msg, MSG_LAYOUT_BASE, false);
        if (!proto_reader_error(r) && proto_reader_remaining(r) == 0)
            break;
        msgdesc_free(d, msg);
        *r = start;
        msgdesc_set_layout(d, msg, MSG_LAYOUT_EXTENDED);
        decode_fields(d, r, msg, MSG_LAYOUT_EXTENDED, false);
        break;
    }
}

static void encode_field(const struct msg_field *f, struct proto_writer *w, const void *msg,
                         uint64_t body_len)
{
    switch (f->kind) {
    case MSGF_U8:
        proto_write_u8(w, *FIELD_OF(msg, f, uint8_t));
        break;
    case MSGF_BOOL:
        proto_write_bool(w, *FIELD_OF(msg, f, bool));
        break;
    case MSGF_I32:
        proto_write_i32(w, *FIELD_OF(msg, f, int32_t));
        break;
    case MSGF_I64:
    case MSGF_BYTE_COUNT:
        proto_write_i64(w, *FIELD_OF(msg, f, int64_t));
        break;
    case MSGF_BYTES:
        proto_write_proto_bytes(w, FIELD_OF(msg, f, struct proto_bytes));
        break;
    case MSGF_STRINGS:
        proto_write_string_array(w, FIELD_OF(msg, f, struct proto_string_array));
        break;
    case MSGF_INTS:
        proto_write_int_array(w, FIELD_OF(msg, f, struct proto_int_array));
        break;
    case MSGF_LONGS:
        proto_write_long_array(w, FIELD_OF(msg, f, struct proto_long_array));
        break;
    case MSGF_INT_MATRIX:
        proto_write_int_matrix(w, FIELD_OF(msg, f, struct proto_int_matrix));
        break;
    case MSGF_BITMAPS: {
        const struct proto_bytes *bitmaps = *FIELD_OF(msg, f, struct proto_bytes *);
        uint32_t n = *(const uint32_t *)((const char *)msg + f->count_offset);
        proto_write_i32(w, (int32_t)n);
        for (uint32_t i = 0; i < n; i++) /* self-delimiting, no prefix */
            proto_write_raw(w, bitmaps[i].data, bitmaps[i].len);
        break;
    }
    case MSGF_NESTED:
        msgdesc_encode(f->nested, w, FIELD_OF(msg, f, char), body_len);
        break;
    case MSGF_VIEW: {
        const struct proto_view *v = FIELD_OF(msg, f, struct proto_view);
        proto_write_bytes(w, v->data, v->len);
        break;
    }
    case MSGF_LEGACY_LEN:
        proto_write_i32(w, (int32_t)body_len);
        break;
    case MSGF_BODY:
        break;
    }
}

void msgdesc_encode(const struct msgdesc *d, struct proto_writer *w, const void *msg,
                    uint64_t body_len)
{
    int layout = msgdesc_layout(d, msg);
    for (uint8_t i = 0; i < d->nfields; i++)
        if (msgdesc_field_present(&d->fields[i], layout))
            encode_field(&d->fields[i], w, msg, body_len);
}

static size_t field_wire_len(const struct msg_field *f, const void *msg)
{
    size_t n = 4;
    switch (f->kind) {
    case MSGF_BYTES:
        return 4 + (size_t)FIELD_OF(msg, f, struct proto_bytes)->len;
    case MSGF_VIEW:
        return 4 + (size_t)FIELD_OF(msg, f, struct proto_view)->len;
    case MSGF_STRINGS: {
        const struct proto_string_array *a = FIELD_OF(msg, f, struct proto_string_array);
        for (uint32_t i = 0; i < a->count; i++)
            n += 4 + (size_t)a->items[i].len;
        return n;
    }
    case MSGF_INTS:
        return 4 + 4 * (size_t)FIELD_OF(msg, f, struct proto_int_array)->count;
    case MSGF_LONGS:
        return 4 + 8 * (size_t)FIELD_OF(msg, f, struct proto_long_array)->count;
    case MSGF_INT_MATRIX: {
        const struct proto_int_matrix *m = FIELD_OF(msg, f, struct proto_int_matrix);
        for (uint32_t i = 0; i < m->count; i++)
            n += 4 + 4 * (size_t)m->rows[i].count;
        return n;
    }
    case MSGF_BITMAPS: {
        const struct proto_bytes *bitmaps = *FIELD_OF(msg, f, struct proto_bytes *);
        uint32_t count = *(const uint32_t *)((const char *)msg + f->count_offset);
        for (uint32_t i = 0; i < count; i++)
            n += bitmaps[i].len;
        return n;
    }
    case MSGF_NESTED:
        return msgdesc_wire_len(f->nested, FIELD_OF(msg, f, char));
    default: /* fixed size */
        return min_wire_len(f);
    }
}

size_t msgdesc_wire_len(const struct msgdesc *d, const void *msg)
{
    size_t n = 0;
    int layout = msgdesc_layout(d, msg);
    for (uint8_t i = 0; i < d->nfields; i++)
        if (msgdesc_field_present(&d->fields[i], layout))
            n += field_wire_len(&d->fields[i], msg);
    return n;
}

void msgdesc_free(const struct msgdesc *d, void *msg)
{
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        switch (f->kind) {
        case MSGF_BYTES:
            proto_bytes_free(FIELD_AT(msg, f, struct proto_bytes));
            break;
        case MSGF_STRINGS:
            proto_string_array_free(FIELD_AT(msg, f, struct proto_string_array));
            break;
        case MSGF_INTS:
            proto_int_array_free(FIELD_AT(msg, f, struct proto_int_array));
            break;
        case MSGF_LONGS:
            proto_long_array_free(FIELD_AT(msg, f, struct proto_long_array));
            break;
        case MSGF_INT_MATRIX:
            proto_int_matrix_free(FIELD_AT(msg, f, struct proto_int_matrix));
            break;
        case MSGF_BITMAPS: {
            struct proto_bytes **bitmaps = FIELD_AT(msg, f, struct proto_bytes *);
            uint32_t *count = (uint32_t *)((char *)msg + f->count_offset);
            for (uint32_t j = 0; j < *count; j++)
                proto_bytes_free(&(*bitmaps)[j]);
            free(*bitmaps);
            *bitmaps = NULL;
            *count = 0;
            break;
        }
        case MSGF_NESTED:
            msgdesc_free(f->nested, FIELD_AT(msg, f, char));
            break;
        default: /* nothing owned */
            memset(FIELD_AT(msg, f, char), 0, msgdesc_field_c_size(f));
        }
    }
}

const struct proto_view *msgdesc_body(const struct msgdesc *d, const void *msg)
{
    for (uint8_t i = 0; i < d->nfields; i++)
        if (d->fields[i].kind == MSGF_BODY)
            return FIELD_OF(msg, &d->fields[i], struct proto_view);
    return NULL;
}

/* Length or count of f's value, for MSG_SHOW_SIZE. */
static uint32_t field_size(const struct msg_field *f, const void *msg)
{
    switch (f->kind) {
    case MSGF_BYTES:
        return FIELD_OF(msg, f, struct proto_bytes)->len;
    case MSGF_VIEW:
    case MSGF_BODY:
        return FIELD_OF(msg, f, struct proto_view)->len;
    case MSGF_BITMAPS:
        return *(const uint32_t *)((const char *)msg + f->count_offset);
    case MSGF_STRINGS:
        return FIELD_OF(msg, f, struct proto_string_array)->count;
    case MSGF_INTS:
        return FIELD_OF(msg, f, struct proto_int_array)->count;
    case MSGF_LONGS:
        return FIELD_OF(msg, f, struct proto_long_array)->count;
    case MSGF_INT_MATRIX:
        return FIELD_OF(msg, f, struct proto_int_matrix)->count;
    default:
        return 0;
    }
}

/* Copies bytes into buf as printable text, eliding long strings. */
static const char *printable(const uint8_t *data, uint32_t len, char *buf, size_t buflen)
{
    size_t n = 0;
    for (uint32_t i = 0; i < len && n + 4 < buflen; i++) {
        uint8_t c = data[i];
        buf[n++] = (c >= 32 && c < 127) ? (char)c : '?';
    }
    if (n < len && n >= 3)
        memcpy(buf + n - 3, "...", 3);
    buf[n] = '\0';
    return buf;
}

/* Owned text (NUL-terminated) prints as is unless the style quotes text. */
static void add_text(struct msg_text *t, const struct msg_style *s, const void *data, uint32_t len,
                     bool nul_terminated)
{
    char shown[96];
    if (s->quote_text)
        msg_text_add(t, "'%s'", printable(data, len, shown, sizeof(shown)));
    else if (nul_terminated)
        msg_text_add(t, "%s", (const char *)data);
    else
        msg_text_add(t, "%.*s", (int)len, (const char *)data);
}

static void add_ints(struct msg_text *t, const struct proto_int_array *a)
{
    msg_text_add(t, "[");
    for (uint32_t i = 0; i < a->count; i++)
        msg_text_add(t, "%s%d", i ? ", " : "", a->items[i]);
    msg_text_add(t, "]");
}

static void add_value(struct msg_text *t, const struct msg_style *s, const struct msg_field *f,
                      const void *msg)
{
    switch (f->kind) {
    case MSGF_U8:
        msg_text_add(t, "%u", *FIELD_OF(msg, f, uint8_t));
        break;
    case MSGF_BOOL:
        msg_text_add(t, "%s", *FIELD_OF(msg, f, bool) ? "true" : "false");
        break;
    case MSGF_I32:
        msg_text_add(t, "%d", *FIELD_OF(msg, f, int32_t));
        break;
    case MSGF_I64:
    case MSGF_BYTE_COUNT:
        msg_text_add(t, "%" PRId64, *FIELD_OF(msg, f, int64_t));
        break;
    case MSGF_BYTES: {
        const struct proto_bytes *b = FIELD_OF(msg, f, struct proto_bytes);
        add_text(t, s, b->data, b->len, true);
        break;
    }
    case MSGF_VIEW:
    case MSGF_BODY: {
        const struct proto_view *v = FIELD_OF(msg, f, struct proto_view);
        add_text(t, s, v->data, v->len, false);
        break;
    }
    case MSGF_STRINGS: {
        const struct proto_string_array *a = FIELD_OF(msg, f, struct proto_string_array);
        msg_text_add(t, "[");
        for (uint32_t i = 0; i < a->count; i++) {
            msg_text_add(t, "%s", i ? ", " : "");
            add_text(t, s, a->items[i].data, a->items[i].len, true);
        }
        msg_text_add(t, "]");
        break;
    }
    case MSGF_INTS:
        add_ints(t, FIELD_OF(msg, f, struct proto_int_array));
        break;
    case MSGF_LONGS: {
        const struct proto_long_array *a = FIELD_OF(msg, f, struct proto_long_array);
        msg_text_add(t, "[");
        for (uint32_t i = 0; i < a->count; i++)
            msg_text_add(t, "%s%" PRId64, i ? ", " : "", a->items[i]);
        msg_text_add(t, "]");
        break;
    }
    case MSGF_INT_MATRIX: {
        const struct proto_int_matrix *m = FIELD_OF(msg, f, struct proto_int_matrix);
        msg_text_add(t, "[");
        for (uint32_t i = 0; i < m->count; i++) {
            msg_text_add(t, "%s", i ? ", " : "");
            add_ints(t, &m->rows[i]);
        }
        msg_text_add(t, "]");
        break;
    }
    case MSGF_NESTED:
        msgdesc_describe(f->nested, s, FIELD_OF(msg, f, char), t);
        break;
    default: /* opaque (bitmaps) or not stored: the count or length */
        msg_text_add(t, "%u%s", field_size(f, msg), s->size_unit);
    }
}

void msgdesc_describe(const struct msgdesc *d, const struct msg_style *s, const void *msg,
                      struct msg_text *t)
{
    const char *sep = s->first_sep;
    int layout = msgdesc_layout(d, msg);
    msg_text_add(t, "%s%s", d->name, s->open);
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        if (!f->label || !msgdesc_field_present(f, layout))
            continue;
        msg_text_add(t, "%s%s=", sep, f->label);
        sep = s->sep;
        if (f->show == MSG_SHOW_SIZE)
            msg_text_add(t, "%u%s", field_size(f, msg), s->size_unit);
        else
            add_value(t, s, f, msg);
    }
    msg_text_add(t, "%s", s->close);
}
