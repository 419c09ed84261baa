/* SPDX-License-Identifier: Apache-2.0 */
/* See fs.h. */
#include <config.h>

#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *harness_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof(tmpl), "%s/shuffled-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

int harness_temp_dir_into(char *buf, size_t buflen)
{
    char *made = harness_temp_dir();
    if (!made)
        return -1;
    int n = snprintf(buf, buflen, "%s", made);
    bool fits = n >= 0 && (size_t)n < buflen;
    if (!fits)
        harness_rm_rf(made);
    free(made);
    return fits ? 0 : -1;
}

static char *test_dir;

const char *harness_test_dir(void)
{
    if (!test_dir && !(test_dir = harness_temp_dir())) {
        fprintf(stderr, "cannot make a temp dir for the test (TMPDIR)\n");
        abort();
    }
    return test_dir;
}

void harness_test_dir_release(void)
{
    if (test_dir)
        harness_rm_rf(test_dir);
    free(test_dir);
    test_dir = NULL;
}

int harness_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : -1;
    chmod(path, 0700); /* a test may have taken its own permissions away */
    int rc = 0;
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *child = malloc(len);
        snprintf(child, len, "%s/%s", path, e->d_name);
        if (harness_rm_rf(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(dir);
    return rmdir(path) == 0 ? rc : -1;
}

int harness_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t written = fwrite(data, 1, len, f);
    return fclose(f) == 0 && written == len ? 0 : -1;
}

uint8_t *harness_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int harness_make_sparse_file(const char *path, uint64_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = ftruncate(fd, (off_t)size);
    return close(fd) == 0 && rc == 0 ? 0 : -1;
}

uint8_t *harness_write_random_file(const char *path, size_t len, uint64_t seed)
{
    uint8_t *bytes = malloc(len ? len : 1);
    uint64_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes[i] = (uint8_t)x;
    }
    if (harness_write_file(path, bytes, len) != 0) {
        free(bytes);
        return NULL;
    }
    return bytes;
}

bool harness_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Makes dir's sub dirs 00 .. sub_dirs-1; with existing_ok, ones already there are kept. */
static int make_sub_dirs(const char *dir, int sub_dirs, bool existing_ok)
{
    for (int i = 0; i < sub_dirs; i++) {
        char sub[4096];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%02x", dir, i) >= sizeof sub)
            return -1;
        if (mkdir(sub, 0700) != 0 && !(existing_ok && errno == EEXIST))
            return -1;
    }
    return 0;
}

int harness_make_block_dir(const char *dir, int sub_dirs)
{
    if (mkdir(dir, 0700) != 0)
        return -1;
    return make_sub_dirs(dir, sub_dirs, false);
}

int harness_fill_block_dir(const char *dir, int sub_dirs)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return make_sub_dirs(dir, sub_dirs, true);
}

size_t harness_count_files(const char *dir, const char *name_prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t count = 0, prefix_len = strlen(name_prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            count += harness_count_files(path, name_prefix);
        else if (S_ISREG(st.st_mode) && strncmp(e->d_name, name_prefix, prefix_len) == 0)
            count++;
    }
    closedir(d);
    return count;
}
