/* SPDX-License-Identifier: Apache-2.0 */
/* Per-application holdings: executor counts and owned dirs; see tenants.h.
 *
 * One hash table of counters keyed by (application or "all", path):
 *   (A, "")  exact = executors of A          ("all", "") exact = executors in total
 *   (A, P)   exact = holds of A on dir P     under = holds of A on P or a dir inside P
 *   (all, P) the same summed over applications
 * so "another application holds P or a dir inside it" is under(all, P) > under(A, P), and
 * "another application holds a parent Q of P" is exact(all, Q) > exact(A, Q) for a prefix Q. */
#include <config.h>

#include "server/block/tenants.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    struct slot *next;
    uint64_t hash;
    char *app; /* NULL: every application */
    char *path;
    size_t path_len;
    uint64_t under, exact;
};

struct tenants {
    struct slot **buckets;
    size_t nbuckets, count;
};

static uint64_t hash_key(const char *app, const char *path, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = app ? app : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ (app ? 0xfeu : 0xffu)) * 1099511628211ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ull;
    return h;
}

struct tenants *tenants_create(void)
{
    struct tenants *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->nbuckets = 64;
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

static void slot_free(struct slot *s)
{
    free(s->app);
    free(s->path);
    free(s);
}

void tenants_destroy(struct tenants *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct slot *s = t->buckets[i], *next; s; s = next) {
            next = s->next;
            slot_free(s);
        }
    free(t->buckets);
    free(t);
}

