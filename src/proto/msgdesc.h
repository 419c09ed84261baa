/* SPDX-License-Identifier: Apache-2.0 */
/* Message descriptions: every wire message is described once, as its type code,
 * its name and its fields in wire order (a kind plus an offset into the C struct
 * that holds it). One engine decodes, encodes, frees, sizes and describes any
 * described message; the rows are in blockmsg.c (BlockTransferMessage) and
 * message.c (transport messages). A new message is a new row.
 *
 * Special cases are kept to two, both data: a row with two layouts (Spark 3.1
 * and 3.2 push messages) marks its 3.2-only fields and names the rule that tells
 * the layouts apart; a struct nested in a message (ExecutorShuffleInfo) is a
 * field whose kind points at its own description.
 *
 * This header holds the description types; msgdesc_codec.h decodes, encodes,
 * sizes and frees described messages, msgdesc_describe.h prints them. */
#ifndef SHUFFLED_PROTO_MSGDESC_H
#define SHUFFLED_PROTO_MSGDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/codec.h"

enum msg_field_kind {
    MSGF_U8,   /* byte: uint8_t */
    MSGF_BOOL, /* boolean: bool */
    MSGF_I32,  /* int: int32_t */
    MSGF_I64,  /* long: int64_t */
    /* from here to MSGF_VIEW: the variable-size kinds */
    MSGF_BYTES,      /* String/byte[], owned copy: struct proto_bytes */
    MSGF_STRINGS,    /* String[]: struct proto_string_array */
    MSGF_INTS,       /* int[]: struct proto_int_array */
    MSGF_LONGS,      /* long[]: struct proto_long_array */
    MSGF_INT_MATRIX, /* int[][]: struct proto_int_matrix */
    MSGF_BITMAPS,    /* RoaringBitmap[] (portable bytes kept opaque): struct proto_bytes *
                        at offset, its uint32_t count at count_offset */
    MSGF_NESTED,     /* an embedded struct, described by nested */
    MSGF_VIEW,       /* String/byte[] borrowed from the frame: struct proto_view */
    MSGF_LEGACY_LEN, /* int holding the body length: ignored on read (the frame length
                        decides), written from the body length, stored nowhere */
    MSGF_BYTE_COUNT, /* long >= 0: bytes that follow the frame: int64_t */
    MSGF_BODY,       /* the rest of the frame, no length prefix: struct proto_view */
    MSGF_KIND_COUNT
};

/* How a labelled field appears in a description (one without a label does not). */
enum msg_show {
    MSG_SHOW_VALUE, /* label=value */
    MSG_SHOW_SIZE,  /* label=length or count */
};

/* Field flags. */
#define MSGF_EXTENDED_ONLY 0x1 /* present only in the extended layout (Spark 3.2+) */
#define MSGF_CARRIES_RPC 0x2   /* holds an encoded BlockTransferMessage */

struct msgdesc;

/* The value of field f inside message struct msg. */
#define MSG_FIELD_AT(msg, f, type) ((type *)((char *)(msg) + (f)->offset))
#define MSG_FIELD_OF(msg, f, type) ((const type *)((const char *)(msg) + (f)->offset))
/* The uint32_t count of an MSGF_BITMAPS field. */
#define MSG_COUNT_AT(msg, f) ((uint32_t *)((char *)(msg) + (f)->count_offset))
#define MSG_COUNT_OF(msg, f) (*(const uint32_t *)((const char *)(msg) + (f)->count_offset))

struct msg_field {
    const char *label; /* the name printed; NULL: left out of descriptions */
    uint8_t kind;      /* enum msg_field_kind */
    uint8_t show;      /* enum msg_show */
    uint8_t flags;
    uint16_t offset;              /* of the value in the message struct */
    uint16_t count_offset;        /* MSGF_BITMAPS only */
    const struct msgdesc *nested; /* MSGF_NESTED only */
};

/* Messages that changed layout (Spark 3.1 vs 3.2 push messages) store which one
 * they hold, as an int-sized enum (0 = base, 1 = extended) at layout_offset.
 * Decoding picks it by one of these rules; encoding follows the stored value. */
enum msg_layout_rule {
    MSG_LAYOUT_FIXED,
    /* Extended when, at the first extended-only field, the input left holds the
     * extended layout's remaining fields (their minimum sizes). */
    MSG_LAYOUT_BY_REMAINING,
    /* Base when the base layout decodes and consumes the input exactly, else extended. */
    MSG_LAYOUT_BY_EXACT_FIT,
};
#define MSG_LAYOUT_BASE 0
#define MSG_LAYOUT_EXTENDED 1

struct msgdesc {
    int type;         /* the wire type code; -1 for a nested struct */
    const char *name; /* Spark's class name */
    const struct msg_field *fields;
    uint8_t nfields;
    uint8_t layout_rule; /* enum msg_layout_rule */
    uint16_t layout_offset;
    uint16_t size; /* of the C struct the offsets point into */
};

/* Expands to the fields / nfields initializers of a msgdesc from field rows. */
#define MSG_FIELDS(...)                                                                            \
    .fields = (const struct msg_field[]){__VA_ARGS__},                                             \
    .nfields = sizeof((const struct msg_field[]){__VA_ARGS__}) / sizeof(struct msg_field)

/* The MSGF_BODY field's view in msg, or NULL when d has none (a body, the rest
 * of the frame, is always the last field). */
static inline const struct proto_view *msgdesc_body(const struct msgdesc *d, const void *msg)
{
    const struct msg_field *last = d->nfields ? &d->fields[d->nfields - 1] : NULL;
    return last && last->kind == MSGF_BODY ? MSG_FIELD_OF(msg, last, struct proto_view) : NULL;
}
/* The layout msg holds (MSG_LAYOUT_BASE for fixed-layout messages): an
 * int-sized enum, copied so as not to alias it. */
static inline int msgdesc_layout(const struct msgdesc *d, const void *msg)
{
    int layout = MSG_LAYOUT_BASE;
    if (d->layout_rule != MSG_LAYOUT_FIXED)
        memcpy(&layout, (const char *)msg + d->layout_offset, sizeof(layout));
    return layout;
}
static inline void msgdesc_set_layout(const struct msgdesc *d, void *msg, int layout)
{
    if (d->layout_rule != MSG_LAYOUT_FIXED)
        memcpy((char *)msg + d->layout_offset, &layout, sizeof(layout));
}
/* Whether field f is on the wire in the given layout. */
static inline bool msgdesc_field_present(const struct msg_field *f, int layout)
{
    return !(f->flags & MSGF_EXTENDED_ONLY) || layout == MSG_LAYOUT_EXTENDED;
}

#endif
