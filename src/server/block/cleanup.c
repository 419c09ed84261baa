/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's cleanup semantics; see cleanup.h. */
#include <config.h>

#include "server/block/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "server/stream/file_open.h"

#define MAX_DEPTH 64

static bool dir_is_empty(int dfd)
{
    int fd = dup(dfd);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    rewinddir(d);
    bool empty = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

/* Deletes the children of the open directory dfd that keep() does not spare;
 * returns the number of non-directory entries deleted. */
static long clean_children(int dfd, bool (*keep)(const char *, void *), void *arg, int depth)
{
    long n = 0;
    int fd = dup(dfd);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (keep && keep(name, arg))
            continue;
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= MAX_DEPTH)
                continue;
            int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0)
                continue;
            n += clean_children(cfd, keep, arg, depth + 1);
            bool empty = dir_is_empty(cfd);
            close(cfd);
            if (empty)
                unlinkat(dfd, name, AT_REMOVEDIR);
        } else if (unlinkat(dfd, name, 0) == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Deletes the local dir path recursively without following symlinks. With roots set, its
 * canonical parent plus its name must lie under one; everything then goes through that
 * parent's dir fd (opened refusing symlinks) and *at() calls, so no rename after the check
 * can redirect a deletion. keep(name)
 * spares a child (and everything under it) at any depth; NULL keeps nothing. A directory is
 * removed once empty. Returns the number of non-directory entries deleted. */
static long remove_local_dir(struct resolver *r, const char *local_dir,
                             bool (*keep)(const char *name, void *arg), void *arg)
{
    char path[PATH_MAX], parent_real[PATH_MAX], canonical[PATH_MAX];
    size_t len = strlen(local_dir);
    while (len > 1 && local_dir[len - 1] == '/')
        len--;
    if (len == 0 || len >= sizeof(path))
        return 0;
    memcpy(path, local_dir, len);
    path[len] = 0;
    char *slash = strrchr(path, '/');
    if (!slash) /* registered dirs are absolute */
        return 0;
    *slash = 0;
    const char *parent = slash == path ? "/" : path, *base = slash + 1;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return 0;
    /* Only the parent is resolved: the local dir itself, when a symlink, is deleted as a link
     * (as Spark's deleteRecursively does), never followed. */
    const struct root_set *roots = resolver_roots(r);
    bool confined = roots && roots->n;
    if (confined) {
        if (!realpath(parent, parent_real))
            return 0; /* gone already */
        int n = snprintf(canonical, sizeof(canonical), "%s/%s",
                         strcmp(parent_real, "/") ? parent_real : "", base);
        if (n < 0 || (size_t)n >= sizeof(canonical) ||
            !path_under_roots(roots->dirs, roots->n, canonical)) {
            log_warn("Not deleting local dir %s/%s: it is %s, outside allowed_local_dir_roots",
                     parent, base, canonical);
            return 0;
        }
        parent = parent_real;
    }
    int parent_fd = file_open_dir(parent, confined);
    if (parent_fd < 0)
        return 0;
    long n = 0;
    struct stat st;
    if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        /* already gone */
    } else if (!S_ISDIR(st.st_mode)) {
        n = unlinkat(parent_fd, base, 0) == 0 ? 1 : 0;
    } else {
        int dfd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd >= 0) {
            n = clean_children(dfd, keep, arg, 0);
            bool empty = dir_is_empty(dfd);
            close(dfd);
            if (empty)
                unlinkat(parent_fd, base, AT_REMOVEDIR);
        }
    }
    close(parent_fd);
    return n;
}

/* Whether app may delete (in) its local dir #k: the dir still resolves to what it owned at
 * registration, and no other application owns it, a dir above it or one inside it (possible
 * only for registrations restored from a log written before ownership existed, or for dirs
 * that did not exist yet when registered). */
static bool dir_is_owned(struct resolver *r, const char *app, const struct executor_info *info,
                         uint32_t k)
{
    const char *owned = info->canonical_dirs ? info->canonical_dirs[k] : NULL;
    char *now = realpath(info->local_dirs[k], NULL);
    bool moved = owned && now && strcmp(now, owned) != 0;
    bool shared = owned && resolver_dir_owned_by_other(r, app, owned);
    if (moved || shared || !owned)
        log_warn("Not deleting local dir %s of application %s: %s", info->local_dirs[k], app,
                 !owned  ? "its owner is unknown"
                 : moved ? "it resolves elsewhere than when it was registered"
                         : "another application owns it, a dir above it or one inside it");
    free(now);
    return owned && !moved && !shared;
}

int cleanup_application_removed(struct resolver *r, struct registry_store *store, const char *app,
                                bool delete_dirs, char *err, size_t errlen)
{
    struct executor_info *infos = NULL;
    size_t n = 0;
    int rc;
    if (store) { /* log and resolver updated under the store's lock, never apart */
        rc = registry_store_remove_app_take(store, app, &infos, &n, err, errlen);
    } else {
        n = resolver_remove_app(r, app, &infos);
        rc = 0;
    }
    if (rc == 0)
        rc = (int)n;
    for (size_t i = 0; delete_dirs && i < n; i++)
        for (uint32_t k = 0; k < infos[i].n_dirs; k++)
            if (dir_is_owned(r, app, &infos[i], k))
                remove_local_dir(r, infos[i].local_dirs[k], NULL, NULL);
    /* only now may another application register these dirs */
    resolver_release_dirs(r, app, infos, n);
    for (size_t i = 0; i < n; i++)
        executor_info_free(&infos[i]);
    free(infos);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool keep_served(const char *name, void *arg)
{
    bool rdd = *(const bool *)arg;
    return ends_with(name, ".index") || ends_with(name, ".data") ||
           (rdd && strncmp(name, "rdd_", 4) == 0);
}

long cleanup_executor_removed(struct resolver *r, const char *app, const char *exec,
                              bool fetch_rdd_enabled)
{
    struct executor_info info;
    if (resolver_get(r, app, exec, &info) < 0)
        return -1;
    long n = 0;
    for (uint32_t k = 0; k < info.n_dirs; k++)
        if (dir_is_owned(r, app, &info, k))
            n += remove_local_dir(r, info.local_dirs[k], keep_served, &fetch_rdd_enabled);
    executor_info_free(&info);
    resolver_forget_open_files(r, app, exec);
    return n;
}
