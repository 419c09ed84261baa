/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle speaks exactly as Spark 3.1.2's own client: for each recorded
 * scenario in ../shared/vectors, the client is asked to do what Spark's client
 * was asked (scenario.txt), against the fake service started with the recorded
 * stream id base, and every frame it sends must equal the recorded c2s frames
 * byte for byte (request ids aside); every block must arrive with its bytes, or
 * fail where Spark's failed. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/client.h"
#include "client_util.h"
#include "fake_ess.h"
#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "../check_main.h"

static const char *scenarios[] = {
    "register-executor",
    "openblocks-chunkfetch",
    "openblocks-rdd",
    "fetchshuffleblocks",
    "fetchshuffleblocks-batch",
    "large-chunkfetch",
    "stream-to-disk",
    "stream-to-disk-openblocks",
    "error-missing-block",
    "error-missing-block-openblocks",
    "error-missing-block-stream",
    "remove-blocks",
    "get-local-dirs",
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static struct manifest man;

struct call {
    char cmd[32];
    char app[64], exec[64];
    bool old_protocol, to_disk;
    char *ids[64];
    bool ok[64];
    size_t n;
    char *execs[8];
    size_t nexecs;
};

static void split_csv(char *s, char **out, size_t *n, size_t max)
{
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t && *n < max; t = strtok_r(NULL, ",", &save))
        out[(*n)++] = strdup(t);
}

static void parse_scenario(const char *name, struct call *c)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/vectors/%s/scenario.txt", harness_shared_dir(), name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    memset(c, 0, sizeof(*c));
    char line[4096];
    bool seen_call = false, seen_result = false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        char *p = strstr(line, "ExternalBlockStoreClient): ");
        if (p && !seen_call) {
            seen_call = true;
            p += strlen("ExternalBlockStoreClient): ");
            char *save = NULL;
            char *tok = strtok_r(p, " ", &save);
            snprintf(c->cmd, sizeof(c->cmd), "%s", tok);
            char *blocks = NULL, *execs = NULL;
            while ((tok = strtok_r(NULL, " ", &save))) {
                if (!strcmp(tok, "--app"))
                    snprintf(c->app, sizeof(c->app), "%s", strtok_r(NULL, " ", &save));
                else if (!strcmp(tok, "--exec"))
                    snprintf(c->exec, sizeof(c->exec), "%s", strtok_r(NULL, " ", &save));
                else if (!strcmp(tok, "--old-protocol"))
                    c->old_protocol = true;
                else if (!strcmp(tok, "--to-disk"))
                    c->to_disk = true;
                else if (!strcmp(tok, "--blocks"))
                    blocks = strtok_r(NULL, " ", &save);
                else if (!strcmp(tok, "--execs"))
                    execs = strtok_r(NULL, " ", &save);
            }
            if (execs)
                split_csv(execs, c->execs, &c->nexecs, 8);
            if (blocks && strcmp(c->cmd, "fetch") != 0)
                split_csv(blocks, c->ids, &c->n, 64);
            continue;
        }
        /* the blocks as the client reported them (batch ids already merged) */
        char id[128];
        if (!seen_result && !strcmp(c->cmd, "fetch") &&
            (sscanf(line, "  | OK %127s", id) == 1 || sscanf(line, "  | FAIL %127s", id) == 1)) {
            c->ok[c->n] = strstr(line, "| OK") != NULL;
            c->ids[c->n++] = strdup(id);
        }
        if (strstr(line, " passed, "))
            seen_result = true; /* the listing repeats: keep the first */
    }
    fclose(f);
    ck_assert_msg(seen_call, "%s: no client call line", name);
}

static void free_call(struct call *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->ids[i]);
    for (size_t i = 0; i < c->nexecs; i++)
        free(c->execs[i]);
}

/* ---- frame lists ---- */

struct frames {
    char *item[256]; /* "type|hex(content)" with the RpcRequest id masked */
    size_t n;
};

