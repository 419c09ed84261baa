/* Small helpers shared by the block-service tests. */
#ifndef SHUFFLED_TESTS_BLOCK_UTIL_H
#define SHUFFLED_TESTS_BLOCK_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* $SHUFFLE_SHARED_DIR or ../shared beside the source tree. */
static inline const char *shared_dir(void)
{
    const char *d = getenv("SHUFFLE_SHARED_DIR");
    return d && *d ? d : "../shared";
}

/* A fresh temp dir (mkdtemp); the caller removes it with rm_rf. */
static inline char *make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s/shuffled-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline int rm_rf(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    return system(cmd);
}

static inline int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static inline int path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

#endif
