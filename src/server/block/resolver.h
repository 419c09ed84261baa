/* SPDX-License-Identifier: Apache-2.0 */
/* Executor registry and block resolution (Spark's ExternalShuffleBlockResolver).
 *
 * The registry maps (appId, execId) to the executor's ExecutorShuffleInfo; it is
 * read-mostly and guarded by a rwlock (resolver.c). Resolution (resolver_locate.c) turns a
 * block into a file segment using Spark's placement (placement.h) and the index cache; it
 * reads index files, so it runs only on the blocking-I/O pool. */
#ifndef SHUFFLED_SERVER_RESOLVER_H
#define SHUFFLED_SERVER_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct executor_info {
    char **local_dirs;
    uint32_t n_dirs;
    int32_t sub_dirs;
    char *shuffle_manager;
    /* n_dirs canonical forms of local_dirs (tenants_canonical_dir), the dirs the application
     * owns; NULL until the resolver computes them at registration. Not persisted. */
    char **canonical_dirs;
};

/* Deep copy; returns -1 on allocation failure (dst is then zeroed). */
int executor_info_copy(struct executor_info *dst, const struct executor_info *src);
void executor_info_free(struct executor_info *info);

struct resolver;

struct resolver *resolver_create(uint64_t index_cache_bytes);
void resolver_destroy(struct resolver *r);

/* Stores a deep copy of info; a re-registration overwrites. 0 or -1 (ENOMEM). The
 * application takes ownership of the dirs (canonical forms: info's, else computed here, which
 * touches the disk). No limit is checked: see resolver_admit. */
int resolver_register(struct resolver *r, const char *app, const char *exec,
                      const struct executor_info *info);

/* Registration limits (beyond Spark); 0 = none. May be changed from any thread. */
void resolver_set_limits(struct resolver *r, uint64_t max_executors_per_app,
                         uint64_t max_executors);
/* Why a registration is refused (resolver_admit). */
enum resolver_refusal {
    RESOLVER_ADMITTED = 0,
    RESOLVER_REFUSED_PER_APP,   /* max_executors_per_app reached */
    RESOLVER_REFUSED_TOTAL,     /* max_executors reached */
    RESOLVER_REFUSED_DIR_OWNED, /* a dir overlaps one owned by another application */
    RESOLVER_NO_MEMORY
};
/* Whether app/exec may register info now: a re-registration never counts against the
 * limits; each dir (canonical: info's if set, else computed, touching the disk) must not
 * equal, contain or lie inside a dir owned by another application. RESOLVER_ADMITTED, or the
 * refusal with err holding the RpcFailure text. Callers serialise admit + register (the
 * registry store's lock). */
enum resolver_refusal resolver_admit(struct resolver *r, const char *app, const char *exec,
                                     const struct executor_info *info, char *err, size_t errlen);
/* True when canonical dir equals, contains or lies inside a dir owned by an application other
 * than app. */
bool resolver_dir_owned_by_other(struct resolver *r, const char *app, const char *canonical);
/* Fills info->canonical_dirs if missing. 0, or -1 out of memory. Touches the disk. */
int resolver_canonicalize(struct executor_info *info);
/* Copies the registration into *out (free with executor_info_free). 0, or -1 if
 * the executor is not registered. */
int resolver_get(struct resolver *r, const char *app, const char *exec, struct executor_info *out);
/* Removes every executor of app; returns how many, and (if out != NULL) hands
 * their infos over in a malloc'd array (free each, then the array). Without out the app's
 * dirs are released at once; with out they stay owned by app (so no other application can
 * register them while they are being deleted) until resolver_release_dirs() on those infos. */
size_t resolver_remove_app(struct resolver *r, const char *app, struct executor_info **out);
/* Releases the dirs of infos handed over by resolver_remove_app(app). */
void resolver_release_dirs(struct resolver *r, const char *app, const struct executor_info *infos,
                           size_t n);
size_t resolver_count(struct resolver *r);
/* Calls fn for every registration, under the read lock (fn must not call back). */
void resolver_foreach(struct resolver *r,
                      void (*fn)(void *arg, const char *app, const char *exec,
                                 const struct executor_info *info),
                      void *arg);

/* Spark's text for an unknown executor. */
void resolver_not_registered(const char *app, const char *exec, char *err, size_t errlen);

