/* Spark's cleanup semantics; see cleanup.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fdatasync, openat, strdup under -std=c11 */
#endif
#include "server/block/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

long remove_tree(const char *path, bool (*keep)(const char *name, void *arg), void *arg)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 1 : 0;
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    long n = clean_children(dfd, keep, arg, 0);
    bool empty = dir_is_empty(dfd);
    close(dfd);
    if (empty)
        rmdir(path);
    return n;
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
    for (size_t i = 0; i < n; i++) {
        if (delete_dirs)
            for (uint32_t k = 0; k < infos[i].n_dirs; k++)
                remove_tree(infos[i].local_dirs[k], NULL, NULL);
        executor_info_free(&infos[i]);
    }
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
        n += remove_tree(info.local_dirs[k], keep_served, &fetch_rdd_enabled);
    executor_info_free(&info);
    return n;
}
