/* Shared helpers of the libshuffle tests: where the vectors are, and a block
 * collector that counts deliveries per block and checks their bytes against the
 * vectors' data files. */
#ifndef TESTS_CLIENT_UTIL_H
#define TESTS_CLIENT_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"
#include "shuffle/client.h"

const char *shared_dir(void);
/* Loads ../shared/vectors/manifest.tsv with paths moved to the real data dir. */
void load_vectors_manifest(struct manifest *m);
/* Reads a whole file (malloc'd), NULL if missing. */
uint8_t *read_file(const char *path, size_t *len);

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
/* Fetches ids from 127.0.0.1:port (app_id, executor "1"; sizes optional) and waits
 * for on_done, asserting it ran once; man checks the bytes. The collector is the
 * caller's to check and free. */
void collector_fetch(struct collector *col, shuffle_client *cl, const struct manifest *man,
                     int port, const char *app_id, const char *const *ids, size_t n,
                     const uint64_t *sizes);
/* Every block delivered exactly once, OK, with its manifest bytes; none failed. */
void collector_assert_all_ok(const struct collector *col, const char *const *ids);

/* RegisterExecutor (blocking) of app/exec at 127.0.0.1:port with dirs, 64 sub dirs
 * and Spark's sort shuffle manager; the status (error: shuffle_last_error(c)). */
int register_executor_sync(shuffle_client *c, int port, const char *app, const char *exec,
                           const char *const *dirs, size_t num_dirs);

#endif
