/* SPDX-License-Identifier: Apache-2.0 */
/* The last phase of every connection: routes each decoded message by its type. RpcRequest
 * and OneWayMessage go to the installed service (handler.h); other request types go to the
 * handler registered for them at start (the stream manager registers ChunkFetchRequest and
 * StreamRequest); UploadStream and MergedBlockMetaRequest without a handler are refused as
 * Spark 3.1 does; response types are ignored, as Spark does. */
#ifndef SHUFFLED_SERVER_NET_DISPATCH_H
#define SHUFFLED_SERVER_NET_DISPATCH_H

#include "proto/message.h"
#include "server/net/conn.h"

struct rpc_handler;
struct dispatch;

typedef void (*dispatch_fn)(void *ctx, struct conn *c, const struct proto_msg *m);

/* NULL when out of memory. rpc: the service (borrowed). */
struct dispatch *dispatch_create(struct rpc_handler *rpc);
void dispatch_destroy(struct dispatch *d);
/* Sends messages of type to fn (replacing what was there). Before the workers start. */
void dispatch_route(struct dispatch *d, enum proto_msg_type type, dispatch_fn fn, void *ctx);
/* Spark 3.1's answer to an UploadStream it cannot take (an RpcFailure naming the reason),
 * then the connection closes: its after-frame body cannot be skipped reliably. */
void dispatch_refuse_upload(struct conn *c, const struct proto_msg *m);
/* The phase to install as every connection's base (conn_create). */
struct conn_phase dispatch_phase(struct dispatch *d);

#endif
