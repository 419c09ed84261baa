/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor's server (push_floor_server.c) and the wire between it and push-floor's client
 * (push_floor.c): the bottom of the tool. A measuring tool, not installed. */
#ifndef SHUFFLE_TOOLS_PUSH_FLOOR_SERVER_H
#define SHUFFLE_TOOLS_PUSH_FLOOR_SERVER_H

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

#endif
