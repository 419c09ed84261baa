/* SPDX-License-Identifier: Apache-2.0 */
/* What the block-service tests share: the harness's files and locations (tests/harness), and
 * the registry store opened and closed as the daemon does it. */
#ifndef SHUFFLED_TESTS_BLOCK_UTIL_H
#define SHUFFLED_TESTS_BLOCK_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "../harness/locate.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"

/* A fresh resolver in *r and the store of dir replayed into it (stats in *st, may be NULL);
 * failing to open fails the test. */
static inline struct registry_store *store_open(const char *dir, struct resolver **r,
                                                struct registry_store_stats *st)
{
    char err[512];
    *r = resolver_create(1 << 16);
    struct registry_store *s = registry_store_open(dir, *r, st, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static inline void store_close(struct registry_store *s, struct resolver *r)
{
    registry_store_close(s);
    resolver_destroy(r);
}

#endif
