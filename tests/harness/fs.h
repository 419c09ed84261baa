/* Files for tests: fresh temp dirs, recursive removal, whole-file reads and writes. */
#ifndef SHUFFLED_TESTS_HARNESS_FS_H
#define SHUFFLED_TESTS_HARNESS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh directory $TMPDIR/shuffled-test-XXXXXX (malloc'd path), NULL on failure. The caller
 * removes it with harness_rm_rf and frees the path. */
char *harness_temp_dir(void);
/* Removes path and, for a directory, everything below it; symlinks are removed, never
 * followed. 0, or -1 if something could not be removed. A missing path is not an error. */
int harness_rm_rf(const char *path);
/* 0, or -1 if the file could not be written whole. */
int harness_write_file(const char *path, const void *data, size_t len);
/* The whole file (malloc'd, never NULL for an empty file), NULL if it cannot be read. */
uint8_t *harness_read_file(const char *path, size_t *len);
/* True if path names anything, a dangling symlink included. */
bool harness_path_exists(const char *path);

#endif
