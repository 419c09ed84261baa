/* SPDX-License-Identifier: Apache-2.0 */
/* The files a configuration is read from: the main file, then the drop-in directory's
 * *.json files in byte order of their names (as systemd and sysctl order their drop-ins). */
#ifndef SHUFFLED_SERVER_CONFIG_FILES_H
#define SHUFFLED_SERVER_CONFIG_FILES_H

#include <stddef.h>

/* Upper bound on drop-in files: a directory with more is refused (a typo'd path, not config). */
#define CONFIG_MAX_DROPINS 256

struct config_files {
    char **paths; /* in the order they are applied; paths[0] is the main file */
    size_t count;
};

/* Reads path into a NUL-terminated string (*text, free()). Returns 0, or -1 with err set
 * ("path: reason"). Files over 64 MiB or holding a NUL byte are refused. */
int config_read_text(const char *path, char **text, char *err, size_t errlen);

/* Appends to files the drop-ins of dir: names ending in ".json", not starting with '.',
 * regular files (symlinks to them count), sorted with strcmp. A missing directory has no
 * drop-ins. Returns 0, or -1 with err set. */
int config_list_dropins(const char *dir, struct config_files *files, char *err, size_t errlen);

/* The drop-in directory that goes with a main config file: "conf.d" beside it.
 * Returns a malloc'd path, or NULL when out of memory. */
char *config_default_dropin_dir(const char *main_path);

/* Appends a copy of path; 0 or -1 (out of memory). */
int config_files_add(struct config_files *files, const char *path);
void config_files_free(struct config_files *files);

#endif