static struct slot **find(const struct tenants *t, const char *app, const char *path, size_t len,
                          uint64_t h)
{
    struct slot **pp = &t->buckets[h & (t->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        const struct slot *s = *pp;
        if (s->hash == h && s->path_len == len && memcmp(s->path, path, len) == 0 &&
            (app ? s->app && strcmp(s->app, app) == 0 : !s->app))
            return pp;
    }
    return pp;
}

static const struct slot *lookup(const struct tenants *t, const char *app, const char *path,
                                 size_t len)
{
    return *find(t, app, path, len, hash_key(app, path, len));
}

static void grow(struct tenants *t)
{
    size_t nb = t->nbuckets * 2;
    struct slot **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct slot *s = t->buckets[i], *next; s; s = next) {
            next = s->next;
            s->next = b[s->hash & (nb - 1)];
            b[s->hash & (nb - 1)] = s;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

/* The slot of (app, path), created with zero counts if missing; NULL out of memory. */
static struct slot *get(struct tenants *t, const char *app, const char *path, size_t len)
{
    uint64_t h = hash_key(app, path, len);
    struct slot **pp = find(t, app, path, len, h);
    if (*pp)
        return *pp;
    struct slot *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->hash = h;
    s->path_len = len;
    s->path = malloc(len + 1);
    s->app = app ? strdup(app) : NULL;
    if (!s->path || (app && !s->app)) {
        slot_free(s);
        return NULL;
    }
    memcpy(s->path, path, len);
    s->path[len] = 0;
    if (t->count + 1 > t->nbuckets) {
        grow(t);
        pp = find(t, app, path, len, h);
    }
    *pp = s;
    t->count++;
    return s;
}

/* Drops the slot of (app, path) once both its counts are zero. */
static void prune(struct tenants *t, const char *app, const char *path, size_t len)
{
    struct slot **pp = find(t, app, path, len, hash_key(app, path, len));
    struct slot *s = *pp;
    if (s && s->under == 0 && s->exact == 0) {
        *pp = s->next;
        t->count--;
        slot_free(s);
    }
}

uint64_t tenants_executors(const struct tenants *t, const char *app)
{
    const struct slot *s = lookup(t, app, "", 0);
    return s ? s->exact : 0;
}

uint64_t tenants_executors_total(const struct tenants *t)
{
    const struct slot *s = lookup(t, NULL, "", 0);
    return s ? s->exact : 0;
}

int tenants_count_executor(struct tenants *t, const char *app, int delta)
{
    struct slot *mine = get(t, app, "", 0), *all = mine ? get(t, NULL, "", 0) : NULL;
    if (!all) {
        prune(t, app, "", 0);
        return -1;
    }
    mine->exact += (uint64_t)(int64_t)delta;
    all->exact += (uint64_t)(int64_t)delta;
    prune(t, app, "", 0);
    prune(t, NULL, "", 0);
    return 0;
}

/* The lengths of dir's prefixes that are directories above it ("/", "/a", "/a/b" for
 * "/a/b/c"), one per call: *pos starts at 0; returns false when there is none left. */
static bool next_parent(const char *dir, size_t len, size_t *pos, size_t *plen)
{
    while (*pos < len) {
        size_t i = (*pos)++;
        if (dir[i] == '/' && !(i == 0 && len == 1)) {
            *plen = i == 0 ? 1 : i;
            return true;
        }
    }
    return false;
}

/* Adds delta to the counters of one (app, dir) hold, for app and for all; with create, the
 * slots are made first (returns -1 if one cannot be). Without, a slot left at zero goes. */
static int adjust(struct tenants *t, const char *app, const char *dir, int64_t delta, bool create)
{
    size_t len = strlen(dir), pos = 0, plen;
    const char *owners[2] = {app, NULL};
    for (int o = 0; o < 2; o++) {
        pos = 0;
        while (next_parent(dir, len, &pos, &plen)) {
            struct slot *s = create
                                 ? get(t, owners[o], dir, plen)
                                 : *find(t, owners[o], dir, plen, hash_key(owners[o], dir, plen));
            if (!s)
                return -1;
            if (!create) {
                s->under += (uint64_t)delta;
                prune(t, owners[o], dir, plen);
            }
        }
        struct slot *s = create ? get(t, owners[o], dir, len)
                                : *find(t, owners[o], dir, len, hash_key(owners[o], dir, len));
        if (!s)
            return -1;
        if (!create) {
            s->under += (uint64_t)delta;
            s->exact += (uint64_t)delta;
            prune(t, owners[o], dir, len);
        }
    }
    return 0;
}

/* Drops the zero slots a failed creation pass left for dir. */
static void prune_dir(struct tenants *t, const char *app, const char *dir)
{
    size_t len = strlen(dir), pos = 0, plen;
    while (next_parent(dir, len, &pos, &plen)) {
        prune(t, app, dir, plen);
        prune(t, NULL, dir, plen);
    }
    prune(t, app, dir, len);
    prune(t, NULL, dir, len);
}

int tenants_hold_dirs(struct tenants *t, const char *app, char *const *dirs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (adjust(t, app, dirs[i], 0, true) < 0) {
            for (uint32_t k = 0; k <= i; k++)
                prune_dir(t, app, dirs[k]);
            return -1;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        adjust(t, app, dirs[i], 1, false); /* every slot exists: cannot fail */
    return 0;
}

void tenants_drop_dirs(struct tenants *t, const char *app, char *const *dirs, uint32_t n)
{
    for (uint32_t i = 0; dirs && i < n; i++)
        adjust(t, app, dirs[i], -1, false);
}

static uint64_t counter(const struct tenants *t, const char *app, const char *path, size_t len,
                        bool exact)
{
    const struct slot *s = lookup(t, app, path, len);
    return !s ? 0 : exact ? s->exact : s->under;
}

int tenants_conflict(const struct tenants *t, const char *app, char *const *dirs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const char *d = dirs[i];
        size_t len = strlen(d), pos = 0, plen;
        /* another application holds d itself or a dir inside it */
        if (counter(t, NULL, d, len, false) > counter(t, app, d, len, false))
            return (int)i;
        /* ... or a dir above it */
        while (next_parent(d, len, &pos, &plen))
            if (counter(t, NULL, d, plen, true) > counter(t, app, d, plen, true))
                return (int)i;
    }
    return -1;
}

char *tenants_canonical_dir(const char *dir)
{
    char *real = realpath(dir, NULL);
    if (real)
        return real;
    char *c = malloc(strlen(dir) + 2);
    if (!c)
        return NULL;
    size_t k = 0;
    for (const char *p = dir; *p; p++)
        if (!(*p == '/' && k > 0 && c[k - 1] == '/'))
            c[k++] = *p;
    while (k > 1 && c[k - 1] == '/')
        k--;
    if (k == 0)
        c[k++] = '/';
    c[k] = 0;
    return c;
}
