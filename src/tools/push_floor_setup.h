/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's set-up (push_floor_setup.c): its options, the workload a manifest names, the
 * check of the server's files and their removal. */
#ifndef SHUFFLE_TOOLS_PUSH_FLOOR_SETUP_H
#define SHUFFLE_TOOLS_PUSH_FLOOR_SETUP_H

#include <stdint.h>

#include "tools/push_floor_server.h"

/* One block of the workload: where the client reads it, where the server put it. */
struct floor_block {
    uint32_t file;      /* index into floor_workload.files */
    uint32_t partition; /* the reduce id */
    uint32_t len;
    uint64_t src_off;
    uint64_t dest_off; /* from the block's ack */
};

/* Every non-empty block of a manifest, in its order (map by map, as the bench pushes). */
struct floor_workload {
    struct floor_block *blocks;
    uint64_t count, bytes;
    uint32_t partitions;
    int *files;       /* the shuffle data files, open for pread */
    uint8_t **bodies; /* from_memory: every block's bytes */
    char **paths;
    uint32_t nfiles;
};

struct floor_opts {
    const char *manifest, *dir;
    int conns, in_flight, repeat, verify;
    int from_memory;        /* the client sends from memory (as the bench's does), no pread */
    int coalesce_acks;      /* see floor_server_args */
    uint64_t max_blocks;    /* 0: all */
    int modes[FLOOR_MODES]; /* which server modes run */
    double daemon_run, client_run; /* bench-push-libshuffle's us per block, 0 if not given */
};

int floor_parse_opts(struct floor_opts *o, int argc, char **argv);
int floor_load_workload(struct floor_workload *w, const struct floor_opts *o);
void floor_free_workload(struct floor_workload *w);
/* Reads every block back from the server's files (or, recv-only, trusts the byte count). */
int floor_verify(const struct floor_workload *w, const struct floor_opts *o, enum floor_mode m);
void floor_remove_files(const struct floor_workload *w, const struct floor_opts *o);

#endif
