/* Shared helpers of the libshuffle tests: see client_util.h. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_util.h"
#include "shuffle/sync.h"

const char *shared_dir(void)
{
    const char *d = getenv("SHUFFLE_SHARED_DIR");
    return d && *d ? d : "../shared";
}

void load_vectors_manifest(struct manifest *m)
{
    char path[1024], data[1024];
    snprintf(path, sizeof(path), "%s/vectors/manifest.tsv", shared_dir());
    snprintf(data, sizeof(data), "%s/vectors/data", shared_dir());
    if (manifest_load(m, path, "/tmp/shuffle-vectors/data", data) != 0) {
        fprintf(stderr, "cannot load %s (set SHUFFLE_SHARED_DIR)\n", path);
        exit(1);
    }
}

uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

void collector_init(struct collector *c, const struct manifest *man, size_t n)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->man = man;
    c->n = n;
    c->count = calloc(n, sizeof(int));
    c->status = calloc(n, sizeof(int));
    c->error = calloc(n, sizeof(char *));
    c->verified = calloc(n, sizeof(bool));
}

void collector_free(struct collector *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->error[i]);
    free(c->count);
    free(c->status);
    free(c->error);
    free(c->verified);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

void collector_on_block(void *arg, const struct shuffle_block *b)
{
    struct collector *c = arg;
    bool ok = false;
    if (b->status == SHUFFLE_OK && c->man) {
        uint64_t want_len = 0;
        uint8_t *want = manifest_read(c->man, b->block_id, &want_len);
        size_t got_len = (size_t)b->len;
        uint8_t *got = NULL;
        const uint8_t *gp = b->data;
        if (b->path) {
            got = read_file(b->path, &got_len);
            gp = got;
        }
        ok = want && got_len == want_len && b->len == want_len &&
             (want_len == 0 || (gp && !memcmp(gp, want, want_len)));
        free(want);
        free(got);
    }
    pthread_mutex_lock(&c->lock);
    if (b->index < c->n) {
        c->count[b->index]++;
        c->status[b->index] = b->status;
        c->verified[b->index] = ok;
        if (b->error && !c->error[b->index])
            c->error[b->index] = strdup(b->error);
        if (b->path)
            c->via_file++;
    }
    pthread_mutex_unlock(&c->lock);
}

void collector_on_done(void *arg, size_t delivered, size_t failed)
{
    struct collector *c = arg;
    pthread_mutex_lock(&c->lock);
    c->done_calls++;
    c->done_delivered = delivered;
    c->done_failed = failed;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void collector_wait(struct collector *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->done_calls == 0)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

void collector_fetch(struct collector *col, shuffle_client *cl, const struct manifest *man,
                     int port, const char *app_id, const char *const *ids, size_t n,
                     const uint64_t *sizes)
{
    collector_init(col, man, n);
    struct shuffle_fetch_request r;
    shuffle_fetch_request_init(&r);
    r.host = "127.0.0.1";
    r.port = port;
    r.app_id = app_id;
    r.exec_id = "1";
    r.block_ids = ids;
    r.num_blocks = n;
    r.sizes = sizes;
    r.on_block = collector_on_block;
    r.on_done = collector_on_done;
    r.arg = col;
    ck_assert_int_eq(shuffle_fetch_blocks(cl, &r), SHUFFLE_OK);
    collector_wait(col);
    ck_assert_int_eq(col->done_calls, 1);
}

void collector_assert_all_ok(const struct collector *col, const char *const *ids)
{
    for (size_t i = 0; i < col->n; i++) {
        ck_assert_msg(col->count[i] == 1, "%s delivered %d times", ids[i], col->count[i]);
        ck_assert_msg(col->status[i] == SHUFFLE_OK, "%s: %s", ids[i], col->error[i]);
        ck_assert_msg(col->verified[i], "%s: bytes differ from the data file", ids[i]);
    }
    ck_assert_uint_eq(col->done_failed, 0);
}

int register_executor_sync(shuffle_client *c, int port, const char *app, const char *exec,
                           const char *const *dirs, size_t num_dirs)
{
    struct shuffle_executor_info info;
    shuffle_executor_info_init(&info);
    info.app_id = app;
    info.exec_id = exec;
    info.local_dirs = dirs;
    info.num_dirs = num_dirs;
    info.sub_dirs_per_local_dir = 64;
    info.shuffle_manager = "org.apache.spark.shuffle.sort.SortShuffleManager";
    return shuffle_register_executor_sync(c, "127.0.0.1", port, &info);
}
