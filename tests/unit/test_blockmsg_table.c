/* SPDX-License-Identifier: Apache-2.0 */
/* The message tables walked row by row, BlockTransferMessages
 * (src/proto/blockmsg.c) and transport messages (message.c): codes
 * and names match the enum, fields fit their struct without overlapping, and
 * every row's sample messages (edge values from the field kinds, in each
 * layout) round-trip, describe themselves and reject truncation. A new row is
 * covered here without new test code. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blockmsg.h"
#include "proto/message.h"
#include "proto/msgdesc_codec.h"
#include "../check_main.h"
#include "test_blockmsg_sample.h"
#include "test_util.h"

START_TEST(transport_rows_match_the_enum)
{
    for (int t = 0; t < PROTO_MSG_TYPE_COUNT; t++) {
        const struct msgdesc *d = proto_msg_desc(t);
        ck_assert_int_eq(d->type, t);
        ck_assert_str_eq(proto_msg_type_name(t), d->name);
        ck_assert(proto_msg_type_is_known(t));
        ck_assert_uint_eq(d->size, sizeof(struct proto_msg));
        ck_assert_int_eq(d->layout_rule, MSG_LAYOUT_FIXED);
        for (int u = 0; u < t; u++)
            ck_assert_msg(strcmp(proto_msg_desc(u)->name, d->name) != 0, "%s twice", d->name);
    }
    ck_assert(!proto_msg_type_is_known(PROTO_MSG_TYPE_COUNT));
}
END_TEST

START_TEST(rows_match_the_enum)
{
    for (int t = 0; t < BLOCKMSG_TYPE_COUNT; t++) {
        const struct msgdesc *d = blockmsg_desc(t);
        ck_assert_int_eq(d->type, t);
        ck_assert_ptr_nonnull(d->name);
        ck_assert_uint_gt(strlen(d->name), 0);
        ck_assert_str_eq(blockmsg_type_name(t), d->name);
        ck_assert_uint_eq(d->size, sizeof(struct blockmsg));
        ck_assert_uint_gt(d->nfields, 0);
        for (int u = 0; u < t; u++)
            ck_assert_msg(strcmp(blockmsg_desc(u)->name, d->name) != 0, "%s twice", d->name);
    }
}
END_TEST

static bool overlaps(size_t a, size_t alen, size_t b, size_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* A decoded blockmsg owns its memory, a decoded proto_msg borrows the frame and
 * holds none: each family uses only its kinds. */
static bool kind_fits(const struct msgdesc *d, uint8_t kind)
{
    if (d->size != sizeof(struct proto_msg))
        return kind < MSGF_VIEW;
    return kind == MSGF_I32 || kind == MSGF_I64 || kind == MSGF_U8 || kind == MSGF_BOOL ||
           kind >= MSGF_VIEW;
}

/* Checks one description (and its nested ones): returns how many fields it has in all. */
static int check_fields(const struct msgdesc *d)
{
    int n = d->nfields;
    bool extended_seen = false;
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        size_t size = msgdesc_field_c_size(f);
        ck_assert_int_lt(f->kind, MSGF_KIND_COUNT);
        ck_assert_msg(kind_fits(d, f->kind), "%s field %u: kind %u", d->name, i, f->kind);
        /* A body is the rest of the frame. */
        ck_assert(f->kind != MSGF_BODY || i == d->nfields - 1);
        ck_assert_msg(f->offset + size <= d->size, "%s field %u outside its struct", d->name, i);
        if (f->kind == MSGF_BITMAPS)
            ck_assert_uint_le(f->count_offset + sizeof(uint32_t), d->size);
        if (f->kind == MSGF_NESTED)
            n += check_fields(f->nested);
        ck_assert(f->show == MSG_SHOW_VALUE || f->show == MSG_SHOW_SIZE);
        if (f->flags & MSGF_EXTENDED_ONLY) {
            ck_assert_msg(d->layout_rule != MSG_LAYOUT_FIXED, "%s: extended field, one layout",
                          d->name);
            extended_seen = true;
        }
        /* By remaining length: the fields from the first extended one on have a fixed size. */
        if (extended_seen && d->layout_rule == MSG_LAYOUT_BY_REMAINING)
            ck_assert(f->kind == MSGF_I32 || f->kind == MSGF_I64 || f->kind == MSGF_U8);
        for (uint8_t j = 0; j < i; j++) {
            const struct msg_field *g = &d->fields[j];
            ck_assert_msg(!overlaps(f->offset, size, g->offset, msgdesc_field_c_size(g)),
                          "%s fields %u and %u overlap", d->name, j, i);
            if (f->label && g->label)
                ck_assert_str_ne(f->label, g->label);
        }
        if (d->layout_rule != MSG_LAYOUT_FIXED)
            ck_assert(!overlaps(f->offset, size, d->layout_offset, sizeof(int)));
    }
    ck_assert_msg(extended_seen == (d->layout_rule != MSG_LAYOUT_FIXED), "%s", d->name);
    return n;
}

