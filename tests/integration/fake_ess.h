/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted stand-in for Spark's External Shuffle Service, for client tests:
 * listens on 127.0.0.1 (ephemeral port), answers RegisterExecutor, OpenBlocks,
 * FetchShuffleBlocks (streams of chunks served from the vectors' data files as
 * Spark serves them, in order), ChunkFetchRequest, StreamRequest, RemoveBlocks
 * and GetLocalDirsForExecutors like Spark 3.1.2 does, and can misbehave on
 * purpose. It records every byte each client connection sent. */
#ifndef TESTS_FAKE_ESS_H
#define TESTS_FAKE_ESS_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct fake_ess_opts {
    const struct manifest *manifest;
    int64_t first_stream_id; /* 0: a random-ish base like Spark's */
    int silent;              /* read everything, answer nothing */
    int silent_first;        /* the same on the first connection only */
    int close_after_chunks;  /* close a connection after sending this many chunk/stream
                                replies ... */
    int close_conns;         /* ... on the first close_conns connections (-1: all) */
    int close_on_accept;     /* close the first N connections at once (-1: all) */
    const char *fetch_error; /* answer OpenBlocks/FetchShuffleBlocks with RpcFailure(text) */
    int garbage;             /* answer the first RPC with bytes that are no frame */
    int wrong_reply;         /* answer fetches with BlocksRemoved, not a StreamHandle */
    int dribble;             /* replies go out in random pieces of 1..dribble bytes, the
                                thread yielding between them (0: whole writes) */
    int drop_mid_body;       /* on the first connection, the first chunk or stream reply
                                stops halfway through its body and the connection closes */
};

struct fake_ess;

struct fake_ess *fake_ess_start(const struct fake_ess_opts *o);
int fake_ess_port(const struct fake_ess *f);
/* Stops accepting, closes every connection and joins the threads: after this,
 * fake_ess_received() is stable. */
void fake_ess_halt(struct fake_ess *f);
void fake_ess_stop(struct fake_ess *f); /* halts and frees */

/* Counters (read after the client finished; they are atomics). */
int fake_ess_connections(struct fake_ess *f);
int fake_ess_fetch_rpcs(struct fake_ess *f);
int fake_ess_stream_requests(struct fake_ess *f); /* StreamRequests received */
/* Number of blocks asked for by the k-th fetch RPC (OpenBlocks ids or
 * FetchShuffleBlocks reduce entries), or -1. */
int fake_ess_fetch_rpc_blocks(struct fake_ess *f, int k);
/* Bytes received on connection k (valid until fake_ess_stop). */
const uint8_t *fake_ess_received(struct fake_ess *f, int k, size_t *len);

#endif
