/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking protocol client for the integration tests. */
#ifndef SHUFFLED_TESTS_TCLIENT_H
#define SHUFFLED_TESTS_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../harness/daemon.h"
#include "proto/message.h"

/* Starts the test build of the daemon (tests/integration/shuffled-test, with the test
 * service) in a fresh temp dir, with extra JSON members (may be NULL). 0 or -1. */
int tdaemon_start(struct harness_daemon *d, const char *extra_json);

int tc_connect(int port);  /* blocking TCP socket with 60 s receive timeout, or -1 */
int tc_connect6(int port); /* the same over [::1] */
int tc_send_all(int fd, const void *buf, size_t len);
int tc_send_msg(int fd, const struct proto_msg *m);
int tc_send_rpc(int fd, int64_t request_id, const void *body, size_t len);
int tc_send_fetch(int fd, int64_t stream_id, int32_t index);
int tc_send_stream(int fd, const char *name);
/* Appends the frame of m to buf (for pipelining many frames in one write). */
void tc_append_msg(struct proto_writer *w, const struct proto_msg *m);
/* Appends ChunkFetchRequest(stream_id, i) for i from 0 to count - 1. */
void tc_append_fetches(struct proto_writer *w, int64_t stream_id, int32_t count);

uint64_t tc_hash(uint64_t h, const void *data, size_t len);
#define TC_HASH_INIT 0xcbf29ce484222325ULL

/* One received message. ChunkFetchSuccess bodies and StreamResponse data are not kept: they
 * are hashed while read (body_len, body_hash). */
struct tc_resp {
    struct proto_msg m;
    uint8_t *content; /* owned frame content (m's views point into it) */
    uint64_t body_len, body_hash;
};
/* 0, or -1 on EOF/error/timeout (errno-ish reason in tc_last_error). */
int tc_recv(int fd, struct tc_resp *r);
void tc_resp_free(struct tc_resp *r);
/* Reads up to n raw bytes (for a client that stops mid-transfer). */
int tc_read_exact(int fd, void *buf, size_t n);
/* True if the peer closed the connection (read returns EOF or reset) within the timeout. */
bool tc_wait_closed(int fd);

/* RPC round trip; the reply body is copied to *out (malloc, may be NULL) on RpcResponse.
 * Returns 0 on RpcResponse, 1 on RpcFailure (error text copied to *out), -1 on I/O error. */
int tc_rpc(int fd, const void *body, size_t len, uint8_t **out, size_t *outlen);

/* Test service helpers (see service_test.c). */
struct tc_chunk {
    int kind; /* 0 file, 1 memory, 2 missing, 3 error */
    const char *path;
    int64_t offset, length;
    const void *data;
    uint32_t data_len;
    const char *text;
};
int64_t tc_register(int fd, const struct tc_chunk *chunks, int n);
/* Live streams and chunks in flight in the daemon. */
int tc_live(int fd, int64_t *streams, int64_t *chunks);
/* Polls (bounded) until the daemon reports 0 live streams; returns the last count. */
int64_t tc_wait_no_streams(int port);

const char *tc_last_error(void);

#endif
