/* SPDX-License-Identifier: Apache-2.0 */
/* The executor registry: registrations, their dirs' owners, the allowed roots, and where a
 * named file of an executor lies; see resolver.h (block resolution: resolver_locate.c). */
#include <config.h>

#include "server/block/resolver.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/block/index_cache.h"
#include "server/block/map_output_cache.h"
#include "server/block/placement.h"
#include "server/block/tenants.h"

/* Data files kept open for the fast path (each entry holds one fd). */
#define OPEN_MAP_OUTPUTS 1024

struct reg {
    struct reg *next;
    uint64_t hash;
    uint64_t id; /* unique per registration: keys its open map outputs */
    char *app, *exec;
    struct executor_info info;
};

struct resolver {
    pthread_rwlock_t lock;
    struct reg **buckets;
    size_t nbuckets, count;
    struct index_cache *cache;
    struct map_output_cache *open_maps;
    struct tenants *tenants;                     /* executor counts, owned dirs; under the lock */
    atomic_uint_fast64_t max_per_app, max_total; /* 0: no limit */
    uint64_t next_id;                            /* under the write lock */
    atomic_uint_fast64_t epoch;             /* +1 whenever a registration is replaced or removed */
    _Atomic(const struct root_set *) roots; /* borrowed; see resolver_set_roots */
};

int executor_info_copy(struct executor_info *dst, const struct executor_info *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->local_dirs = calloc(src->n_dirs ? src->n_dirs : 1, sizeof(char *));
    dst->shuffle_manager = strdup(src->shuffle_manager ? src->shuffle_manager : "");
    if (!dst->local_dirs || !dst->shuffle_manager)
        goto fail;
    for (uint32_t i = 0; i < src->n_dirs; i++) {
        dst->local_dirs[i] = strdup(src->local_dirs[i]);
        if (!dst->local_dirs[i])
            goto fail;
        dst->n_dirs = i + 1;
    }
    dst->sub_dirs = src->sub_dirs;
    if (src->canonical_dirs) {
        dst->canonical_dirs = calloc(src->n_dirs ? src->n_dirs : 1, sizeof(char *));
        if (!dst->canonical_dirs)
            goto fail;
        for (uint32_t i = 0; i < src->n_dirs; i++)
            if (!(dst->canonical_dirs[i] = strdup(src->canonical_dirs[i])))
                goto fail;
    }
    return 0;
fail:
    executor_info_free(dst);
    return -1;
}

void executor_info_free(struct executor_info *info)
{
    if (!info)
        return;
    for (uint32_t i = 0; i < info->n_dirs; i++) {
        free(info->local_dirs[i]);
        if (info->canonical_dirs)
            free(info->canonical_dirs[i]);
    }
    free(info->local_dirs);
    free(info->canonical_dirs);
    free(info->shuffle_manager);
    memset(info, 0, sizeof(*info));
}

static uint64_t key_hash(const char *app, const char *exec)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = app; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
    for (const char *s = exec; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct resolver *resolver_create(uint64_t index_cache_bytes)
{
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    atomic_init(&r->roots, NULL);
    r->nbuckets = 64;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    r->cache = index_cache_create(index_cache_bytes);
    r->open_maps = map_output_cache_create(OPEN_MAP_OUTPUTS);
    r->tenants = tenants_create();
    if (!r->buckets || !r->cache || !r->open_maps || !r->tenants) {
        tenants_destroy(r->tenants);
        free(r->buckets);
        index_cache_destroy(r->cache);
        map_output_cache_destroy(r->open_maps);
        free(r);
        return NULL;
    }
    pthread_rwlock_init(&r->lock, NULL);
    return r;
}

static void reg_free(struct reg *g)
{
    executor_info_free(&g->info);
    free(g->app);
    free(g->exec);
    free(g);
}

void resolver_destroy(struct resolver *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (struct reg *g = r->buckets[i], *next; g; g = next) {
            next = g->next;
            reg_free(g);
        }
    }
    free(r->buckets);
    index_cache_destroy(r->cache);
    map_output_cache_destroy(r->open_maps);
    tenants_destroy(r->tenants);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

struct index_cache *resolver_index_cache(struct resolver *r)
{
    return r->cache;
}

bool path_under_roots(char *const *roots, size_t nroots, const char *real)
{
    for (size_t i = 0; i < nroots; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(real, roots[i], n) == 0 &&
            (real[n] == 0 || real[n] == '/' || (n == 1 && roots[i][0] == '/')))
            return true;
    }
    return false;
}

