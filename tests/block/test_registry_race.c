/* SPDX-License-Identifier: Apache-2.0 */
/* applicationRemoved racing RegisterExecutor of the same app: whatever the interleaving,
 * the registrations live in memory afterwards are exactly those restored from the log
 * after a restart (no acknowledged registration silently lost, none resurrected). */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>

#include "server/block/cleanup.h"
#include "server/block/registry_store.h"
#include "test_util_block.h"
#include "../check_main.h"

#define PUTS 300

static struct registry_store *store;
static struct resolver *res;
static char *dirs[] = {"/data/d0"};

static void *registrar(void *arg)
{
    (void)arg;
    struct executor_info info = {dirs, 1, 8, "sort", NULL};
    char exec[16], err[256];
    for (int i = 0; i < PUTS; i++) {
        snprintf(exec, sizeof(exec), "%d", i);
        ck_assert_int_eq(registry_store_put(store, "app-1", exec, &info, err, sizeof(err)), 0);
    }
    return NULL;
}

static atomic_bool registering;

static void *remover(void *arg)
{
    (void)arg;
    char err[256];
    while (atomic_load(&registering))
        ck_assert_int_ge(cleanup_application_removed(res, store, "app-1", false, err, sizeof(err)),
                         0);
    return NULL;
}

static void live_set(struct resolver *r, bool *out)
{
    char exec[16];
    for (int i = 0; i < PUTS; i++) {
        struct executor_info info;
        snprintf(exec, sizeof(exec), "%d", i);
        out[i] = resolver_get(r, "app-1", exec, &info) == 0;
        if (out[i])
            executor_info_free(&info);
    }
}

START_TEST(test_remove_app_racing_register)
{
    const char *dir = harness_test_dir();
    char err[512];
    int diverged = 0;
    for (int round = 0; round < 5 && !diverged; round++) {
        store = store_open(dir, &res, NULL);
        pthread_t a, b;
        atomic_store(&registering, true);
        pthread_create(&a, NULL, registrar, NULL);
        pthread_create(&b, NULL, remover, NULL);
        pthread_join(a, NULL);
        atomic_store(&registering, false);
        pthread_join(b, NULL);
        static bool before[PUTS], after[PUTS];
        live_set(res, before);
        store_close(store, res);
        store = store_open(dir, &res, NULL);
        live_set(res, after);
        for (int i = 0; i < PUTS; i++)
            if (before[i] != after[i])
                diverged++;
        /* start the next round from an empty app */
        ck_assert_int_ge(cleanup_application_removed(res, store, "app-1", false, err, sizeof(err)),
                         0);
        store_close(store, res);
    }
    ck_assert_msg(diverged == 0, "%d registrations differ between memory and the restored log",
                  diverged);
}
END_TEST

CHECK_MAIN((.suite = "registry_race", .name = "race", .timeout_s = 120),
           test_remove_app_racing_register)
