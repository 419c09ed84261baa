/* SPDX-License-Identifier: Apache-2.0 */
/* One client connection (Spark's TransportClient + TransportResponseHandler):
 * pipelined requests, responses matched to outstanding RPCs by request id, to
 * chunk fetches by (stream id, chunk index) and to stream requests in FIFO order;
 * connect timeout; request timeout with Spark's semantics (no traffic for the
 * timeout while requests are outstanding fails all of them and closes).
 *
 * Requests made while the connection is still being set up are registered and
 * their bytes queued (the outbox); they go out once connected, or all fail with
 * the connect error. Every registered request gets exactly one callback.
 *
 * With credentials in its environment, a connection first runs the authentication
 * phase (auth.c) and holds every request's bytes until that succeeds; a refusal or
 * a round trip over the auth timeout closes it, failing them all. */
#ifndef SHUFFLE_CLIENT_TRANSPORT_H
#define SHUFFLE_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/request_cb.h"

struct tconn;
struct event_base;
struct resolver;
struct client_rng;
struct auth_creds;
struct client_tls;

/* What every connection of a client shares; owned by the client, used on its loop. */
struct tconn_env {
    struct event_base *base;
    struct resolver *resolver;
    struct client_rng *rng;        /* request ids */
    uint64_t max_frame_bytes;      /* 0: Java's limit */
    bool no_splice;                /* stream bytes to files: read + write, never splice */
    const struct auth_creds *auth; /* NULL or empty: no authentication */
    const struct client_tls *tls;  /* NULL: plain TCP; else TLS first (tls_link.h) */
};

/* Starts connecting. Never NULL except out of memory; a failure to even start the
 * connect is reported asynchronously like any connect failure. The caller holds
 * one reference. request_timeout_ms 0 disables the request timeout. */
struct tconn *tconn_new(const struct tconn_env *env, const char *host, int port,
                        int connect_timeout_ms, int request_timeout_ms);
/* A connection that never connects: every request queued on it fails with
 * SHUFFLE_EIO and the text why (e.g. the pool's fast fail). */
struct tconn *tconn_new_failed(const struct tconn_env *env, const char *host, int port,
                               const char *why);
void tconn_ref(struct tconn *t);
void tconn_unref(struct tconn *t);
/* Called once when the connection closes for any reason (before the outstanding
 * requests are failed). */
void tconn_on_close(struct tconn *t, void (*fn)(void *arg, struct tconn *t), void *arg);

/* Called once with the outcome of the connect: ok when it is up, !ok when it
 * failed with an I/O error (refused, timed out, unresolvable). Not called when the
 * connection is closed by its owner while connecting. */
void tconn_on_connect_result(struct tconn *t, void (*fn)(void *arg, bool ok), void *arg);

bool tconn_is_active(const struct tconn *t);
/* Requests sent (or queued to be sent) on t and not yet answered. */
size_t tconn_outstanding(const struct tconn *t);
const char *tconn_peer(const struct tconn *t);

/* Each returns 0 (the callback will run exactly once, never from inside this
 * call), or -1 if the connection is already closed (no callback). */
int tconn_rpc(struct tconn *t, const uint8_t *body, size_t len, tconn_reply_fn fn, void *arg);
int tconn_oneway(struct tconn *t, const uint8_t *body, size_t len);
int tconn_fetch_chunk(struct tconn *t, int64_t stream_id, int32_t chunk_index, tconn_reply_fn fn,
                      void *arg);
int tconn_fetch_stream(struct tconn *t, const char *stream_id, const struct tconn_stream_cb *cb);
/* The bytes sent after an UploadStream frame, by reference (no copy on a plain link).
 * release(data, len, release_arg) runs exactly once when the connection no longer reads
 * them: written to the socket, copied by a cipher, or dropped by the close. That may be
 * after the request's reply (a server may answer before it read the body), and may be
 * from inside tconn_upload_stream (a cipher's copy, a failure). Same type as libevent's
 * evbuffer_ref_cleanup_cb. */
typedef void (*tconn_body_release_fn)(const void *data, size_t len, void *release_arg);
struct tconn_body {
    const uint8_t *data;
    size_t len;
    tconn_body_release_fn release;
    void *release_arg;
};
/* UploadStream (push-based shuffle): meta is the PushBlockStream, body the block's
 * bytes, which must stay valid until body->release ran (not merely until fn ran).
 * The reply is an RpcResponse or RpcFailure with the request's id. */
int tconn_upload_stream(struct tconn *t, const uint8_t *meta, size_t meta_len,
                        const struct tconn_body *body, tconn_reply_fn fn, void *arg);
/* MergedBlockMetaRequest: fn gets, on success, the MergedBlockMetaSuccess from its
 * numChunks on (i32 numChunks, then the chunk bitmaps back to back). */
int tconn_merged_meta(struct tconn *t, const char *app_id, int32_t shuffle_id,
                      int32_t shuffle_merge_id, int32_t reduce_id, tconn_reply_fn fn, void *arg);
/* Whether the connection was ever up (a failure before that is a connect failure). */
bool tconn_was_connected(const struct tconn *t);

/* Closes now: fails every outstanding request with status/why. Idempotent. */
void tconn_close(struct tconn *t, int status, const char *why);

#endif
