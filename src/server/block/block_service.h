/* SPDX-License-Identifier: Apache-2.0 */
/* The shuffle block service (Spark's ExternalBlockHandler, protocol.md 9):
 * state shared by block_handler.c (RPC dispatch, registration, removal, dirs)
 * and block_streams.c (OpenBlocks / FetchShuffleBlocks streams). The daemon
 * gets it through shuffle_service_create() (service.h). */
#ifndef SHUFFLED_SERVER_BLOCK_SERVICE_H
#define SHUFFLED_SERVER_BLOCK_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/blockmsg.h"
#include "server/net/handler.h"
#include "server/block/app_expiry.h"
#include "server/block/registry_store.h"
#include "server/block/resolver.h"

struct block_service {
    struct rpc_handler handler; /* first: the daemon holds &handler */
    struct resolver *res;
    struct registry_store *store;
    struct app_expiry *expiry; /* app_ttl_ms, and every application's removal */
    bool fetch_rdd_enabled;
    struct root_set *roots; /* the newest allowed_local_dir_roots set (resolver_roots() is the
                             * one to read); older ones chained, freed at destroy */
    /* push-based shuffle (push_enabled): each application attempt's merge dirs, for the
     * merged fetch (server/push/merged_fetch.h); NULL when push is off */
    struct merge_apps *merge_apps;
    /* push-based shuffle's merging (block_push.c); NULL unless push_enabled */
    struct push_service *push;
};

/* The service behind a handler made by shuffle_service_create(). */
struct block_service *block_service_of(struct rpc_handler *h);

/* Admin actions with Spark's semantics (protocol.md 9.5); blocking (disk): call them
 * off the event loops. */
int block_service_application_removed(struct block_service *s, const char *app, bool cleanup_dirs,
                                      char *err, size_t errlen);
/* What the service keeps per application besides registrations (push-based shuffle's merge
 * state), dropped when app_expiry removes the application for any reason (an
 * app_removed_fn). */
void block_service_app_state_removed(void *arg, const char *app, bool cleanup_dirs);
long block_service_executor_removed(struct block_service *s, const char *app, const char *exec);

/* Its operations hooks (block_ops.c), installed in its rpc_handler. */
const struct admin_actions *block_service_admin_actions(void *ctx);
/* GET /admin/apps: every application, its executors, dir counts and activity, as JSON
 * (app_listing.c); malloc'd, NULL when out of memory. */
char *block_service_apps_json(void *ctx);
void block_service_collect_metrics(void *ctx);

/* RegisterExecutor (block_register.c): checked, then admitted and persisted on the blocking
 * pool before the reply. Consumes reply. */
void block_register_executor(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                             const struct blockmsg *m);

/* OpenBlocks and FetchShuffleBlocks: validate, register a lazily resolved
 * stream, reply StreamHandle. They consume reply. */
void block_open_blocks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                       const struct blockmsg *m);
void block_fetch_shuffle_blocks(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                                const struct blockmsg *m);

/* Replies with an encoded BlockTransferMessage. */
void block_reply_msg(struct rpc_reply *reply, const struct blockmsg *m);
/* Registers src as a stream of c and replies its StreamHandle, or the RpcFailure of a refused
 * registration (src.free_ctx has then run). Consumes reply. */
struct stream_source;
void block_reply_stream(struct conn *c, struct rpc_reply *reply, struct stream_source src);

/* Push-based shuffle's merging (block_push.c): started with the service when push_enabled,
 * once s->merge_apps holds the restored registrations' attempts; routed FinalizeShuffleMerge
 * and RemoveShuffleMerge (true when it took m; it then owns reply); told of removed apps. */
struct shuffled_config;
int block_push_start(struct block_service *s, const struct shuffled_config *cfg, char *err,
                     size_t errlen);
void block_push_stop(struct block_service *s);
bool block_push_rpc(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                    const struct blockmsg *m);
void block_push_app_removed(struct block_service *s, const char *app, bool cleanup);
/* A newer attempt of app registered: the older attempt's merge state and merged files go
 * (blocking: the pool, after the registration is answered). */
void block_push_attempt_replaced(struct block_service *s, const char *app);

/* A proto string as a C string if it holds no NUL and is a safe id. */
bool block_id_field_ok(const struct proto_bytes *b);

#endif
