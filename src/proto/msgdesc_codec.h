/* SPDX-License-Identifier: Apache-2.0 */
/* The engine that decodes, encodes, sizes and frees described messages.
 *
 * The msgdesc_* functions work on any row. The per-field steps below are a
 * switch on the field kind around one codec call (kinds that need more are out
 * of line: msgdesc_read_view, ...); the *_row functions run a step over a row's
 * fields with the loop unrolled, so a file that calls them with a constant row
 * of its own table lets the compiler resolve every kind and offset: the hot
 * paths (decode, encode, free) compile to the same straight codec calls a
 * hand-written decoder makes. See blockmsg.c and message.c. */
#ifndef SHUFFLED_PROTO_MSGDESC_CODEC_H
#define SHUFFLED_PROTO_MSGDESC_CODEC_H

#include "proto/msgdesc.h"

/* Reads d's fields from r into msg (after the type byte). Errors poison r; the
 * caller frees on error. Allocates exactly what the proto_read_* calls do. */
void msgdesc_decode(const struct msgdesc *d, struct proto_reader *r, void *msg);
/* Writes d's fields (not the type byte); MSGF_BODY is not written, and
 * MSGF_LEGACY_LEN gets body_len. */
void msgdesc_encode(const struct msgdesc *d, struct proto_writer *w, const void *msg,
                    uint64_t body_len);
/* Encoded size of the fields msgdesc_encode writes, and of one of them. */
size_t msgdesc_wire_len(const struct msgdesc *d, const void *msg);
size_t msgdesc_field_wire_len(const struct msg_field *f, const void *msg);
/* Frees what decode allocated (or the proto_bytes helpers), leaving those fields zeroed. */
void msgdesc_free(const struct msgdesc *d, void *msg);
/* Bytes f's value takes in the C struct (0 for MSGF_LEGACY_LEN). */
size_t msgdesc_field_c_size(const struct msg_field *f);

#define MSG_INLINE static inline __attribute__((always_inline))

/* Wire size of the fixed-size kinds; for the others, of their length or count prefix. */
static const uint8_t msgdesc_fixed_wire_len[MSGF_KIND_COUNT] = {
    [MSGF_U8] = 1,         [MSGF_BOOL] = 1,    [MSGF_I32] = 4,  [MSGF_I64] = 8,
    [MSGF_BYTES] = 4,      [MSGF_STRINGS] = 4, [MSGF_INTS] = 4, [MSGF_LONGS] = 4,
    [MSGF_INT_MATRIX] = 4, [MSGF_BITMAPS] = 4, [MSGF_VIEW] = 4, [MSGF_LEGACY_LEN] = 4,
    [MSGF_BYTE_COUNT] = 8, [MSGF_BODY] = 0,
};

/* Out of line: the kinds that take more than one codec call. */
void msgdesc_read_bitmaps(struct proto_reader *r, struct proto_bytes **out, uint32_t *count);
void msgdesc_read_view(struct proto_reader *r, struct proto_view *v);
void msgdesc_skip_legacy_len(struct proto_reader *r);
void msgdesc_read_byte_count(struct proto_reader *r, int64_t *count);
void msgdesc_read_body(struct proto_reader *r, struct proto_view *v);
void msgdesc_decode_nested(const struct msg_field *f, struct proto_reader *r, void *msg);
void msgdesc_write_bitmaps(struct proto_writer *w, const struct proto_bytes *bitmaps, uint32_t n);
void msgdesc_write_view(struct proto_writer *w, const struct proto_view *v);
void msgdesc_encode_nested(const struct msg_field *f, struct proto_writer *w, const void *msg);
size_t msgdesc_variable_wire_len(const struct msg_field *f, const void *msg);
void msgdesc_free_bitmaps(struct proto_bytes **bitmaps, uint32_t *count);
void msgdesc_free_nested(const struct msg_field *f, void *msg);