void resolver_set_roots(struct resolver *r, const struct root_set *roots)
{
    atomic_store_explicit(&r->roots, roots, memory_order_release);
    /* files kept open were checked against the old roots */
    map_output_cache_drop_all(r->open_maps);
}

const struct root_set *resolver_roots(struct resolver *r)
{
    return atomic_load_explicit(&r->roots, memory_order_acquire);
}

int resolver_confine_path(struct resolver *r, char *path, size_t pathlen, char *err, size_t errlen)
{
    char real[PATH_MAX];
    const struct root_set *roots = resolver_roots(r);
    if (!roots || roots->n == 0)
        return 0;
    if (!realpath(path, real))
        return 1;
    if (!path_under_roots(roots->dirs, roots->n, real) || strlen(real) >= pathlen) {
        snprintf(err, errlen,
                 "java.lang.SecurityException: %s resolves to %s, outside allowed_local_dir_roots",
                 path, real);
        return -1;
    }
    strcpy(path, real);
    return 1;
}

static struct reg **find_slot(struct resolver *r, const char *app, const char *exec, uint64_t h)
{
    struct reg **pp = &r->buckets[h & (r->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && strcmp((*pp)->app, app) == 0 && strcmp((*pp)->exec, exec) == 0)
            return pp;
    return pp;
}

static void grow(struct resolver *r)
{
    size_t nb = r->nbuckets * 2;
    struct reg **b = calloc(nb, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < r->nbuckets; i++) {
        for (struct reg *g = r->buckets[i], *next; g; g = next) {
            next = g->next;
            g->next = b[g->hash & (nb - 1)];
            b[g->hash & (nb - 1)] = g;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = nb;
}

int resolver_register(struct resolver *r, const char *app, const char *exec,
                      const struct executor_info *info)
{
    struct reg *g = calloc(1, sizeof(*g));
    if (!g)
        return -1;
    g->app = strdup(app);
    g->exec = strdup(exec);
    g->hash = key_hash(app, exec);
    if (!g->app || !g->exec || executor_info_copy(&g->info, info) < 0 ||
        resolver_canonicalize(&g->info) < 0) {
        reg_free(g);
        return -1;
    }
    uint64_t replaced = 0;
    pthread_rwlock_wrlock(&r->lock);
    struct reg **pp = find_slot(r, app, exec, g->hash);
    if (tenants_hold_dirs(r->tenants, app, g->info.canonical_dirs, g->info.n_dirs) < 0 ||
        (!*pp && tenants_count_executor(r->tenants, app, 1) < 0)) {
        if (!*pp) /* the holds were taken: the count failed */
            tenants_drop_dirs(r->tenants, app, g->info.canonical_dirs, g->info.n_dirs);
        pthread_rwlock_unlock(&r->lock);
        reg_free(g);
        return -1;
    }
    g->id = ++r->next_id;
    if (*pp) {
        struct reg *old = *pp;
        tenants_drop_dirs(r->tenants, app, old->info.canonical_dirs, old->info.n_dirs);
        g->next = old->next;
        *pp = g;
        replaced = old->id;
        atomic_fetch_add(&r->epoch, 1);
        reg_free(old);
    } else {
        if (r->count + 1 > r->nbuckets) {
            grow(r);
            pp = find_slot(r, app, exec, g->hash);
        }
        *pp = g;
        r->count++;
    }
    pthread_rwlock_unlock(&r->lock);
    if (replaced)
        map_output_cache_drop_registration(r->open_maps, replaced);
    return 0;
}

int resolver_get(struct resolver *r, const char *app, const char *exec, struct executor_info *out)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&r->lock);
    struct reg *g = *find_slot(r, app, exec, key_hash(app, exec));
    if (g)
        rc = executor_info_copy(out, &g->info);
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

size_t resolver_remove_app(struct resolver *r, const char *app, struct executor_info **out)
{
    size_t n = 0, cap = 0;
    struct executor_info *list = NULL;
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++) {
        struct reg **pp = &r->buckets[i];
        while (*pp) {
            struct reg *g = *pp;
            if (strcmp(g->app, app) != 0) {
                pp = &g->next;
                continue;
            }
            *pp = g->next;
            r->count--;
            tenants_count_executor(r->tenants, app, -1);
            if (out && n == cap) {
                size_t nc = cap ? cap * 2 : 4;
                struct executor_info *nl = realloc(list, nc * sizeof(*nl));
                if (nl) {
                    list = nl;
                    cap = nc;
                }
            }
            if (out && n < cap) {
                list[n] = g->info; /* move; its dirs stay held until resolver_release_dirs */
                memset(&g->info, 0, sizeof(g->info));
            } else {
                tenants_drop_dirs(r->tenants, app, g->info.canonical_dirs, g->info.n_dirs);
            }
            n++;
            atomic_fetch_add(&r->epoch, 1);
            map_output_cache_drop_registration(r->open_maps, g->id);
            reg_free(g);
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (out)
        *out = list;
    return out && n > cap ? cap : n;
}

void resolver_release_dirs(struct resolver *r, const char *app, const struct executor_info *infos,
                           size_t n)
{
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < n; i++)
        tenants_drop_dirs(r->tenants, app, infos[i].canonical_dirs, infos[i].n_dirs);
    pthread_rwlock_unlock(&r->lock);
}

int resolver_canonicalize(struct executor_info *info)
{
    if (info->canonical_dirs)
        return 0;
    char **c = calloc(info->n_dirs ? info->n_dirs : 1, sizeof(char *));
    for (uint32_t i = 0; c && i < info->n_dirs; i++) {
        if (!(c[i] = tenants_canonical_dir(info->local_dirs[i]))) {
            for (uint32_t k = 0; k < i; k++)
                free(c[k]);
            free(c);
            c = NULL;
        }
    }
    info->canonical_dirs = c;
    return c ? 0 : -1;
}

void resolver_set_limits(struct resolver *r, uint64_t max_executors_per_app, uint64_t max_executors)
{
    atomic_store(&r->max_per_app, max_executors_per_app);
    atomic_store(&r->max_total, max_executors);
}

enum resolver_refusal resolver_admit(struct resolver *r, const char *app, const char *exec,
                                     const struct executor_info *info, char *err, size_t errlen)
{
    struct executor_info canon = *info;
    canon.canonical_dirs = NULL;
    if (!info->canonical_dirs && resolver_canonicalize(&canon) < 0) {
        snprintf(err, errlen, "java.lang.OutOfMemoryError: RegisterExecutor");
        return RESOLVER_NO_MEMORY;
    }
    char *const *dirs = info->canonical_dirs ? info->canonical_dirs : canon.canonical_dirs;
    uint64_t per_app = atomic_load(&r->max_per_app), total = atomic_load(&r->max_total);
    enum resolver_refusal why = RESOLVER_ADMITTED;
    pthread_rwlock_rdlock(&r->lock);
    bool known = *find_slot(r, app, exec, key_hash(app, exec)) != NULL;
    uint64_t mine = tenants_executors(r->tenants, app), all = tenants_executors_total(r->tenants);
    int clash = tenants_conflict(r->tenants, app, dirs, info->n_dirs);
    pthread_rwlock_unlock(&r->lock);
    if (!known && per_app && mine >= per_app) {
        why = RESOLVER_REFUSED_PER_APP;
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: RegisterExecutor(appId=%s, execId=%s) refused: "
                 "application %s already has %llu registered executors, the limit set by "
                 "max_executors_per_app",
                 app, exec, app, (unsigned long long)mine);
    } else if (!known && total && all >= total) {
        why = RESOLVER_REFUSED_TOTAL;
        snprintf(err, errlen,
                 "java.lang.IllegalStateException: RegisterExecutor(appId=%s, execId=%s) refused: "
                 "%llu executors are registered, the limit set by max_executors",
                 app, exec, (unsigned long long)all);
    } else if (clash >= 0) {
        why = RESOLVER_REFUSED_DIR_OWNED;
        snprintf(err, errlen,
                 "java.lang.SecurityException: RegisterExecutor(appId=%s, execId=%s) refused: "
                 "local dir %s (%s) is, or is above or inside, a dir owned by another "
                 "application; a local dir belongs to one application until it is removed",
                 app, exec, info->local_dirs[clash], dirs[clash]);
    }
    if (canon.canonical_dirs) {
        for (uint32_t i = 0; i < canon.n_dirs; i++)
            free(canon.canonical_dirs[i]);
        free(canon.canonical_dirs);
    }
    return why;
}

bool resolver_dir_owned_by_other(struct resolver *r, const char *app, const char *canonical)
{
    char *one[1] = {(char *)canonical};
    pthread_rwlock_rdlock(&r->lock);
    int clash = tenants_conflict(r->tenants, app, one, 1);
    pthread_rwlock_unlock(&r->lock);
    return clash >= 0;
}

size_t resolver_count(struct resolver *r)
{
    pthread_rwlock_rdlock(&r->lock);
    size_t n = r->count;
    pthread_rwlock_unlock(&r->lock);
    return n;
}

void resolver_foreach(struct resolver *r,
                      void (*fn)(void *arg, const char *app, const char *exec,
                                 const struct executor_info *info),
                      void *arg)
{
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct reg *g = r->buckets[i]; g; g = g->next)
            fn(arg, g->app, g->exec, &g->info);
    pthread_rwlock_unlock(&r->lock);
}

