/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the libshuffle tests: see client_util.h. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_util.h"

void load_vectors_manifest(struct manifest *m)
{
    char path[1024], data[1024];
    snprintf(path, sizeof(path), "%s/vectors/manifest.tsv", harness_shared_dir());
    snprintf(data, sizeof(data), "%s/vectors/data", harness_shared_dir());
    if (manifest_load(m, path, "/tmp/shuffle-vectors/data", data) != 0) {
        fprintf(stderr, "cannot load %s (set SHUFFLE_SHARED_DIR)\n", path);
        exit(1);
    }
}

int load_vectors35_manifest(struct manifest *m)
{
    char path[1024], data[1024];
    snprintf(path, sizeof(path), "%s/vectors-35/data/manifest.tsv", harness_shared_dir());
    snprintf(data, sizeof(data), "%s/vectors-35/data", harness_shared_dir());
    if (manifest_load(m, path, "/tmp/shuffle-vectors-35/data", data) != 0) {
        printf("SKIP: cannot load %s\n", path);
        return -1;
    }
    return 0;
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
            got = harness_read_file(b->path, &got_len);
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

void collector_fetch(struct collector *c, shuffle_client *cl, const struct manifest *man,
                     const char *host, int port, const char *app, const char *exec,
                     const char *const *ids, size_t n, const uint64_t *sizes)
{
    collector_init(c, man, n);
    struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                      .host = host,
                                      .port = port,
                                      .app_id = app,
                                      .exec_id = exec,
                                      .block_ids = ids,
                                      .num_blocks = n,
                                      .sizes = sizes,
                                      .on_block = collector_on_block,
                                      .on_done = collector_on_done,
                                      .arg = c};
    ck_assert_msg(shuffle_fetch_blocks(cl, &r) == SHUFFLE_OK, "%s", shuffle_last_error(cl));
}

void collector_fetch_wait(struct collector *c, shuffle_client *cl, const struct manifest *man,
                          const char *host, int port, const char *app, const char *exec,
                          const char *const *ids, size_t n, const uint64_t *sizes)
{
    collector_fetch(c, cl, man, host, port, app, exec, ids, n, sizes);
    collector_wait(c);
    ck_assert_int_eq(c->done_calls, 1);
}

void collector_assert_all_ok(const struct collector *c, const char *const *ids)
{
    for (size_t i = 0; i < c->n; i++) {
        ck_assert_msg(c->count[i] == 1, "%s delivered %d times", ids[i], c->count[i]);
        ck_assert_msg(c->status[i] == SHUFFLE_OK, "%s: %s", ids[i], c->error[i]);
        ck_assert_msg(c->verified[i], "%s: bytes differ from the data file", ids[i]);
    }
    ck_assert_uint_eq(c->done_failed, 0);
}

void collector_assert_all_failed(const struct collector *c, int status, const char *needle)
{
    for (size_t i = 0; i < c->n; i++) {
        ck_assert_int_eq(c->count[i], 1);
        ck_assert_int_eq(c->status[i], status);
        ck_assert_msg(c->error[i] && strstr(c->error[i], needle), "error '%s' lacks '%s'",
                      c->error[i], needle);
    }
}

struct local_dirs_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    struct local_dirs_answer *out;
};

static void on_local_dirs(void *arg, int status, const char *error,
                          const struct shuffle_local_dirs *d)
{
    struct local_dirs_wait *w = arg;
    pthread_mutex_lock(&w->lock);
    w->out->status = status;
    snprintf(w->out->err, sizeof(w->out->err), "%s", error ? error : "");
    if (d) {
        w->out->num_execs = d->num_execs;
        if (d->num_execs) {
            w->out->num_dirs0 = d->num_dirs[0];
            if (d->num_dirs[0])
                snprintf(w->out->dir0, sizeof(w->out->dir0), "%s", d->dirs[0][0]);
        }
    }
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void local_dirs_get(shuffle_client *cl, int port, const char *app, const char *const *execs,
                    size_t n, struct local_dirs_answer *out)
{
    memset(out, 0, sizeof(*out));
    struct local_dirs_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, out};
    ck_assert_msg(shuffle_get_local_dirs(cl, "127.0.0.1", port, app, execs, n, on_local_dirs, &w) ==
                      SHUFFLE_OK,
                  "%s", shuffle_last_error(cl));
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
}
