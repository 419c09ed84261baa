/* One client connection (Spark's TransportClient + TransportResponseHandler):
 * pipelined requests, responses matched to outstanding RPCs by request id, to
 * chunk fetches by (stream id, chunk index) and to stream requests in FIFO order;
 * connect timeout; request timeout with Spark's semantics (no traffic for the
 * timeout while requests are outstanding fails all of them and closes).
 *
 * Requests made while the connection is still being set up are registered and
 * their bytes queued (the outbox); they go out once connected, or all fail with
 * the connect error. Every registered request gets exactly one callback. */
#ifndef SHUFFLE_CLIENT_TRANSPORT_H
#define SHUFFLE_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/internal.h"

struct tconn;

/* status/err as in shuffle.h; body valid during the call. */
typedef void (*tconn_reply_fn)(void *arg, int status, const char *err, const uint8_t *body,
                               size_t len);

struct tconn_stream_cb {
    int (*on_start)(void *arg, uint64_t byte_count);            /* nonzero: abort (local failure) */
    int (*on_data)(void *arg, const uint8_t *data, size_t len); /* nonzero: abort */
    void (*on_done)(void *arg, int status, const char *err);
    void *arg;
};

/* Starts connecting. Never NULL except out of memory; a failure to even start the
 * connect is reported asynchronously like any connect failure. The caller holds
 * one reference. request_timeout_ms 0 disables the request timeout. */
struct tconn *tconn_new(shuffle_client *c, const char *host, int port, int connect_timeout_ms,
                        int request_timeout_ms);
/* A connection that never connects: every request queued on it fails with
 * SHUFFLE_EIO and the text why (e.g. the pool's fast fail). */
struct tconn *tconn_new_failed(shuffle_client *c, const char *host, int port, const char *why);
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
const char *tconn_peer(const struct tconn *t);

/* Each returns 0 (the callback will run exactly once, never from inside this
 * call), or -1 if the connection is already closed (no callback). */
int tconn_rpc(struct tconn *t, const uint8_t *body, size_t len, tconn_reply_fn fn, void *arg);
int tconn_oneway(struct tconn *t, const uint8_t *body, size_t len);
int tconn_fetch_chunk(struct tconn *t, int64_t stream_id, int32_t chunk_index, tconn_reply_fn fn,
                      void *arg);
int tconn_fetch_stream(struct tconn *t, const char *stream_id, const struct tconn_stream_cb *cb);

/* Authentication (auth.c). A connection made while the client has auth options holds every
 * request's bytes until tconn_auth_done; tconn_rpc_auth sends a handshake RPC past them. */
int tconn_rpc_auth(struct tconn *t, const uint8_t *body, size_t len, tconn_reply_fn fn, void *arg);
void tconn_auth_done(struct tconn *t);

/* Closes now: fails every outstanding request with status/why. Idempotent. */
void tconn_close(struct tconn *t, int status, const char *why);

#endif