START_TEST(fields_fit_their_struct_without_overlap)
{
    int fields = 0;
    for (int t = 0; t < BLOCKMSG_TYPE_COUNT; t++)
        fields += check_fields(blockmsg_desc(t));
    ck_assert_int_ge(fields, 72); /* the 20 types of Spark 3.2-3.5 */
    fields = 0;
    for (int t = 0; t < PROTO_MSG_TYPE_COUNT; t++)
        fields += check_fields(proto_msg_desc(t));
    ck_assert_int_ge(fields, 32);
}
END_TEST

/* One sample of a row in a layout, starting at an edge value turn. */
static void build(int type, int layout, unsigned turn, struct blockmsg *m)
{
    struct sample_source src = {.turn = turn};
    memset(m, 0, sizeof(*m));
    m->type = (enum blockmsg_type)type;
    sample_fill(blockmsg_desc(type), m, layout, &src);
}

/* The description: Name[...] with every labelled field of the layout in it. */
static void check_description(const struct msgdesc *d, const struct blockmsg *m, int layout)
{
    char desc[2048], cut[16];
    blockmsg_describe(m, desc, sizeof(desc));
    ck_assert_msg(strncmp(desc, d->name, strlen(d->name)) == 0 && desc[strlen(d->name)] == '[',
                  "%s", desc);
    ck_assert_msg(desc[strlen(desc) - 1] == ']', "%s", desc);
    for (uint8_t i = 0; i < d->nfields; i++) {
        const struct msg_field *f = &d->fields[i];
        char label[64];
        snprintf(label, sizeof(label), "%s=", f->label ? f->label : "");
        if (f->label && msgdesc_field_present(f, layout))
            ck_assert_msg(strstr(desc, label) != NULL, "%s lacks %s", desc, label);
    }
    /* A short buffer holds a NUL-terminated prefix, never more. */
    for (size_t cap = 1; cap <= sizeof(cut); cap++) {
        memset(cut, 'x', sizeof(cut));
        blockmsg_describe(m, cut, cap);
        ck_assert_uint_eq(strlen(cut), cap - 1);
        ck_assert_mem_eq(cut, desc, cap - 1);
    }
}

/* The generic engine (any row) agrees with the per-row instances the public
 * functions use: the same fields from the same bytes, the same bytes back. */
static void check_generic_path(const struct msgdesc *d, const struct proto_writer *encoded)
{
    struct blockmsg m = {.type = (enum blockmsg_type)d->type};
    struct proto_reader r;
    struct proto_writer w;
    proto_reader_init(&r, encoded->buf + 1, encoded->len - 1);
    msgdesc_decode(d, &r, &m);
    ck_assert_ptr_null(proto_reader_error(&r));
    proto_writer_init(&w);
    proto_write_u8(&w, (uint8_t)d->type);
    msgdesc_encode(d, &w, &m, 0);
    ck_assert_uint_eq(w.len, encoded->len);
    ck_assert_mem_eq(w.buf, encoded->buf, w.len);
    msgdesc_free(d, &m);
    proto_writer_free(&w);
}

