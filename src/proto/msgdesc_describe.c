/* SPDX-License-Identifier: Apache-2.0 */
/* Descriptions of described messages: Name[a=1,b=2] (Spark's toString) or
 * "Name a=1 b='text'" (logs), by the message family's msg_style. */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/msgdesc_describe.h"

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

/* Length or count of f's value, for MSG_SHOW_SIZE. */
static uint32_t field_size(const struct msg_field *f, const void *msg)
{
    switch (f->kind) {
    case MSGF_BYTES:
        return MSG_FIELD_OF(msg, f, struct proto_bytes)->len;
    case MSGF_VIEW:
    case MSGF_BODY:
        return MSG_FIELD_OF(msg, f, struct proto_view)->len;
    case MSGF_BITMAPS:
        return MSG_COUNT_OF(msg, f);
    case MSGF_STRINGS:
        return MSG_FIELD_OF(msg, f, struct proto_string_array)->count;
    case MSGF_INTS:
        return MSG_FIELD_OF(msg, f, struct proto_int_array)->count;
    case MSGF_LONGS:
        return MSG_FIELD_OF(msg, f, struct proto_long_array)->count;
    case MSGF_INT_MATRIX:
        return MSG_FIELD_OF(msg, f, struct proto_int_matrix)->count;
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

/* [a, b, c]: each item printed by add_item. */
typedef void add_item_fn(struct msg_text *t, const struct msg_style *s, const void *items,
                         uint32_t i);

static void add_list(struct msg_text *t, const struct msg_style *s, const void *items,
                     uint32_t count, add_item_fn *add_item)
{
    msg_text_add(t, "[");
    for (uint32_t i = 0; i < count; i++) {
        msg_text_add(t, "%s", i ? ", " : "");
        add_item(t, s, items, i);
    }
    msg_text_add(t, "]");
}

static void add_string_item(struct msg_text *t, const struct msg_style *s, const void *items,
                            uint32_t i)
{
    const struct proto_bytes *b = (const struct proto_bytes *)items + i;
    add_text(t, s, b->data, b->len, true);
}

static void add_int_item(struct msg_text *t, const struct msg_style *s, const void *items,
                         uint32_t i)
{
    msg_text_add(t, "%d", ((const int32_t *)items)[i]);
}

static void add_long_item(struct msg_text *t, const struct msg_style *s, const void *items,
                          uint32_t i)
{
    msg_text_add(t, "%" PRId64, ((const int64_t *)items)[i]);
}

static void add_row_item(struct msg_text *t, const struct msg_style *s, const void *items,
                         uint32_t i)
{
    const struct proto_int_array *row = (const struct proto_int_array *)items + i;
    add_list(t, s, row->items, row->count, add_int_item);
}

static void add_value(struct msg_text *t, const struct msg_style *s, const struct msg_field *f,
                      const void *msg)
{
    switch (f->kind) {
    case MSGF_U8:
        msg_text_add(t, "%u", *MSG_FIELD_OF(msg, f, uint8_t));
        break;
    case MSGF_BOOL:
        msg_text_add(t, "%s", *MSG_FIELD_OF(msg, f, bool) ? "true" : "false");
        break;
    case MSGF_I32:
        msg_text_add(t, "%d", *MSG_FIELD_OF(msg, f, int32_t));
        break;
    case MSGF_I64:
    case MSGF_BYTE_COUNT:
        msg_text_add(t, "%" PRId64, *MSG_FIELD_OF(msg, f, int64_t));
        break;
    case MSGF_BYTES: {
        const struct proto_bytes *b = MSG_FIELD_OF(msg, f, struct proto_bytes);
        add_text(t, s, b->data, b->len, true);
        break;
    }
    case MSGF_VIEW:
    case MSGF_BODY: {
        const struct proto_view *v = MSG_FIELD_OF(msg, f, struct proto_view);
        add_text(t, s, v->data, v->len, false);
        break;
    }
    case MSGF_STRINGS: {
        const struct proto_string_array *a = MSG_FIELD_OF(msg, f, struct proto_string_array);
        add_list(t, s, a->items, a->count, add_string_item);
        break;
    }
    case MSGF_INTS: {
        const struct proto_int_array *a = MSG_FIELD_OF(msg, f, struct proto_int_array);
        add_list(t, s, a->items, a->count, add_int_item);
        break;
    }
    case MSGF_LONGS: {
        const struct proto_long_array *a = MSG_FIELD_OF(msg, f, struct proto_long_array);
        add_list(t, s, a->items, a->count, add_long_item);
        break;
    }
    case MSGF_INT_MATRIX: {
        const struct proto_int_matrix *m = MSG_FIELD_OF(msg, f, struct proto_int_matrix);
        add_list(t, s, m->rows, m->count, add_row_item);
        break;
    }
    case MSGF_NESTED:
        msgdesc_describe(f->nested, s, MSG_FIELD_OF(msg, f, char), t);
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
