/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the libshuffle tests: the vectors' manifest, and a block
 * collector that counts deliveries per block and checks their bytes against the
 * vectors' data files. */
#ifndef TESTS_CLIENT_UTIL_H
#define TESTS_CLIENT_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "../harness/fs.h"
#include "../harness/locate.h"
#include "manifest.h"
#include "shuffle/client.h"

/* Loads ../shared/vectors/manifest.tsv with paths moved to the real data dir. */
void load_vectors_manifest(struct manifest *m);
/* The same for ../shared/vectors-35 (Spark 3.5's data set); 0, or -1 after saying why. */
int load_vectors35_manifest(struct manifest *m);

struct collector {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const struct manifest *man;
    size_t n;
    int *count; /* deliveries per block (must end at exactly 1) */
    int *status;
    char **error;
    bool *verified; /* bytes equal the manifest's */
    int via_file;
    int done_calls;
    size_t done_delivered, done_failed;
};

void collector_init(struct collector *c, const struct manifest *man, size_t n);
void collector_free(struct collector *c);
void collector_on_block(void *arg, const struct shuffle_block *b);
void collector_on_done(void *arg, size_t delivered, size_t failed);
void collector_wait(struct collector *c);
/* Starts fetching n ids of app/exec from host:port with cl (sizes may be NULL) into c, made
 * here for man. */
void collector_fetch(struct collector *c, shuffle_client *cl, const struct manifest *man,
                     const char *host, int port, const char *app, const char *exec,
                     const char *const *ids, size_t n, const uint64_t *sizes);
/* collector_fetch, then waits for on_done, asserting it ran once. The collector is the
 * caller's to check and free. */
void collector_fetch_wait(struct collector *c, shuffle_client *cl, const struct manifest *man,
                          const char *host, int port, const char *app, const char *exec,
                          const char *const *ids, size_t n, const uint64_t *sizes);
/* What a GetLocalDirsForExecutors answered: its status and error text, how many executors
 * and the first one's dirs (their count, the first). */
struct local_dirs_answer {
    int status;
    char err[1024];
    size_t num_execs, num_dirs0;
    char dir0[512];
};
/* GetLocalDirsForExecutors(app, execs) at 127.0.0.1:port with cl, waited for. */
void local_dirs_get(shuffle_client *cl, int port, const char *app, const char *const *execs,
                    size_t n, struct local_dirs_answer *out);
/* Each block delivered exactly once, OK, with the manifest's bytes; none failed. */
void collector_assert_all_ok(const struct collector *c, const char *const *ids);
/* Each block delivered exactly once with status and an error text holding needle. */
void collector_assert_all_failed(const struct collector *c, int status, const char *needle);

#endif
