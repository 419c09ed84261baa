/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor (issue 17): the least CPU per pushed block that any push server and any pushing
 * client spend on this machine. Shared between the floor server (push_floor_server.c) and the
 * driver with its client (push_floor.c). A measuring tool, not installed. */
#ifndef SHUFFLE_TOOLS_PUSH_FLOOR_H
#define SHUFFLE_TOOLS_PUSH_FLOOR_H

#include <stddef.h>
#include <stdint.h>

/* What the server does with each block's body. */
enum floor_mode {
    FLOOR_RECV_PWRITE, /* (a) recv into a reused buffer, pwrite-append to a fresh file */
    FLOOR_SPLICE,      /* (b) splice socket -> pipe -> file, no user-space copy */
    FLOOR_RECV_ONLY,   /* (c) recv and discard: the socket's share alone */
    FLOOR_OVERWRITE,   /* (d) as (a) into pages already in the page cache */
    FLOOR_MODES
};

/* Every block travels as this header then its body; the server answers each block with one
 * floor_ack on the same connection. Both ends run on one machine: host byte order. */
struct floor_header {
    uint32_t body_len;
    uint32_t partition;
    uint64_t block;
};

struct floor_ack {
    uint64_t block;
    uint64_t offset; /* where the body now starts in its partition's file */
};

/* Largest body a block may have (gen-shuffle-data's --max-size is far below). */
#define FLOOR_MAX_BODY (1u << 20)

struct floor_server_args {
    int listen_fd;
    int conns;           /* connections to accept */
    uint64_t blocks;     /* blocks to take before stopping */
    uint32_t partitions; /* one file per partition, kept open */
    const char *dir;     /* where the partition files live */
    enum floor_mode mode;
    int coalesce_acks; /* one send for the acks of a read callback, as the daemon answers */
};

/* What the server reports back once every block is in. */
struct floor_server_result {
    int64_t cpu_ns; /* this process's CPU (all threads) from the first accept to the last ack */
    uint64_t blocks, bytes;
    uint64_t socket_reads, waits; /* recv or splice calls on sockets, epoll_waits */
    int failed;                   /* non-zero: an error was printed to stderr */
};

/* Runs the server in the calling (child) process until args->blocks blocks were acknowledged. */
struct floor_server_result floor_serve(const struct floor_server_args *args);

/* The partition file's path: DIR/part-NNNNN.data. */
void floor_partition_path(char *out, size_t cap, const char *dir, uint32_t partition);

const char *floor_mode_name(enum floor_mode mode);

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

/* One run's figures. */
struct floor_sample {
    int64_t server_ns, client_ns;
    double wall_s;
    uint64_t socket_reads, waits; /* the server's */
};

/* push_floor_setup.c */
int floor_parse_opts(struct floor_opts *o, int argc, char **argv);
int floor_load_workload(struct floor_workload *w, const struct floor_opts *o);
void floor_free_workload(struct floor_workload *w);
/* Reads every block back from the server's files (or, recv-only, trusts the byte count). */
int floor_verify(const struct floor_workload *w, const struct floor_opts *o, enum floor_mode m);
void floor_remove_files(const struct floor_workload *w, const struct floor_opts *o);

/* push_floor_report.c */
void floor_print_header(const struct floor_workload *w, const struct floor_opts *o);
void floor_print_run(const struct floor_workload *w, enum floor_mode m, int run,
                     const struct floor_sample *s);
/* samples[mode * repeat + run] */
void floor_print_summary(const struct floor_workload *w, const struct floor_opts *o,
                         const struct floor_sample *samples);

#endif