MSG_INLINE void msgdesc_decode_field(const struct msg_field *f, struct proto_reader *r, void *msg)
{
    switch (f->kind) {
    case MSGF_U8:
        proto_read_u8(r, MSG_FIELD_AT(msg, f, uint8_t));
        return;
    case MSGF_BOOL:
        proto_read_bool(r, MSG_FIELD_AT(msg, f, bool));
        return;
    case MSGF_I32:
        proto_read_i32(r, MSG_FIELD_AT(msg, f, int32_t));
        return;
    case MSGF_I64:
        proto_read_i64(r, MSG_FIELD_AT(msg, f, int64_t));
        return;
    case MSGF_BYTES:
        proto_read_bytes(r, MSG_FIELD_AT(msg, f, struct proto_bytes));
        return;
    case MSGF_STRINGS:
        proto_read_string_array(r, MSG_FIELD_AT(msg, f, struct proto_string_array));
        return;
    case MSGF_INTS:
        proto_read_int_array(r, MSG_FIELD_AT(msg, f, struct proto_int_array));
        return;
    case MSGF_LONGS:
        proto_read_long_array(r, MSG_FIELD_AT(msg, f, struct proto_long_array));
        return;
    case MSGF_INT_MATRIX:
        proto_read_int_matrix(r, MSG_FIELD_AT(msg, f, struct proto_int_matrix));
        return;
    case MSGF_BITMAPS:
        msgdesc_read_bitmaps(r, MSG_FIELD_AT(msg, f, struct proto_bytes *), MSG_COUNT_AT(msg, f));
        return;
    case MSGF_NESTED:
        msgdesc_decode_nested(f, r, msg);
        return;
    case MSGF_VIEW:
        msgdesc_read_view(r, MSG_FIELD_AT(msg, f, struct proto_view));
        return;
    case MSGF_LEGACY_LEN:
        msgdesc_skip_legacy_len(r);
        return;
    case MSGF_BYTE_COUNT:
        msgdesc_read_byte_count(r, MSG_FIELD_AT(msg, f, int64_t));
        return;
    case MSGF_BODY:
        msgdesc_read_body(r, MSG_FIELD_AT(msg, f, struct proto_view));
        return;
    }
}

MSG_INLINE void msgdesc_encode_field(const struct msg_field *f, struct proto_writer *w,
                                     const void *msg, uint64_t body_len)
{
    switch (f->kind) {
    case MSGF_U8:
        proto_write_u8(w, *MSG_FIELD_OF(msg, f, uint8_t));
        return;
    case MSGF_BOOL:
        proto_write_bool(w, *MSG_FIELD_OF(msg, f, bool));
        return;
    case MSGF_I32:
        proto_write_i32(w, *MSG_FIELD_OF(msg, f, int32_t));
        return;
    case MSGF_I64:
    case MSGF_BYTE_COUNT:
        proto_write_i64(w, *MSG_FIELD_OF(msg, f, int64_t));
        return;
    case MSGF_BYTES:
        proto_write_proto_bytes(w, MSG_FIELD_OF(msg, f, struct proto_bytes));
        return;
    case MSGF_STRINGS:
        proto_write_string_array(w, MSG_FIELD_OF(msg, f, struct proto_string_array));
        return;
    case MSGF_INTS:
        proto_write_int_array(w, MSG_FIELD_OF(msg, f, struct proto_int_array));
        return;
    case MSGF_LONGS:
        proto_write_long_array(w, MSG_FIELD_OF(msg, f, struct proto_long_array));
        return;
    case MSGF_INT_MATRIX:
        proto_write_int_matrix(w, MSG_FIELD_OF(msg, f, struct proto_int_matrix));
        return;
    case MSGF_BITMAPS:
        msgdesc_write_bitmaps(w, *MSG_FIELD_OF(msg, f, struct proto_bytes *), MSG_COUNT_OF(msg, f));
        return;
    case MSGF_NESTED:
        msgdesc_encode_nested(f, w, msg);
        return;
    case MSGF_VIEW:
        msgdesc_write_view(w, MSG_FIELD_OF(msg, f, struct proto_view));
        return;
    case MSGF_LEGACY_LEN:
        proto_write_i32(w, (int32_t)body_len);
        return;
    case MSGF_BODY: /* the caller sends it */
        return;
    }
}

MSG_INLINE size_t msgdesc_field_wire_len_inline(const struct msg_field *f, const void *msg)
{
    size_t n = msgdesc_fixed_wire_len[f->kind];
    if (f->kind >= MSGF_BYTES && f->kind <= MSGF_VIEW) /* the variable-size kinds */
        n += msgdesc_variable_wire_len(f, msg);
    return n;
}

MSG_INLINE void msgdesc_free_field(const struct msg_field *f, void *msg)
{
    switch (f->kind) {
    case MSGF_BYTES:
        proto_bytes_free(MSG_FIELD_AT(msg, f, struct proto_bytes));
        return;
    case MSGF_STRINGS:
        proto_string_array_free(MSG_FIELD_AT(msg, f, struct proto_string_array));
        return;
    case MSGF_INTS:
        proto_int_array_free(MSG_FIELD_AT(msg, f, struct proto_int_array));
        return;
    case MSGF_LONGS:
        proto_long_array_free(MSG_FIELD_AT(msg, f, struct proto_long_array));
        return;
    case MSGF_INT_MATRIX:
        proto_int_matrix_free(MSG_FIELD_AT(msg, f, struct proto_int_matrix));
        return;
    case MSGF_BITMAPS:
        msgdesc_free_bitmaps(MSG_FIELD_AT(msg, f, struct proto_bytes *), MSG_COUNT_AT(msg, f));
        return;
    case MSGF_NESTED:
        msgdesc_free_nested(f, msg);
        return;
    default: /* nothing owned */
        return;
    }
}