/* Path of file `name` placed among the executor's dirs. 0, or -1 with err. */
int resolver_file_path(struct resolver *r, const char *app, const char *exec, const char *name,
                       char *buf, size_t buflen, char *err, size_t errlen);
/* resolver_file_path, also giving the registration's id (*id; id may be NULL) from the same
 * look-up. */
int resolver_file_path_id(struct resolver *r, const char *app, const char *exec, const char *name,
                          char *buf, size_t buflen, uint64_t *id, char *err, size_t errlen);

/* ---- block resolution (resolver_locate.c) ---- */

struct block_location {
    char *path; /* malloc'd; NULL when missing */
    uint64_t offset, length;
    bool missing;     /* rdd block whose file does not exist (Spark's null buffer) */
    bool no_symlinks; /* path was checked against allowed roots: open it refusing symlinks */
};

/* Reduces [start, end) of map output (shuffle, map): the data file and its
 * byte range. 0, or -1 with Spark's error text (not registered, index missing,
 * out of range...). */
int resolver_shuffle_range(struct resolver *r, const char *app, const char *exec,
                           int32_t shuffle_id, int64_t map_id, int32_t start, int32_t end,
                           struct block_location *loc, char *err, size_t errlen);
/* rdd_R_S: the whole file; a missing file sets loc->missing. */
int resolver_rdd_block(struct resolver *r, const char *app, const char *exec, int32_t rdd_id,
                       int32_t split_index, struct block_location *loc, char *err, size_t errlen);

struct index_cache *resolver_index_cache(struct resolver *r);

/* ---- the fast path's support (map_output_cache.h) ---- */
struct map_output;
struct map_output_cache;
/* Changes whenever a registration is replaced or removed (a cached registration id is still
 * current while the epoch it was read under is). */
uint64_t resolver_epoch(struct resolver *r);
/* The id of app/exec's current registration, 0 when not registered. */
uint64_t resolver_registration_id(struct resolver *r, const char *app, const char *exec);
struct map_output_cache *resolver_open_maps(struct resolver *r);
/* Closes the kept-open files of app/exec's registration (its files are being deleted). */
void resolver_forget_open_files(struct resolver *r, const char *app, const char *exec);
/* resolver_shuffle_range, opening the data file through the open map outputs: 0 with *out a
 * referenced entry (loc->offset/length set, loc->path NULL) and *reg_id the registration's
 * id; or 0 with *out NULL and loc->path set when the file cannot be kept open (open it by
 * path); or -1 with Spark's error text. Blocking: pool threads only. */
int resolver_shuffle_open(struct resolver *r, const char *app, const char *exec, int32_t shuffle_id,
                          int64_t map_id, int32_t start, int32_t end, struct block_location *loc,
                          struct map_output **out, uint64_t *reg_id, char *err, size_t errlen);

/* A realpath'ed allowed_local_dir_roots list (n == 0: any dir). Immutable once published;
 * a replaced set stays allocated (chained through older) until the service is destroyed. */
struct root_set {
    struct root_set *older;
    size_t n;
    char *dirs[];
};

/* True if the canonical path real lies in one of roots (realpath'ed dirs). */
bool path_under_roots(char *const *roots, size_t nroots, const char *real);
/* Confines resolution to allowed_local_dir_roots (borrowed; NULL or n == 0 = no limit): every
 * index, data and rdd file is realpath'ed (so a symlink planted in a local dir cannot point
 * out of them) and opened by that canonical path. May be called again (SIGHUP) from any
 * thread: each resolution uses the set current when it starts. */
void resolver_set_roots(struct resolver *r, const struct root_set *roots);
/* The current set (NULL = none set); load it once per decision. */
const struct root_set *resolver_roots(struct resolver *r);
/* With roots set, replaces path (a buffer of pathlen bytes) by its canonical form, or fails
 * (err set, in Spark's SecurityException form) if that lies outside every root. A path that
 * does not resolve (missing file) is left as it is: opening it fails the usual way. Returns 1
 * when roots are set (the path must then be opened refusing symlinks, so that the check still
 * holds at the open), 0 when not, -1 outside. */
int resolver_confine_path(struct resolver *r, char *path, size_t pathlen, char *err, size_t errlen);

#endif
