/* SPDX-License-Identifier: Apache-2.0 */
/* Files for tests: fresh temp dirs, recursive removal, whole-file reads and writes. */
#ifndef SHUFFLED_TESTS_HARNESS_FS_H
#define SHUFFLED_TESTS_HARNESS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh directory $TMPDIR/shuffled-test-XXXXXX (malloc'd path), NULL on failure. The caller
 * removes it with harness_rm_rf and frees the path. */
char *harness_temp_dir(void);
/* harness_temp_dir, its path written into buf: 0, or -1 when none could be made or its path
 * does not fit (nothing is then left behind). */
int harness_temp_dir_into(char *buf, size_t buflen);
/* The running test's own temp dir, made at the first call in a test; a failure to make one
 * aborts. check_add_case (tests/check_main.h) removes it after each test. */
const char *harness_test_dir(void);
/* Removes the running test's temp dir, if it made one, with everything in it. */
void harness_test_dir_release(void);
/* Removes path and, for a directory, everything below it; symlinks are removed, never
 * followed. 0, or -1 if something could not be removed. A missing path is not an error. */
int harness_rm_rf(const char *path);
/* 0, or -1 if the file could not be written whole. */
int harness_write_file(const char *path, const void *data, size_t len);
/* The whole file (malloc'd, never NULL for an empty file), NULL if it cannot be read. */
uint8_t *harness_read_file(const char *path, size_t *len);
/* Creates (or truncates) path as a sparse file of size zero bytes. 0 or -1. */
int harness_make_sparse_file(const char *path, uint64_t size);
/* Writes len pseudo-random bytes (xorshift64 from seed) to path; the bytes (malloc'd), NULL
 * if the file could not be written. */
uint8_t *harness_write_random_file(const char *path, size_t len, uint64_t seed);
/* The regular files below dir (recursively) whose names start with name_prefix; symlinks are
 * not followed. A missing dir counts 0. */
size_t harness_count_files(const char *dir, const char *name_prefix);
/* Makes dir (mode 0700) with sub_dirs sub directories named 00, 01, .. (two hex digits),
 * the shape of an executor's block dir or merge dir. 0, or -1 if one could not be made. */
int harness_make_block_dir(const char *dir, int sub_dirs);
/* harness_make_block_dir for a dir that may exist already (an executor's merge dir, a copied
 * one): dir and its sub dirs are made where missing, what is there is kept. 0 or -1. */
int harness_fill_block_dir(const char *dir, int sub_dirs);
/* True if path names anything, a dangling symlink included. */
bool harness_path_exists(const char *path);

#endif