/* A row's fields, unrolled, and those of a struct nested in it; a row with two
 * layouts takes the generic path. */
MSG_INLINE void msgdesc_decode_fields(const struct msgdesc *d, struct proto_reader *r, void *msg)
{
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        msgdesc_decode_field(f, r, msg);
}

MSG_INLINE void msgdesc_decode_row(const struct msgdesc *d, struct proto_reader *r, void *msg)
{
    if (d->layout_rule != MSG_LAYOUT_FIXED) {
        msgdesc_decode(d, r, msg);
        return;
    }
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++) {
        if (f->kind == MSGF_NESTED)
            msgdesc_decode_fields(f->nested, r, MSG_FIELD_AT(msg, f, char));
        else
            msgdesc_decode_field(f, r, msg);
    }
}

MSG_INLINE void msgdesc_encode_row(const struct msgdesc *d, struct proto_writer *w, const void *msg,
                                   uint64_t body_len)
{
    int layout = msgdesc_layout(d, msg);
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        if (msgdesc_field_present(f, layout))
            msgdesc_encode_field(f, w, msg, body_len);
}

MSG_INLINE size_t msgdesc_wire_len_row(const struct msgdesc *d, const void *msg)
{
    size_t n = 0;
    int layout = msgdesc_layout(d, msg);
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        if (msgdesc_field_present(f, layout))
            n += msgdesc_field_wire_len_inline(f, msg);
    return n;
}

MSG_INLINE void msgdesc_free_fields(const struct msgdesc *d, void *msg)
{
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++)
        msgdesc_free_field(f, msg);
}

MSG_INLINE void msgdesc_free_row(const struct msgdesc *d, void *msg)
{
#pragma GCC unroll 16
    for (const struct msg_field *f = d->fields, *end = f + d->nfields; f < end; f++) {
        if (f->kind == MSGF_NESTED)
            msgdesc_free_fields(f->nested, MSG_FIELD_AT(msg, f, char));
        else
            msgdesc_free_field(f, msg);
    }
}

/* Case labels for type codes 0-31, each running STEP(code) then break: a
 * file's switch over them instantiates the *_row steps for every row of its table.
 * Codes at or past the table's count do nothing (MSG_ROW clamps the index so
 * that it stays in bounds even where it is never used). */
#define MSG_ROW(table, count, code) (&(table)[(code) < (count) ? (code) : 0])
#define MSG_CASE(code, count, step)                                                                \
    case code:                                                                                     \
        if ((code) < (count)) {                                                                    \
            step(code);                                                                            \
        }                                                                                          \
        break;
#define MSG_CASES_0_TO_31(count, step)                                                             \
    MSG_CASE(0, count, step)                                                                       \
    MSG_CASE(1, count, step)                                                                       \
    MSG_CASE(2, count, step)                                                                       \
    MSG_CASE(3, count, step)                                                                       \
    MSG_CASE(4, count, step)                                                                       \
    MSG_CASE(5, count, step)                                                                       \
    MSG_CASE(6, count, step)                                                                       \
    MSG_CASE(7, count, step) MSG_CASE(8, count, step) MSG_CASE(9, count, step)                     \
        MSG_CASE(10, count, step) MSG_CASE(11, count, step) MSG_CASE(12, count, step)              \
            MSG_CASE(13, count, step) MSG_CASE(14, count, step) MSG_CASE(15, count, step)          \
                MSG_CASE(16, count, step) MSG_CASE(17, count, step) MSG_CASE(18, count, step)      \
                    MSG_CASE(19, count, step) MSG_CASE(20, count, step) MSG_CASE(21, count, step)  \
                        MSG_CASE(22, count, step) MSG_CASE(23, count, step)                        \
                            MSG_CASE(24, count, step) MSG_CASE(25, count, step)                    \
                                MSG_CASE(26, count, step) MSG_CASE(27, count, step)                \
                                    MSG_CASE(28, count, step) MSG_CASE(29, count, step)            \
                                        MSG_CASE(30, count, step) MSG_CASE(31, count, step)
#define MSG_MAX_TYPES 32

#endif
