/* SPDX-License-Identifier: Apache-2.0 */
/* The dataset manifest the tools read (gen-shuffle-data's and the vectors'
 * manifest.tsv: "blockId <TAB> size <TAB> crc32 [<TAB> sha256 ...]", '#' lines
 * are comments, "#localDirs" and "#subDirsPerLocalDir" describe the executor),
 * and incremental verification of fetched bytes against it (also for batch ids
 * shuffle_S_M_A_B, whose bytes are the blocks A..B-1 back to back). */
#ifndef SHUFFLE_TOOLS_MANIFEST_CHECK_H
#define SHUFFLE_TOOLS_MANIFEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shuffle/client.h"
#include "tools/checksum.h"

struct mblock {
    char *id;
    uint64_t size;
    bool has_crc, has_sha;
    uint32_t crc32;
    uint8_t sha256[32];
};

struct mlist {
    struct mblock *b;
    size_t n;
    char **local_dirs;
    size_t num_dirs;
    int sub_dirs; /* 0 if the manifest does not say */
    /* id -> index hash */
    size_t *slots;
    size_t cap;
};

int mlist_load(struct mlist *m, const char *path, char *err, size_t errlen);
void mlist_free(struct mlist *m);
const struct mblock *mlist_find(const struct mlist *m, const char *id);
/* Expected total size of id (a plain or batch id); false if unknown. */
bool mlist_size(const struct mlist *m, const char *id, uint64_t *size);
/* The RegisterExecutor info of app/exec with the manifest's local dirs (strings
 * borrowed from m), its sub dir count (default 64) and Spark's sort shuffle manager. */
void mlist_executor_info(const struct mlist *m, const char *app, const char *exec,
                         struct shuffle_executor_info *info);

/* Verifies the bytes of one fetched id as they are fed. */
struct verifier {
    const struct mlist *m;
    const struct mblock *parts[4096];
    size_t nparts, cur;
    uint64_t left; /* bytes left in parts[cur] */
    uint32_t crc;
    struct sha256 sha;
    bool bad;
    char why[200];
};
/* false (with v->why) when id is not in the manifest. */
bool verifier_start(struct verifier *v, const struct mlist *m, const char *id);
void verifier_feed(struct verifier *v, const uint8_t *data, size_t len);
/* true when every byte matched sizes and checksums; else v->why says what. Releases what a
 * successful verifier_start took: call it once after each. */
bool verifier_finish(struct verifier *v);
/* Convenience: verify a whole buffer or a file. */
bool verify_bytes(const struct mlist *m, const char *id, const uint8_t *data, size_t len, char *why,
                  size_t whylen);
bool verify_file(const struct mlist *m, const char *id, const char *path, char *why, size_t whylen);

#endif
