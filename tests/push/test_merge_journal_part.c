/* SPDX-License-Identifier: Apache-2.0 */
/* The merge journal's partition record (op 6, merge_journal_part.h): its bytes are exactly
 * the documented layout (built here by hand, the bitmap in CRoaring's portable format), a
 * journal holding it replays to the same fields and bitmap, a journal of the previous
 * version's records around it still replays, and a record whose lengths or bitmap do not
 * hold together ends the replay as a damaged tail does. */
#include <config.h>

#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "proto/codec.h"
#include "server/push/merge_journal.h"
#include "../check_main.h"

static roaring_bitmap_t *sample_maps(void)
{
    roaring_bitmap_t *b = roaring_bitmap_create();
    for (uint32_t i = 0; i < 3000; i += 3) /* an array container */
        roaring_bitmap_add(b, i);
    roaring_bitmap_add_range(b, 70000, 72000); /* runs, once optimized */
    roaring_bitmap_run_optimize(b);
    return b;
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
    return p + n;
}

/* The record by hand: "SHM1" | length | CRC32 | u8 6, String app, i32 attempt, shuffle,
 * mergeId, reduce, i64 data, index, meta lengths, i32 n, n bytes of the bitmap. A malloc'd
 * buffer, its length in *len; bitmap_extra bytes of zeros after the bitmap are counted in n. */
static uint8_t *by_hand(const roaring_bitmap_t *maps, int64_t index_len, size_t bitmap_extra,
                        size_t *len)
{
    size_t bm = roaring_bitmap_portable_size_in_bytes(maps) + bitmap_extra;
    size_t payload = 1 + 4 + 3 + 4 * 4 + 3 * 8 + 4 + bm;
    uint8_t *buf = calloc(1, 12 + payload), *p = buf + 12;
    *p++ = 6;
    p = put_be(p, 3, 4);
    memcpy(p, "app", 3);
    p += 3;
    p = put_be(put_be(put_be(put_be(p, 2, 4), 7, 4), 1, 4), 4, 4); /* attempt 2 shuffle 7 ... */
    p = put_be(put_be(put_be(p, 123456, 8), (uint64_t)index_len, 8), 777, 8);
    p = put_be(p, bm, 4);
    roaring_bitmap_portable_serialize(maps, (char *)p);
    put_be(put_be(put_be(buf, 0x53484d31u, 4), payload, 4), (uint32_t)crc32(0, buf + 12, payload),
           4);
    *len = 12 + payload;
    return buf;
}

static struct merge_journal_rec sample_rec(const roaring_bitmap_t *maps)
{
    return (struct merge_journal_rec){.op = MJ_PARTITION,
                                      .app = "app",
                                      .attempt = 2,
                                      .shuffle = 7,
                                      .merge_id = 1,
                                      .reduce = 4,
                                      .end = 123456,
                                      .index_len = 24,
                                      .meta_len = 777,
                                      .maps = maps};
}

/* A commit record, as the previous version wrote them too. */
static struct merge_journal_rec commit_rec(void)
{
    return (struct merge_journal_rec){.op = MJ_COMMIT,
                                      .app = "app",
                                      .attempt = 2,
                                      .shuffle = 8,
                                      .reduce = 1,
                                      .map_index = 5,
                                      .end = 10};
}

START_TEST(test_encoding_is_the_documented_layout)
{
    roaring_bitmap_t *maps = sample_maps();
    struct merge_journal_rec r = sample_rec(maps);
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(merge_journal_encode(&w, &r));
    size_t len;
    uint8_t *expected = by_hand(maps, 24, 0, &len);
    ck_assert_uint_eq(w.len, len);
    ck_assert(memcmp(w.buf, expected, len) == 0);
    free(expected);
    proto_writer_free(&w);
    roaring_bitmap_free(maps);
}
END_TEST

struct seen {
    int n, parts, commits;
    struct merge_journal_rec part;
    roaring_bitmap_t *maps;
};

