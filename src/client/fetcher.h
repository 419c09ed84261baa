/* SPDX-License-Identifier: Apache-2.0 */
/* One fetch attempt of a list of blocks from one server, on one connection
 * (Spark's OneForOneBlockFetcher): OpenBlocks or FetchShuffleBlocks, then every
 * chunk requested at once, each as a ChunkFetchRequest (in memory) or a
 * StreamRequest written to a temp file as the bytes arrive. A failure of chunk i
 * fails every block from chunk i on that is not yet delivered. */
#ifndef SHUFFLE_CLIENT_FETCHER_H
#define SHUFFLE_CLIENT_FETCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/internal.h"
#include "client/transport.h"

struct fetch_listener {
    /* data/len valid during the call; or path of a temp file (the listener
     * removes it when done with it). */
    void (*on_ok)(void *arg, size_t pos, const uint8_t *data, uint64_t len, const char *path);
    void (*on_fail)(void *arg, size_t pos, int status, const char *err);
    void *arg;
};

struct fetch_attempt;

/* ids[i] is reported to the listener as position pos[i]; to_file[i] selects the
 * stream path for it. Returns NULL with *status and err set when the request
 * cannot even be built (bad ids: SHUFFLE_EINVAL), in which case no listener call
 * happens. Listener calls never happen from inside this call. */
struct fetch_attempt *fetch_attempt_start(shuffle_client *c, struct tconn *t, const char *app_id,
                                          const char *exec_id, const char *const *ids,
                                          const size_t *pos, const bool *to_file, size_t n,
                                          const struct fetch_listener *l, int *status, char *err,
                                          size_t errlen);
/* No listener call after this; the attempt frees itself once its connection has
 * answered or dropped its outstanding requests. */
void fetch_attempt_detach(struct fetch_attempt *a);

#endif
