/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_open_files.h. */
#include <config.h>

#include "server/push/merge_open_files.h"

#include <string.h>

void merge_open_files_init(struct merge_open_files *f, uint64_t max)
{
    memset(f, 0, sizeof *f);
    f->max = max;
}

void merge_open_files_opened(struct merge_open_files *f, struct merge_open_entry *e)
{
    if (!e->open)
        f->open++;
    e->open = true;
    if (e->listed)
        lru_touch(&f->lru, &e->node);
    else
        lru_push_newest(&f->lru, &e->node);
    e->listed = true;
}

void merge_open_files_touch(struct merge_open_files *f, struct merge_open_entry *e)
{
    if (e->listed)
        lru_touch(&f->lru, &e->node);
}

void merge_open_files_hold(struct merge_open_files *f, struct merge_open_entry *e)
{
    if (e->listed)
        lru_unlink(&f->lru, &e->node);
    e->listed = false;
}

void merge_open_files_closed(struct merge_open_files *f, struct merge_open_entry *e)
{
    merge_open_files_hold(f, e);
    if (e->open)
        f->open--;
    e->open = false;
}

bool merge_open_files_room(const struct merge_open_files *f)
{
    return f->max == 0 || f->open < f->max;
}

struct merge_open_entry *
merge_open_files_victim(struct merge_open_files *f,
                        bool (*idle)(struct merge_open_entry *e, void *arg), void *arg)
{
    if (merge_open_files_room(f))
        return NULL;
    /* the newest at the start: once it comes round again, every listed entry was looked at */
    struct lru_node *last = f->lru.newest;
    while (f->lru.oldest) {
        struct lru_node *n = f->lru.oldest;
        struct merge_open_entry *e = lru_entry(n, struct merge_open_entry, node);
        if (idle(e, arg)) {
            merge_open_files_hold(f, e);
            return e;
        }
        lru_touch(&f->lru, n); /* busy: being used, so the newest */
        if (n == last)
            break;
    }
    return NULL;
}
