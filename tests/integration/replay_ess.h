/* SPDX-License-Identifier: Apache-2.0 */
/* A shuffle service that replays a recorded scenario (c2s.bin / s2c.bin of a vectors
 * directory) for client tests: listens on 127.0.0.1 (ephemeral port); each frame a client
 * sends (with an UploadStream's after-frame body) is matched to an unused recorded client
 * frame equal to it with request ids masked, and the recorded server frames that answered
 * that one are sent back with the live request id in place of the recorded one. A frame
 * with no recorded twin is counted and closes the connection. Everything each connection
 * sent is kept for the byte-for-byte comparison. */
#ifndef TESTS_REPLAY_ESS_H
#define TESTS_REPLAY_ESS_H

#include <stddef.h>
#include <stdint.h>

struct replay_ess;

/* dir: a scenario directory holding c2s.bin and s2c.bin. NULL on failure. */
struct replay_ess *replay_ess_start(const char *dir);
int replay_ess_port(const struct replay_ess *r);
/* Client frames that had no recorded twin so far. */
int replay_ess_unmatched(struct replay_ess *r);
/* Instead of a recording, fn answers each live frame (after-frame body included) on fd:
 * 0 to go on, -1 to close the connection. conn counts the connections from 0. fn runs
 * on the server's thread, one connection at a time. */
typedef int (*replay_answer_fn)(void *ctx, int fd, int conn, uint8_t type, const uint8_t *content,
                                size_t len, const uint8_t *after, size_t after_len);
struct replay_ess *replay_ess_start_scripted(replay_answer_fn fn, void *ctx);
/* Connections accepted so far. */
int replay_ess_connections(struct replay_ess *r);
/* Stops, joins and frees; the received bytes stay readable until then. */
void replay_ess_stop(struct replay_ess *r);
/* All bytes received so far, over every connection in order. */
const uint8_t *replay_ess_received(struct replay_ess *r, size_t *len);

/* A byte stream's frames as sorted strings "type|hex(content)[+hex(after-frame bytes)]",
 * the request ids of RpcRequest, UploadStream and MergedBlockMetaRequest zeroed (they are
 * random per run). *items is malloc'd, each string too (replay_frames_free). 0, or -1. */
int replay_frames(const uint8_t *data, size_t len, char ***items, size_t *n);
void replay_frames_free(char **items, size_t n);

#endif