START_TEST(every_row_round_trips_in_every_layout)
{
    for (int t = 0; t < BLOCKMSG_TYPE_COUNT; t++) {
        const struct msgdesc *d = blockmsg_desc(t);
        for (int layout = 0; layout < sample_layouts(d); layout++) {
            for (unsigned turn = 0; turn < 9; turn += 4) {
                struct blockmsg m, back;
                struct proto_writer w, w2;
                char err[256];
                build(t, layout, turn, &m);
                proto_writer_init(&w);
                proto_writer_init(&w2);
                blockmsg_encode(&w, &m);
                ck_assert(!w.failed);
                ck_assert_uint_eq(w.len, 1 + msgdesc_wire_len(d, &m));
                ck_assert_msg(blockmsg_decode(w.buf, w.len, &back, err, sizeof(err)) == 0,
                              "%s layout %d: %s", d->name, layout, err);
                ck_assert_int_eq(back.type, t);
                ck_assert_int_eq(msgdesc_layout(d, &back), layout);
                blockmsg_encode(&w2, &back);
                ck_assert_uint_eq(w2.len, w.len);
                ck_assert_msg(memcmp(w2.buf, w.buf, w.len) == 0,
                              "%s layout %d re-encodes "
                              "differently",
                              d->name, layout);
                check_description(d, &back, layout);
                check_generic_path(d, &w);
                /* Every strict prefix of a one-layout message fails, naming it. */
                for (size_t cut = 1; cut < w.len && d->layout_rule == MSG_LAYOUT_FIXED; cut++) {
                    struct blockmsg part;
                    ck_assert_msg(blockmsg_decode(w.buf, cut, &part, err, sizeof(err)) == -1,
                                  "%s cut at %zu decoded", d->name, cut);
                    ck_assert_ptr_nonnull(strstr(err, d->name));
                }
                blockmsg_free(&m);
                blockmsg_free(&back);
                ck_assert_int_eq(m.type, 0);
                proto_writer_free(&w);
                proto_writer_free(&w2);
            }
        }
    }
}
END_TEST

START_TEST(every_transport_row_round_trips)
{
    for (int t = 0; t < PROTO_MSG_TYPE_COUNT; t++) {
        const struct msgdesc *d = proto_msg_desc(t);
        for (unsigned turn = 0; turn < 9; turn += 4) {
            struct sample_source src = {.turn = turn};
            struct proto_msg m = {.type = (enum proto_msg_type)t}, back;
            struct proto_writer w, w2;
            char err[256], desc[512];
            sample_fill(d, &m, MSG_LAYOUT_BASE, &src);
            proto_writer_init(&w);
            proto_writer_init(&w2);
            proto_msg_encode(&w, &m);
            const struct proto_view *body = msgdesc_body(d, &m);
            ck_assert_uint_eq(proto_msg_header_len(&m), w.len - (body ? body->len : 0));
            ck_assert_uint_eq(proto_load_u64(w.buf), w.len);
            ck_assert_msg(proto_msg_decode(t, w.buf + PROTO_FRAME_HEADER_LEN,
                                           w.len - PROTO_FRAME_HEADER_LEN, &back, err,
                                           sizeof(err)) == 0,
                          "%s: %s", d->name, err);
            proto_msg_encode(&w2, &back);
            ck_assert_uint_eq(w2.len, w.len);
            ck_assert_msg(memcmp(w2.buf, w.buf, w.len) == 0, "%s re-encodes differently", d->name);
            proto_msg_describe(&back, desc, sizeof(desc));
            ck_assert_msg(strncmp(desc, d->name, strlen(d->name)) == 0, "%s", desc);
            /* A header without a body takes no trailing byte. */
            if (!body) {
                proto_write_u8(&w, 0);
                ck_assert_int_eq(proto_msg_decode(t, w.buf + PROTO_FRAME_HEADER_LEN,
                                                  w.len - PROTO_FRAME_HEADER_LEN, &back, err,
                                                  sizeof(err)),
                                 -1);
            }
            proto_writer_free(&w);
            proto_writer_free(&w2);
        }
    }
}
END_TEST

CHECK_MAIN((.suite = "msg_tables", .name = "msg_tables"), rows_match_the_enum,
           transport_rows_match_the_enum, fields_fit_their_struct_without_overlap,
           every_row_round_trips_in_every_layout, every_transport_row_round_trips)
