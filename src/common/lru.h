/* SPDX-License-Identifier: Apache-2.0 */
/* An intrusive least-recently-used list: a node embedded in each cached entry, newest first.
 * O(1) everything; no allocation; the caller does the locking. */
#ifndef SHUFFLED_COMMON_LRU_H
#define SHUFFLED_COMMON_LRU_H

#include <stddef.h>

struct lru_node {
    struct lru_node *newer, *older;
};

struct lru_list {
    struct lru_node *newest, *oldest;
};

/* The entry of type holding node as its member. */
#define lru_entry(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

static inline void lru_unlink(struct lru_list *l, struct lru_node *n)
{
    if (n->newer)
        n->newer->older = n->older;
    else
        l->newest = n->older;
    if (n->older)
        n->older->newer = n->newer;
    else
        l->oldest = n->newer;
    n->newer = n->older = NULL;
}

static inline void lru_push_newest(struct lru_list *l, struct lru_node *n)
{
    n->newer = NULL;
    n->older = l->newest;
    if (l->newest)
        l->newest->newer = n;
    l->newest = n;
    if (!l->oldest)
        l->oldest = n;
}

/* Marks n as just used. */
static inline void lru_touch(struct lru_list *l, struct lru_node *n)
{
    if (l->newest != n) {
        lru_unlink(l, n);
        lru_push_newest(l, n);
    }
}

#endif
