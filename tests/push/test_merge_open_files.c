/* SPDX-License-Identifier: Apache-2.0 */
/* The bound on open merged partitions (merge_open_files.c): entries are counted while open;
 * the one to close is the least recently used listed one that is idle; busy ones are passed
 * over (and become the newest), held ones (a finalize, a removal) are never chosen but stay
 * counted until closed; with every listed entry busy there is no victim. */
#include <config.h>

#include <string.h>

#include "server/push/merge_open_files.h"
#include "../check_main.h"

#define N 6

struct ent {
    struct merge_open_entry e;
    bool busy;
    int id;
};

static struct ent ents[N];
static int idle_calls;

static bool is_idle(struct merge_open_entry *e, void *arg)
{
    (void)arg;
    idle_calls++;
    return !lru_entry(e, struct ent, e)->busy;
}

static int victim_id(struct merge_open_files *f)
{
    struct merge_open_entry *e = merge_open_files_victim(f, is_idle, NULL);
    return e ? lru_entry(e, struct ent, e)->id : -1;
}

static void setup(void)
{
    memset(ents, 0, sizeof ents);
    for (int i = 0; i < N; i++)
        ents[i].id = i;
    idle_calls = 0;
}

START_TEST(test_counts_and_room)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 2);
    ck_assert(merge_open_files_room(&f));
    ck_assert_int_eq(victim_id(&f), -1); /* room: nothing to close */
    merge_open_files_opened(&f, &ents[0].e);
    merge_open_files_opened(&f, &ents[0].e); /* twice: counted once */
    ck_assert_uint_eq(f.open, 1);
    merge_open_files_opened(&f, &ents[1].e);
    ck_assert_uint_eq(f.open, 2);
    ck_assert(!merge_open_files_room(&f));
    merge_open_files_closed(&f, &ents[1].e);
    merge_open_files_closed(&f, &ents[1].e); /* twice: uncounted once */
    ck_assert_uint_eq(f.open, 1);
    ck_assert(merge_open_files_room(&f));
    merge_open_files_init(&f, 0); /* no bound */
    setup();
    for (int i = 0; i < N; i++)
        merge_open_files_opened(&f, &ents[i].e);
    ck_assert(merge_open_files_room(&f));
    ck_assert_int_eq(victim_id(&f), -1);
}
END_TEST

START_TEST(test_least_recently_used_goes_first)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 3);
    for (int i = 0; i < 3; i++)
        merge_open_files_opened(&f, &ents[i].e);
    merge_open_files_touch(&f, &ents[0].e); /* order, oldest first: 1 2 0 */
    ck_assert_int_eq(victim_id(&f), 1);
    ck_assert_uint_eq(f.open, 3); /* counted until its files are closed */
    merge_open_files_closed(&f, &ents[1].e);
    merge_open_files_opened(&f, &ents[3].e); /* 2 0 3 */
    ck_assert_int_eq(victim_id(&f), 2);
    merge_open_files_closed(&f, &ents[2].e);
    merge_open_files_opened(&f, &ents[1].e); /* reopened: 0 3 1 */
    ck_assert_int_eq(victim_id(&f), 0);
    merge_open_files_closed(&f, &ents[0].e);
    merge_open_files_opened(&f, &ents[4].e); /* 3 1 4 */
    merge_open_files_touch(&f, &ents[3].e);  /* 1 4 3 */
    ck_assert_int_eq(victim_id(&f), 1);
}
END_TEST

START_TEST(test_busy_entries_are_passed_over)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 4);
    for (int i = 0; i < 4; i++)
        merge_open_files_opened(&f, &ents[i].e); /* 0 1 2 3 */
    ents[0].busy = ents[1].busy = true;
    idle_calls = 0;
    ck_assert_int_eq(victim_id(&f), 2);
    ck_assert_int_eq(idle_calls, 3);
    merge_open_files_closed(&f, &ents[2].e);
    merge_open_files_opened(&f, &ents[4].e); /* the busy ones became newer: 3 0 1 4 */
    ents[0].busy = ents[1].busy = false;
    ck_assert_int_eq(victim_id(&f), 3);
    merge_open_files_closed(&f, &ents[3].e);
    merge_open_files_opened(&f, &ents[5].e); /* 0 1 4 5 */
    ck_assert_int_eq(victim_id(&f), 0);
}
END_TEST

START_TEST(test_all_busy_no_victim_each_looked_at_once)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 3);
    for (int i = 0; i < 3; i++) {
        merge_open_files_opened(&f, &ents[i].e);
        ents[i].busy = true;
    }
    idle_calls = 0;
    ck_assert_int_eq(victim_id(&f), -1);
    ck_assert_int_eq(idle_calls, 3);
    ck_assert_uint_eq(f.open, 3);
    /* the order is kept (each went to the newest end in turn): 0 1 2 */
    ents[1].busy = false;
    ck_assert_int_eq(victim_id(&f), 1);
    merge_open_files_closed(&f, &ents[1].e);
    /* going over the bound: opened without a victim, then one freed */
    merge_open_files_opened(&f, &ents[3].e);
    merge_open_files_opened(&f, &ents[4].e);
    ck_assert_uint_eq(f.open, 4);
    ck_assert_int_eq(victim_id(&f), 3); /* 0 and 2 busy */
    merge_open_files_closed(&f, &ents[3].e);
    ents[4].busy = true;
    ck_assert_int_eq(victim_id(&f), -1); /* 3 open of 3, all busy */
    ck_assert_uint_eq(f.open, 3);
}
END_TEST

START_TEST(test_single_busy_entry)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 1);
    merge_open_files_opened(&f, &ents[0].e);
    ents[0].busy = true;
    ck_assert_int_eq(victim_id(&f), -1);
    ents[0].busy = false;
    ck_assert_int_eq(victim_id(&f), 0);
    ck_assert_int_eq(victim_id(&f), -1); /* taken out of the list already */
}
END_TEST

START_TEST(test_held_entries_stay_counted_never_chosen)
{
    struct merge_open_files f;
    merge_open_files_init(&f, 2);
    merge_open_files_opened(&f, &ents[0].e);
    merge_open_files_opened(&f, &ents[1].e);
    merge_open_files_hold(&f, &ents[0].e);  /* a finalize is cutting it */
    merge_open_files_touch(&f, &ents[0].e); /* no effect: not listed */
    ck_assert_uint_eq(f.open, 2);
    ck_assert_int_eq(victim_id(&f), 1);
    merge_open_files_closed(&f, &ents[1].e);
    ck_assert_int_eq(victim_id(&f), -1); /* room */
    merge_open_files_opened(&f, &ents[2].e);
    ck_assert_int_eq(victim_id(&f), 2); /* never the held one */
    merge_open_files_closed(&f, &ents[2].e);
    merge_open_files_closed(&f, &ents[0].e); /* its holder closed it */
    ck_assert_uint_eq(f.open, 0);
    ck_assert(f.lru.newest == NULL && f.lru.oldest == NULL);
}
END_TEST

CHECK_MAIN((.suite = "merge_open_files", .name = "lru", .setup = setup), test_counts_and_room,
           test_least_recently_used_goes_first, test_busy_entries_are_passed_over,
           test_all_busy_no_victim_each_looked_at_once, test_single_busy_entry,
           test_held_entries_stay_counted_never_chosen)
