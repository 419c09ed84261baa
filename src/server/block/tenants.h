/* SPDX-License-Identifier: Apache-2.0 */
/* What each application holds, for the registration limits and dir ownership (beyond Spark):
 * how many executors it has registered, and which local dirs (canonical paths) it owns.
 *
 * A dir is owned by every application that registered it; a registration naming a dir that
 * equals, contains or lies inside a dir owned by another application is refused (see
 * tenants_conflict). Ownership is counted per (executor, dir), so re-registrations and
 * executors sharing dirs within one application add and drop cleanly.
 *
 * Not thread-safe: the resolver guards it with its lock. Lookups cost O(depth of the path)
 * hash probes, whatever the number of applications and dirs. */
#ifndef SHUFFLED_SERVER_TENANTS_H
#define SHUFFLED_SERVER_TENANTS_H

#include <stdbool.h>
#include <stdint.h>

struct tenants;

struct tenants *tenants_create(void);
void tenants_destroy(struct tenants *t);

/* Executors of app, and of every application. */
uint64_t tenants_executors(const struct tenants *t, const char *app);
uint64_t tenants_executors_total(const struct tenants *t);
/* Counts one executor more (+1) or less (-1) for app. 0, or -1 out of memory. */
int tenants_count_executor(struct tenants *t, const char *app, int delta);

/* app takes (or drops) one hold on each of dirs (canonical paths). Add returns 0, or -1 out
 * of memory with nothing added. */
int tenants_hold_dirs(struct tenants *t, const char *app, char *const *dirs, uint32_t n);
void tenants_drop_dirs(struct tenants *t, const char *app, char *const *dirs, uint32_t n);

/* The index of the first of dirs that equals, contains or lies inside a dir held by an
 * application other than app; -1 if none does. */
int tenants_conflict(const struct tenants *t, const char *app, char *const *dirs, uint32_t n);

/* The canonical form of dir for ownership: its realpath, or, when it does not resolve (not
 * created yet), the path itself without repeated or trailing slashes. malloc'd; NULL when out
 * of memory. Touches the disk: blocking-I/O pool or start-up only. */
char *tenants_canonical_dir(const char *dir);

#endif
