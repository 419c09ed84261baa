/* SPDX-License-Identifier: Apache-2.0 */
/* Which files make up the configuration, and reading them; see config_files.h. */
#include <config.h>

#include "server/ops/config_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_MAX_FILE_BYTES (64u << 20)

int config_read_text(const char *path, char **text_out, char *err, size_t errlen)
{
    *text_out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    char *text = malloc(cap);
    while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 < cap)
            continue;
        if (cap > CONFIG_MAX_FILE_BYTES) {
            snprintf(err, errlen, "%s: file is larger than 64 MiB", path);
            free(text);
            fclose(f);
            return -1;
        }
        char *bigger = realloc(text, cap * 2);
        if (!bigger) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!text || read_error) {
        snprintf(err, errlen, "%s: cannot read: %s", path, text ? "I/O error" : "out of memory");
        free(text);
        return -1;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        snprintf(err, errlen, "%s: file contains a NUL byte", path);
        free(text);
        return -1;
    }
    *text_out = text;
    return 0;
}

int config_files_add(struct config_files *files, const char *path)
{
    char *copy = strdup(path);
    char **grown = copy ? realloc(files->paths, (files->count + 1) * sizeof(char *)) : NULL;
    if (!grown) {
        free(copy);
        return -1;
    }
    files->paths = grown;
    files->paths[files->count++] = copy;
    return 0;
}

void config_files_free(struct config_files *files)
{
    for (size_t i = 0; i < files->count; i++)
        free(files->paths[i]);
    free(files->paths);
    files->paths = NULL;
    files->count = 0;
}

static int is_dropin_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int config_list_dropins(const char *dir, struct config_files *files, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot read the drop-in directory: %s", dir, strerror(errno));
        return -1;
    }
    struct config_files found = {0};
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!is_dropin_name(e->d_name))
            continue;
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            snprintf(err, errlen, "%s/%s: path too long", dir, e->d_name);
            rc = -1;
        } else if (stat(path, &st) != 0) {
            snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
            rc = -1;
        } else if (!S_ISREG(st.st_mode)) {
            continue; /* a directory or device named *.json is not a drop-in */
        } else if (found.count == CONFIG_MAX_DROPINS) {
            snprintf(err, errlen, "%s: more than %d drop-in files", dir, CONFIG_MAX_DROPINS);
            rc = -1;
        } else if (config_files_add(&found, path) != 0) {
            snprintf(err, errlen, "%s: out of memory", dir);
            rc = -1;
        }
        errno = 0;
    }
    if (rc == 0 && errno != 0) {
        snprintf(err, errlen, "%s: cannot read the drop-in directory: %s", dir, strerror(errno));
        rc = -1;
    }
    closedir(d);
    if (found.count)
        qsort(found.paths, found.count, sizeof(char *), by_name);
    for (size_t i = 0; rc == 0 && i < found.count; i++) {
        if (config_files_add(files, found.paths[i]) != 0) {
            snprintf(err, errlen, "%s: out of memory", dir);
            rc = -1;
        }
    }
    config_files_free(&found);
    return rc;
}

char *config_default_dropin_dir(const char *main_path)
{
    const char *slash = strrchr(main_path, '/');
    size_t dirlen = slash ? (size_t)(slash - main_path) : 1;
    const char *dir = slash ? main_path : ".";
    if (slash && dirlen == 0)
        dirlen = 1; /* "/shuffled.json" lives in "/" */
    char *out = malloc(dirlen + sizeof "/conf.d");
    if (!out)
        return NULL;
    memcpy(out, dir, dirlen);
    strcpy(out + dirlen, dirlen == 1 && out[0] == '/' ? "conf.d" : "/conf.d");
    return out;
}
