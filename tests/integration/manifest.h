/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: the vectors' manifest.tsv (block id, size, crc32, sha256, file,
 * offset) with file paths moved from /tmp/shuffle-vectors/data to a real dir. */
#ifndef TESTS_MANIFEST_H
#define TESTS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct manifest_entry {
    char *id;
    uint64_t size;
    uint32_t crc32;
    char *file;
    uint64_t offset;
};

struct manifest {
    struct manifest_entry *e;
    size_t n;
    char **local_dirs;
    size_t num_dirs;
};

/* Loads path; paths under recorded_root are rewritten to data_root. */
int manifest_load(struct manifest *m, const char *path, const char *recorded_root,
                  const char *data_root);
void manifest_free(struct manifest *m);
const struct manifest_entry *manifest_find(const struct manifest *m, const char *id);
/* Resolves a block id (shuffle_S_M_R, batch shuffle_S_M_A_B, rdd_R_S) to a file
 * segment. Returns false when unknown. */
bool manifest_resolve(const struct manifest *m, const char *id, const char **file, uint64_t *offset,
                      uint64_t *len);
/* The expected bytes of id (malloc'd), or NULL. */
uint8_t *manifest_read(const struct manifest *m, const char *id, uint64_t *len);

#endif