static void on_record(void *arg, const struct merge_journal_rec *r)
{
    struct seen *s = arg;
    s->n++;
    if (r->op == MJ_COMMIT)
        s->commits++;
    if (r->op != MJ_PARTITION)
        return;
    s->parts++;
    s->part = *r;
    s->part.app = NULL; /* borrowed for the call only */
    ck_assert_str_eq(r->app, "app");
    ck_assert(r->maps != NULL);
    s->maps = roaring_bitmap_copy((const roaring_bitmap_t *)r->maps);
}

/* dir/merges.wal := buf[0, len). */
static void put_log(const char *dir, const uint8_t *buf, size_t len)
{
    char path[800];
    snprintf(path, sizeof path, "%s/merges.wal", dir);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
}

static struct seen replay_dir(const char *dir)
{
    char err[256];
    struct seen s = {0};
    struct merge_journal *j = merge_journal_open(dir, false, on_record, NULL, &s, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    merge_journal_close(j);
    return s;
}

START_TEST(test_replays_to_the_same_partition)
{
    char *dir = harness_temp_dir();
    roaring_bitmap_t *maps = sample_maps();
    /* a commit record before and after it, as the previous version wrote them */
    struct merge_journal_rec commit = commit_rec();
    struct merge_journal_rec part = sample_rec(maps);
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(merge_journal_encode(&w, &commit));
    ck_assert(merge_journal_encode(&w, &part));
    ck_assert(merge_journal_encode(&w, &commit));
    put_log(dir, w.buf, w.len);
    proto_writer_free(&w);
    struct seen s = replay_dir(dir);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.commits, 2);
    ck_assert_int_eq(s.parts, 1);
    ck_assert_int_eq(s.part.attempt, 2);
    ck_assert_int_eq(s.part.shuffle, 7);
    ck_assert_int_eq(s.part.merge_id, 1);
    ck_assert_int_eq(s.part.reduce, 4);
    ck_assert_int_eq(s.part.end, 123456);
    ck_assert_int_eq(s.part.index_len, 24);
    ck_assert_int_eq(s.part.meta_len, 777);
    ck_assert(roaring_bitmap_equals(s.maps, maps));
    roaring_bitmap_free(s.maps);
    roaring_bitmap_free(maps);
    free(dir);
}
END_TEST

/* A record that does not hold together stops the replay there, as a torn tail does: what
 * precedes it replays, it and what follows are cut off. */
static void expect_refused(const uint8_t *bad, size_t bad_len)
{
    char *dir = harness_temp_dir();
    struct merge_journal_rec commit = commit_rec();
    struct proto_writer w;
    proto_writer_init(&w);
    ck_assert(merge_journal_encode(&w, &commit));
    proto_write_raw(&w, bad, bad_len);
    ck_assert(merge_journal_encode(&w, &commit));
    put_log(dir, w.buf, w.len);
    proto_writer_free(&w);
    struct seen s = replay_dir(dir);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.parts, 0);
    free(dir);
}

START_TEST(test_inconsistent_records_refused)
{
    roaring_bitmap_t *maps = sample_maps();
    size_t len;
    uint8_t *rec = by_hand(maps, 24, 1, &len); /* a byte after the bitmap */
    expect_refused(rec, len);
    free(rec);
    rec = by_hand(maps, 12, 0, &len); /* an index that is not whole boundaries */
    expect_refused(rec, len);
    free(rec);
    rec = by_hand(maps, 0, 0, &len); /* an index without its first boundary */
    expect_refused(rec, len);
    free(rec);
    roaring_bitmap_t *empty = roaring_bitmap_create(); /* a partition that merged nothing */
    rec = by_hand(empty, 24, 0, &len);
    expect_refused(rec, len);
    free(rec);
    roaring_bitmap_free(empty);
    roaring_bitmap_free(maps);
}
END_TEST

CHECK_MAIN((.suite = "merge_journal_part", .name = "part"), test_encoding_is_the_documented_layout,
           test_replays_to_the_same_partition, test_inconsistent_records_refused)
