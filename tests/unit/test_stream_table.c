/* SPDX-License-Identifier: Apache-2.0 */
/* The stream table and Spark's chunk-order rules (protocol.md 6.2). */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/stream/stream_table.h"
#include "../check_main.h"

static int freed;

static void count_free(void *ctx)
{
    (void)ctx;
    freed++;
}

static void drop(struct stream *s, void *arg)
{
    (void)arg;
    stream_free(s);
}

static struct stream_source src(uint32_t n)
{
    struct stream_source s = {.num_chunks = n, .free_ctx = count_free};
    return s;
}

START_TEST(ids_unique_and_sequential)
{
    int64_t a = stream_next_id(), b = stream_next_id();
    ck_assert_int_eq(b, a + 1);
    ck_assert_int_ge(a, 0);
}
END_TEST

START_TEST(add_find_remove)
{
    struct stream_table t = {0};
    struct stream *s[100];
    uint64_t before = stream_live_count();
    for (int i = 0; i < 100; i++) {
        s[i] = stream_table_add(&t, i % 2 ? "app-1" : NULL, src(1));
        ck_assert_ptr_nonnull(s[i]);
    }
    ck_assert_uint_eq(stream_live_count(), before + 100);
    for (int i = 0; i < 100; i++)
        ck_assert_ptr_eq(stream_table_find(&t, s[i]->id), s[i]);
    ck_assert_str_eq(s[1]->app_id, "app-1");
    ck_assert_ptr_null(s[0]->app_id);
    ck_assert_ptr_null(stream_table_find(&t, s[99]->id + 1000000));
    stream_table_remove(&t, s[5]);
    ck_assert_ptr_null(stream_table_find(&t, s[5]->id));
    ck_assert(s[5]->removed);
    freed = 0;
    stream_free(s[5]);
    ck_assert_int_eq(freed, 1);
    ck_assert_uint_eq(t.count, 99);
    stream_table_drain(&t, drop, NULL);
    ck_assert_int_eq(freed, 100);
    ck_assert_uint_eq(t.count, 0);
    ck_assert_uint_eq(stream_live_count(), before);
    stream_table_free(&t);
}
END_TEST

START_TEST(chunk_order_rules)
{
    struct stream_table t = {0};
    struct stream *s = stream_table_add(&t, NULL, src(3));
    char err[200];
    uint32_t iter;
    ck_assert_int_eq(stream_begin_chunk(s, 1, 0, &iter, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalStateException: Received out-of-order chunk index 1 "
                          "(expected 0)");
    ck_assert_int_eq(stream_begin_chunk(s, -1, 0, &iter, err, sizeof err), -1);
    ck_assert_int_eq(stream_begin_chunk(s, 0, 0, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 0);
    ck_assert(!stream_end_chunk(s, true));
    /* a failed resolution moves the index on, not the buffer (Spark's quirk) */
    ck_assert_int_eq(stream_begin_chunk(s, 1, 0, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 1);
    ck_assert(!stream_end_chunk(s, false));
    ck_assert_int_eq(stream_begin_chunk(s, 2, 0, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 1);
    ck_assert(!stream_end_chunk(s, true));
    ck_assert_int_eq(stream_begin_chunk(s, 3, 0, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 2);
    ck_assert(stream_end_chunk(s, true)); /* the last buffer: the caller drops the stream */
    ck_assert_int_eq(stream_begin_chunk(s, 4, 0, &iter, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalStateException: Requested chunk index beyond end 4");
    stream_table_remove(&t, s);
    stream_free(s);
    stream_table_free(&t);
}
END_TEST

START_TEST(batched_acceptance)
{
    struct stream_table t = {0};
    struct stream *s = stream_table_add(&t, NULL, src(2));
    char err[200];
    uint32_t iter;
    ck_assert_int_eq(stream_begin_chunk(s, 0, 0, &iter, err, sizeof err), 0);
    ck_assert_int_eq(stream_begin_chunk(s, 1, 1, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 1);
    /* no buffer left unless one of the two pending fails: wait, change nothing */
    ck_assert_int_eq(stream_begin_chunk(s, 2, 2, &iter, err, sizeof err), 1);
    ck_assert_uint_eq(s->next_index, 2);
    /* the first fails, so the second was never tried: it is undone and checked again */
    ck_assert(!stream_end_chunk(s, false));
    stream_unbegin_chunks(s, 1);
    ck_assert_int_eq(stream_begin_chunk(s, 1, 0, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 0);
    ck_assert_int_eq(stream_begin_chunk(s, 2, 1, &iter, err, sizeof err), 0);
    ck_assert_uint_eq(iter, 1);
    ck_assert(!stream_end_chunk(s, true));
    ck_assert(stream_end_chunk(s, true));
    stream_table_remove(&t, s);
    stream_free(s);
    stream_table_free(&t);
}
END_TEST

START_TEST(empty_stream)
{
    struct stream_table t = {0};
    struct stream *s = stream_table_add(&t, NULL, src(0));
    char err[200];
    uint32_t iter;
    ck_assert_int_eq(stream_begin_chunk(s, 0, 0, &iter, err, sizeof err), -1);
    ck_assert_str_eq(err, "java.lang.IllegalStateException: Requested chunk index beyond end 0");
    ck_assert_ptr_eq(stream_table_find(&t, s->id), s); /* kept until its connection closes */
    freed = 0;
    stream_table_drain(&t, drop, NULL);
    ck_assert_int_eq(freed, 1);
    stream_table_free(&t);
}
END_TEST

CHECK_MAIN((.suite = "stream_table", .name = "streams"), ids_unique_and_sequential, add_find_remove,
           chunk_order_rules, batched_acceptance, empty_stream)
