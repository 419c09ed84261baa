/* SPDX-License-Identifier: Apache-2.0 */
/* One RPC connection, accepted or made, on the env's loop thread: frames read with the
 * protocol's decoder and handed up by kind (requests and one-way messages, answers), answers
 * written back. Either side may send requests on it. All calls on the loop thread. */
#ifndef SHUFFLE_CLIENT_RPCENV_CONN_H
#define SHUFFLE_CLIENT_RPCENV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct link;
struct evbuffer;
struct rpc_conn;

struct rpc_conn_handler {
    /* An RpcRequest (request_id >= 0) or OneWayMessage (request_id -1); body borrowed for the
     * call. Must not free the connection. */
    void (*on_request)(void *ctx, struct rpc_conn *c, int64_t request_id, const uint8_t *body,
                       size_t len);
    /* An RpcResponse (error NULL, body) or RpcFailure (error, error_len). Must not free c. */
    void (*on_answer)(void *ctx, struct rpc_conn *c, int64_t request_id, const char *error,
                      size_t error_len, const uint8_t *body, size_t len);
    /* Every frame of one read was handed over (to post what was gathered). Must not free c. */
    void (*on_read_end)(void *ctx, struct rpc_conn *c);
    /* The output fell below the low-water mark (more may be written). Must not free c. */
    void (*on_drained)(void *ctx, struct rpc_conn *c);
    /* The peer closed, a read or write failed, or a frame was malformed. The handler frees
     * c (rpc_conn_free) here or later; nothing else arrives. */
    void (*on_close)(void *ctx, struct rpc_conn *c, const char *why);
};

/* Takes bev (connected). remote names the peer ("host:port") in texts. */
struct rpc_conn *rpc_conn_new(struct bufferevent *bev, const char *remote, uint64_t id,
                              const struct rpc_conn_handler *h, void *ctx,
                              uint64_t max_frame_bytes);
/* Closes the socket (output not yet written is lost); no callback runs. */
void rpc_conn_free(struct rpc_conn *c);

uint64_t rpc_conn_id(const struct rpc_conn *c);
const char *rpc_conn_remote(const struct rpc_conn *c);
bool rpc_conn_authenticated(const struct rpc_conn *c);
void rpc_conn_set_authenticated(struct rpc_conn *c);
/* State the owner keeps with the connection (the accepting side's SASL session), released
 * with release(state) when replaced or when the connection is freed. */
void rpc_conn_attach(struct rpc_conn *c, void *state, void (*release)(void *state));
void *rpc_conn_attachment(const struct rpc_conn *c);
/* Puts a cipher under every later byte (taken from l, which ends plain), from the next byte
 * read and written; call it between frames, right after the handshake's last message. The
 * bytes already read past that message (none from a conforming peer) close the connection.
 * 0, or -1 without memory (l destroyed; the socket is shut down, so the connection closes). */
int rpc_conn_set_link(struct rpc_conn *c, struct link *l);
/* Stops reading the socket (paused) or starts again: the peer's bytes wait in the kernel's
 * buffers meanwhile. Frames already read are handed up as before. */
void rpc_conn_pause_reading(struct rpc_conn *c, bool paused);
/* Bytes written and not yet sent. */
size_t rpc_conn_output_len(const struct rpc_conn *c);
/* Moves all of buf to the output (no copy). */
void rpc_conn_write_buffer(struct rpc_conn *c, struct evbuffer *buf);
void rpc_conn_write(struct rpc_conn *c, const void *data, size_t len);
/* An RpcResponse (error NULL) or RpcFailure answering request_id. */
void rpc_conn_answer(struct rpc_conn *c, int64_t request_id, const char *error, const uint8_t *body,
                     size_t len);

#endif