void resolver_not_registered(const char *app, const char *exec, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "java.lang.RuntimeException: Executor is not registered (appId=%s, execId=%s)", app,
             exec);
}

int resolver_file_path_id(struct resolver *r, const char *app, const char *exec, const char *name,
                          char *buf, size_t buflen, uint64_t *id, char *err, size_t errlen)
{
    int rc = -1;
    pthread_rwlock_rdlock(&r->lock);
    struct reg *g = *find_slot(r, app, exec, key_hash(app, exec));
    if (g && id)
        *id = g->id;
    if (!g) {
        resolver_not_registered(app, exec, err, errlen);
    } else if (placement_path((const char *const *)g->info.local_dirs, g->info.n_dirs,
                              g->info.sub_dirs, name, buf, buflen) < 0) {
        snprintf(err, errlen, "java.io.IOException: path of %s is too long or dirs are invalid",
                 name);
    } else {
        rc = 0;
    }
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

int resolver_file_path(struct resolver *r, const char *app, const char *exec, const char *name,
                       char *buf, size_t buflen, char *err, size_t errlen)
{
    return resolver_file_path_id(r, app, exec, name, buf, buflen, NULL, err, errlen);
}

uint64_t resolver_epoch(struct resolver *r)
{
    return atomic_load_explicit(&r->epoch, memory_order_acquire);
}

uint64_t resolver_registration_id(struct resolver *r, const char *app, const char *exec)
{
    pthread_rwlock_rdlock(&r->lock);
    struct reg *g = *find_slot(r, app, exec, key_hash(app, exec));
    uint64_t id = g ? g->id : 0;
    pthread_rwlock_unlock(&r->lock);
    return id;
}

struct map_output_cache *resolver_open_maps(struct resolver *r)
{
    return r->open_maps;
}

void resolver_forget_open_files(struct resolver *r, const char *app, const char *exec)
{
    uint64_t id = resolver_registration_id(r, app, exec);
    if (id)
        map_output_cache_drop_registration(r->open_maps, id);
}
