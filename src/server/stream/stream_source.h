/* SPDX-License-Identifier: Apache-2.0 */
/* What a service registers as a stream (protocol.md 6): how many chunks, and how each one
 * resolves to bytes (a file segment, memory, or missing), on the blocking pool or, when the
 * service can answer from its caches, on the event loop. */
#ifndef SHUFFLED_SERVER_STREAM_STREAM_SOURCE_H
#define SHUFFLED_SERVER_STREAM_STREAM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one chunk resolves to. */
struct chunk_segment {
    enum chunk_kind { CHUNK_FILE, CHUNK_MEMORY, CHUNK_MISSING, CHUNK_OPEN_FILE } kind;
    char *path; /* CHUNK_FILE: malloc'd; the server opens it just before sending,
                   checks the file holds [offset, offset+length) and sends it with sendfile;
                   missing/short -> ChunkFetchFailure/StreamFailure with a clear message */
    uint64_t offset, length;
    bool no_symlinks; /* CHUNK_FILE: path is canonical and was checked against allowed roots:
                         open it refusing symlinks (file_open.h) */
    void *data;       /* CHUNK_MEMORY: malloc'd bytes (length), freed by the server */
    /* CHUNK_OPEN_FILE: a file already open and checked to hold [offset, offset+length); the
     * server sends it and calls release(owner, fd) once done (close(fd) if release is NULL) */
    int fd;
    void (*release)(void *owner, int fd);
    void *owner;
};
/* CHUNK_MISSING -> "java.lang.IllegalStateException: Chunk was not found" (ChunkFetch) or
 * "Stream '<id>' was not found." (Stream), as Spark does for a missing rdd block. */

/* Resolves chunk `index` of a stream. Always called on the blocking-I/O pool (it may read index
 * files), never concurrently for the same stream, in chunk order. Returns 0 with *seg filled, or
 * -1 with err holding the Java-style error text for ChunkFetchFailure/StreamFailure. */
typedef int (*chunk_resolve_fn)(void *stream_ctx, uint32_t index, struct chunk_segment *seg,
                                char *err, size_t errlen);

/* Optional: resolves chunk `index` on the event loop, if that needs no disk wait (everything
 * it needs is cached): 0 with *seg filled (CHUNK_OPEN_FILE, or a kind needing no disk),
 * -1 with err (as resolve), or 1: not cached, resolve on the blocking pool instead. Same
 * ordering rules as resolve. */
typedef int (*chunk_resolve_fast_fn)(void *stream_ctx, uint32_t index, struct chunk_segment *seg,
                                     char *err, size_t errlen);

struct stream_source {
    void *ctx;
    uint32_t num_chunks;
    chunk_resolve_fn resolve;
    chunk_resolve_fast_fn resolve_fast; /* NULL: always on the pool */
    size_t mem_bytes; /* what ctx occupies: counted against max_stream_bytes(_per_connection) */
    void (*free_ctx)(void *ctx); /* called exactly once when the stream is dropped */
};

/* At most this many chunks (a stream of 0 chunks counts 1) registered and not yet handed out
 * on one connection: streams a client opens but never fetches cannot grow without bound. */
#define STREAM_MAX_REGISTERED_CHUNKS (1u << 20)

#endif
