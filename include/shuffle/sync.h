/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle blocking API: each call starts the asynchronous operation and waits
 * for it. Safe from any thread except the client's own loop thread (that is, not
 * from inside a callback), where it returns SHUFFLE_EINVAL. */
#ifndef SHUFFLE_SYNC_H
#define SHUFFLE_SYNC_H

#include "shuffle/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One fetched block, owned by the caller through shuffle_fetch_results_free(). The
 * library fills an array of these, so this layout is frozen for the soname: a later
 * version that needs more adds a new struct and function. */
struct shuffle_fetch_result {
    int status;
    char *error;   /* NULL on success */
    uint8_t *data; /* malloc'd block bytes (NULL for an empty block or a file) */
    uint64_t len;
    char *path; /* fetch-to-file: the file now belongs to the caller */
};

/* Fetches r->block_ids (r->on_block/on_done/arg are ignored). On return, *out holds
 * r->num_blocks results in request order. Returns SHUFFLE_OK when every block arrived,
 * else the status of the first failed block, whose error is then shuffle_last_error(c)
 * (results are filled either way), or an argument error with *out == NULL. */
int shuffle_fetch_blocks_sync(shuffle_client *c, const struct shuffle_fetch_request *r,
                              struct shuffle_fetch_result **out);
void shuffle_fetch_results_free(struct shuffle_fetch_result *res, size_t n);

/* Each returns the operation's status; on failure shuffle_last_error(c) holds the
 * error its callback would have received. */
int shuffle_register_executor_sync(shuffle_client *c, const char *host, int port,
                                   const struct shuffle_executor_info *info);

int shuffle_remove_blocks_sync(shuffle_client *c, const char *host, int port, const char *app_id,
                               const char *exec_id, const char *const *block_ids, size_t num_blocks,
                               int *num_removed);

/* rpc reply bytes: *reply is malloc'd (free() it). */
int shuffle_rpc_sync(shuffle_client *c, const char *host, int port, const void *body, size_t len,
                     uint8_t **reply, size_t *reply_len);

#ifdef __cplusplus
}
#endif

#endif