static int collect_frame(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    struct frames *fl = ctx;
    if (ev != FRAME_MESSAGE || fl->n >= 256)
        return 0;
    size_t len = out->content_len;
    char *s = malloc(2 * len + 8);
    int k = sprintf(s, "%02x|", out->type);
    for (size_t i = 0; i < len; i++) {
        bool masked = out->type == PROTO_RPC_REQUEST && i < 8;
        k += sprintf(s + k, "%02x", masked ? 0 : out->content[i]);
    }
    fl->item[fl->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_frames(const uint8_t *data, size_t len, struct frames *fl)
{
    char err[200];
    memset(fl, 0, sizeof(*fl));
    ck_assert_msg(frame_scan(data, len, 0, collect_frame, fl, err, sizeof(err)) == 0, "%s", err);
    qsort(fl->item, fl->n, sizeof(char *), cmp_str);
}

static void free_frames(struct frames *fl)
{
    for (size_t i = 0; i < fl->n; i++)
        free(fl->item[i]);
}

static int find_handle(void *ctx, enum frame_event ev, const struct frame_out *out)
{
    int64_t *sid = ctx;
    struct proto_msg m;
    char err[100];
    if (*sid || ev != FRAME_MESSAGE || out->type != PROTO_RPC_RESPONSE ||
        proto_msg_decode(out->type, out->content, out->content_len, &m, err, sizeof(err)))
        return 0;
    struct blockmsg b;
    memset(&b, 0, sizeof(b));
    if (blockmsg_decode(m.u.rpc.body.data, m.u.rpc.body.len, &b, err, sizeof(err)) == 0 &&
        b.type == BLOCKMSG_STREAM_HANDLE)
        *sid = b.u.stream_handle.stream_id;
    blockmsg_free(&b);
    return 0;
}

static int64_t recorded_stream_base(const char *name)
{
    char path[1024], err[100];
    snprintf(path, sizeof(path), "%s/vectors/%s/s2c.bin", harness_shared_dir(), name);
    size_t len;
    uint8_t *data = harness_read_file(path, &len);
    ck_assert(data != NULL);
    int64_t sid = 0;
    frame_scan(data, len, 0, find_handle, &sid, err, sizeof(err));
    free(data);
    return sid;
}

/* ---- running one scenario ---- */

static void run_fetch(shuffle_client *cl, int port, struct call *c)
{
    /* one fetch per shuffle id, in order of first appearance (as the recording) */
    size_t started = 0;
    bool used[64] = {0};
    struct collector *parts[8];
    size_t part_index[8][64], nparts = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (used[i])
            continue;
        const char *ids[64];
        size_t k = 0;
        bool is_shuffle = !strncmp(c->ids[i], "shuffle_", 8);
        size_t plen = is_shuffle ? strcspn(c->ids[i] + 8, "_") + 8 : 0;
        for (size_t j = i; j < c->n; j++) {
            bool same = is_shuffle ? !strncmp(c->ids[j], c->ids[i], plen + 1)
                                   : strncmp(c->ids[j], "shuffle_", 8) != 0;
            if (!used[j] && same) {
                used[j] = true;
                part_index[nparts][k] = j;
                ids[k++] = c->ids[j];
            }
        }
        parts[nparts] = calloc(1, sizeof(struct collector));
        collector_init(parts[nparts], &man, k);
        struct shuffle_fetch_request r = {.struct_size = sizeof(r),
                                          .host = "127.0.0.1",
                                          .port = port,
                                          .app_id = c->app,
                                          .exec_id = c->exec,
                                          .block_ids = ids,
                                          .num_blocks = k,
                                          .on_block = collector_on_block,
                                          .on_done = collector_on_done,
                                          .arg = parts[nparts]};
        ck_assert_int_eq(shuffle_fetch_blocks(cl, &r), SHUFFLE_OK);
        nparts++;
        started += k;
    }
    ck_assert_uint_eq(started, c->n);
    for (size_t p = 0; p < nparts; p++) {
        collector_wait(parts[p]);
        for (size_t j = 0; j < parts[p]->n; j++) {
            size_t i = part_index[p][j];
            ck_assert_int_eq(parts[p]->count[j], 1);
            if (c->ok[i]) {
                ck_assert_msg(parts[p]->status[j] == SHUFFLE_OK, "%s: %s", c->ids[i],
                              parts[p]->error[j]);
                ck_assert_msg(parts[p]->verified[j], "%s: wrong bytes", c->ids[i]);
            } else {
                ck_assert_int_eq(parts[p]->status[j], SHUFFLE_ESERVER);
            }
        }
        /* with --to-disk every block that arrived came through a file */
        int ok_blocks = 0;
        for (size_t j = 0; j < parts[p]->n; j++)
            ok_blocks += parts[p]->status[j] == SHUFFLE_OK;
        if (c->to_disk)
            ck_assert_int_eq(parts[p]->via_file, ok_blocks);
        collector_free(parts[p]);
        free(parts[p]);
    }
}

static void local_dirs_check(shuffle_client *cl, int port, const char *app, char **execs, size_t n,
                             const struct manifest *m)
{
    struct local_dirs_answer a;
    local_dirs_get(cl, port, app, (const char *const *)execs, n, &a);
    ck_assert_int_eq(a.status, SHUFFLE_OK);
    ck_assert_uint_eq(a.num_execs, n);
    ck_assert_uint_eq(a.num_dirs0, m->num_dirs);
    ck_assert_str_eq(a.dir0, m->local_dirs[0]);
}

START_TEST(test_vector_frames)
{
    const char *name = scenarios[_i];
    struct call c;
    parse_scenario(name, &c);
    struct fake_ess_opts fo = {.manifest = &man, .first_stream_id = recorded_stream_base(name)};
    struct fake_ess *fs = fake_ess_start(&fo);
    ck_assert(fs != NULL);
    int port = fake_ess_port(fs);

    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.use_old_fetch_protocol = c.old_protocol;
    o.fetch_to_file_bytes = c.to_disk ? 0 : UINT64_MAX;
    o.max_retries = 0;
    shuffle_client *cl = harness_client_with(&o);

    if (!strcmp(c.cmd, "fetch")) {
        run_fetch(cl, port, &c);
    } else if (!strcmp(c.cmd, "register")) {
        /* the recorded paths, so the bytes match */
        const char *dirs[] = {"/tmp/shuffle-vectors/data/blockmgr-0",
                              "/tmp/shuffle-vectors/data/blockmgr-1"};
        ck_assert_msg(harness_register_executor(cl, port, c.app, c.exec, dirs, 2, NULL) ==
                          SHUFFLE_OK,
                      "%s", shuffle_last_error(cl));
    } else if (!strcmp(c.cmd, "remove-blocks")) {
        int removed = -1;
        ck_assert_int_eq(shuffle_remove_blocks_sync(cl, "127.0.0.1", port, c.app, c.exec,
                                                    (const char *const *)c.ids, c.n, &removed),
                         SHUFFLE_OK);
        ck_assert_int_eq(removed, 1); /* rdd_3_1 exists, rdd_3_9 does not */
    } else if (!strcmp(c.cmd, "get-local-dirs")) {
        local_dirs_check(cl, port, c.app, c.execs, c.nexecs, &man);
    } else {
        ck_abort_msg("unknown command %s", c.cmd);
    }
    shuffle_client_free(cl);
    fake_ess_halt(fs);

    ck_assert_int_eq(fake_ess_connections(fs), 1);
    size_t got_len;
    const uint8_t *got = fake_ess_received(fs, 0, &got_len);
    char path[1024];
    snprintf(path, sizeof(path), "%s/vectors/%s/c2s.bin", harness_shared_dir(), name);
    size_t want_len;
    uint8_t *want = harness_read_file(path, &want_len);
    ck_assert(want != NULL);
    struct frames fg, fw;
    scan_frames(got, got_len, &fg);
    scan_frames(want, want_len, &fw);
    ck_assert_uint_eq(got_len, want_len);
    ck_assert_uint_eq(fg.n, fw.n);
    for (size_t i = 0; i < fw.n; i++)
        ck_assert_msg(!strcmp(fg.item[i], fw.item[i]),
                      "%s: frame differs:\n got %.300s\nwant %.300s", name, fg.item[i], fw.item[i]);
    free_frames(&fg);
    free_frames(&fw);
    free(want);
    fake_ess_stop(fs);
    free_call(&c);
}
END_TEST

int main(void)
{
    check_require_shared_vectors();
    load_vectors_manifest(&man);
    int status = check_main(&(struct check_case){.suite = "client_vectors",
                                                 .name = "frames",
                                                 .timeout_s = 60,
                                                 .loops = (int)NSCEN,
                                                 .looped = {test_vector_frames}},
                            CHECK_TESTS(test_vector_frames));
    manifest_free(&man);
    return status;
}
