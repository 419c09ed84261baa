/* SPDX-License-Identifier: Apache-2.0 */
/* Room for one more element in a growing array (doubling from 16). Header only, like
 * write_all.h. */
#ifndef SHUFFLED_COMMON_ARRAY_ROOM_H
#define SHUFFLED_COMMON_ARRAY_ROOM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* items (n of them in use, *cap allocated, elem bytes each) with room for one more: items
 * itself when it has it, else the grown array (*cap updated). NULL out of memory, items then
 * untouched. Use: p = array_room(a->items, a->n, &a->cap, sizeof *p); if (!p) fail;
 * a->items = p. */
static inline void *array_room(void *items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return items;
    size_t grown = *cap ? 2 * *cap : 16;
    if (grown > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(items, grown * elem);
    if (p)
        *cap = grown;
    return p;
}

#endif
