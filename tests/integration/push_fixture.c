/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "push_fixture.h"

#include "../harness/client.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../harness/port.h"
#include "proto/blockmsg.h"
#include "proto/message.h"
#include "shuffle/sync.h"
#include "tclient.h"

int push_fixture_run(struct harness_daemon *d, const struct harness_daemon_opts *o,
                     const struct check_case *c, const TTest *const *tests, shuffle_client **cl,
                     struct manifest *man, const char *tmp)
{
    int failed = 1;
    if (harness_daemon_start(d, o) == 0) {
        Suite *s = suite_create(c->suite);
        check_add_case(s, c, tests);
        SRunner *sr = srunner_create(s);
        srunner_set_fork_status(sr, CK_NOFORK);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        if (*cl)
            shuffle_client_free(*cl);
        *cl = NULL;
    }
    if (d->pid && harness_daemon_stop(d) != 0)
        failed = 1;
    manifest_free(man);
    if (harness_rm_rf(tmp) != 0)
        failed = 1;
    return failed ? 1 : 0;
}

int push_fixture_run_admin(struct harness_daemon *d, const char *members, int *admin_port,
                           const struct check_case *c, const TTest *const *tests,
                           shuffle_client **cl, struct manifest *man, const char *tmp)
{
    *admin_port = harness_free_port();
    char extra[1024];
    if (*admin_port <= 0 || (size_t)snprintf(extra, sizeof extra, "%s, \"admin_port\": %d", members,
                                             *admin_port) >= sizeof extra) {
        manifest_free(man);
        harness_rm_rf(tmp);
        return 1;
    }
    struct harness_daemon_opts o = {.dir = tmp, .extra_json = extra};
    return push_fixture_run(d, &o, c, tests, cl, man, tmp);
}

int push_fixture_merge_dirs(const char *data_root, int attempt)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/merge_manager_%d", data_root, attempt);
    if (harness_fill_block_dir(dir, 64) != 0) {
        fprintf(stderr, "cannot make the merge dir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int push_fixture_dataset(char *tmp, size_t tmp_len, char *data_root, size_t root_len, int maps,
                         int reduces, const char *sizes, int attempt, struct manifest *man)
{
    char gen[1100], exe[1100];
    harness_build_path(gen, sizeof gen, "gen-shuffle-data");
    harness_build_path(exe, sizeof exe, "shuffled");
    if (access(exe, X_OK) != 0 || access(gen, X_OK) != 0) {
        printf("SKIP: no shuffled or gen-shuffle-data in %s yet\n", harness_build_dir());
        return 77;
    }
    if (harness_temp_dir_into(tmp, tmp_len) != 0)
        return 1;
    snprintf(data_root, root_len, "%s/data", tmp);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --root '%s' --maps %d --reduces %d %s >/dev/null", gen,
             data_root, maps, reduces, sizes);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        return 1;
    }
    if (push_fixture_merge_dirs(data_root, attempt) != 0)
        return 1;
    char manifest_path[1200];
    snprintf(manifest_path, sizeof manifest_path, "%s/manifest.tsv", data_root);
    return manifest_load(man, manifest_path, "/nonexistent-prefix", "") == 0 ? 0 : 1;
}

void push_fixture_register(shuffle_client *c, int port, const char *app, int attempt,
                           const struct manifest *man)
{
    char manager[256];
    snprintf(manager, sizeof manager,
             HARNESS_SORT_SHUFFLE_MANAGER
             ":{\"mergeDir\":\"merge_manager_%d\",\"attemptId\":\"%d\"}}}",
             attempt, attempt);
    ck_assert_msg(harness_register_executor(c, port, app, "1", (const char *const *)man->local_dirs,
                                            man->num_dirs, manager) == SHUFFLE_OK,
                  "register: %s", shuffle_last_error(c));
}

struct shuffle_fetch_result *push_fixture_fetch(shuffle_client *c, int port, const char *app,
                                                const char *const *ids, size_t n)
{
    struct shuffle_fetch_request fr;
    shuffle_fetch_request_init(&fr);
    fr.host = "127.0.0.1";
    fr.port = port;
    fr.app_id = app;
    fr.exec_id = "1";
    fr.block_ids = ids;
    fr.num_blocks = n;
    struct shuffle_fetch_result *res;
    ck_assert_msg(shuffle_fetch_blocks_sync(c, &fr, &res) == SHUFFLE_OK, "%s",
                  shuffle_last_error(c));
    return res;
}

uint8_t *push_fixture_fetch_merged(shuffle_client *c, int port, const char *app, int shuffle,
                                   int reduce, size_t *len)
{
    struct shuffle_map_sets *chunks;
    ck_assert_int_eq(
        shuffle_fetch_merged_meta_sync(c, "127.0.0.1", port, app, shuffle, 0, reduce, &chunks),
        SHUFFLE_OK);
    char ids[64][64];
    const char *idp[64];
    ck_assert_uint_le(chunks->count, 64);
    for (size_t k = 0; k < chunks->count; k++) {
        snprintf(ids[k], sizeof(ids[k]), "shuffleChunk_%d_0_%d_%zu", shuffle, reduce, k);
        idp[k] = ids[k];
    }
    struct shuffle_fetch_result *res = push_fixture_fetch(c, port, app, idp, chunks->count);
    size_t total = 0;
    for (size_t k = 0; k < chunks->count; k++) {
        ck_assert_int_eq(res[k].status, SHUFFLE_OK);
        total += res[k].len;
    }
    uint8_t *bytes = malloc(total ? total : 1);
    ck_assert(bytes != NULL);
    for (size_t k = 0, at = 0; k < chunks->count; at += res[k].len, k++)
        memcpy(bytes + at, res[k].data, res[k].len);
    shuffle_fetch_results_free(res, chunks->count);
    free(chunks);
    *len = total;
    return bytes;
}

int push_fixture_raw_start(int port, const char *app, int attempt, int shuffle, int map, int reduce,
                           uint64_t body_len)
{
    int fd = tc_connect(port);
    ck_assert(fd >= 0);
    struct blockmsg b = {.type = BLOCKMSG_PUSH_BLOCK_STREAM};
    b.u.push_block_stream.layout = BLOCKMSG_LAYOUT_32;
    /* the encoder only reads app_id */
    b.u.push_block_stream.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    b.u.push_block_stream.app_attempt_id = attempt;
    b.u.push_block_stream.shuffle_id = shuffle;
    b.u.push_block_stream.map_index = map;
    b.u.push_block_stream.reduce_id = reduce;
    struct proto_writer meta, frame;
    proto_writer_init(&meta);
    proto_writer_init(&frame);
    blockmsg_encode(&meta, &b);
    struct proto_msg m = {.type = PROTO_UPLOAD_STREAM};
    m.u.upload_stream.request_id = 7;
    m.u.upload_stream.meta = (struct proto_view){meta.buf, (uint32_t)meta.len};
    m.u.upload_stream.body_byte_count = body_len;
    proto_msg_encode(&frame, &m);
    ck_assert_int_eq(tc_send_all(fd, frame.buf, frame.len), 0);
    proto_writer_free(&meta);
    proto_writer_free(&frame);
    return fd;
}

int push_fixture_raw_code(int fd)
{
    struct tc_resp resp;
    ck_assert_int_eq(tc_recv(fd, &resp), 0);
    ck_assert_int_eq(resp.m.type, PROTO_RPC_RESPONSE);
    int code = resp.m.u.rpc.body.data[1];
    tc_resp_free(&resp);
    return code;
}

void push_fixture_pattern(uint8_t *b, size_t len, unsigned k)
{
    for (size_t j = 0; j < len; j++)
        b[j] = (uint8_t)((j * 13 + k * 101 + (j >> 10)) % 253);
}

struct shuffle_push_outcome push_fixture_push_one(shuffle_client *c, int port, const char *app,
                                                  int attempt, int shuffle, int map, int reduce,
                                                  size_t len, unsigned k)
{
    char id[64];
    snprintf(id, sizeof(id), "shufflePush_%d_0_%d_%d", shuffle, map, reduce);
    const char *idp[] = {id};
    uint8_t *body = malloc(len);
    ck_assert(body != NULL);
    push_fixture_pattern(body, len, k);
    const uint8_t *bp[] = {body};
    uint64_t size[] = {len};
    struct shuffle_push_request r;
    harness_push_request(&r, port, app, attempt, idp, bp, size, 1);
    struct shuffle_push_outcome *o;
    shuffle_push_blocks_sync(c, &r, &o);
    ck_assert(o != NULL);
    struct shuffle_push_outcome got = o[0];
    got.error = got.error ? strdup(got.error) : NULL;
    shuffle_push_outcomes_free(o, 1);
    free(body);
    return got;
}

void push_fixture_check_merged(shuffle_client *c, int port, const char *app, int shuffle,
                               int reduce, const size_t *lens, const unsigned *ks, size_t n)
{
    size_t total = 0, have_len;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    uint8_t *want = malloc(total);
    ck_assert(want != NULL);
    for (size_t i = 0, at = 0; i < n; at += lens[i], i++)
        push_fixture_pattern(want + at, lens[i], ks[i]);
    uint8_t *have = push_fixture_fetch_merged(c, port, app, shuffle, reduce, &have_len);
    ck_assert_uint_eq(have_len, total);
    ck_assert_msg(memcmp(have, want, total) == 0, "partition %d: merged bytes differ", reduce);
    free(want);
    free(have);
}

uint64_t push_fixture_proc_bytes(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert(f != NULL);
    unsigned long long kib = 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            sscanf(line + n + 1, "%llu", &kib);
    fclose(f);
    ck_assert_uint_gt(kib, 0);
    return (uint64_t)kib * 1024;
}

uint64_t push_fixture_rss_window_start(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs("5", f);
    fclose(f);
    return push_fixture_proc_bytes(pid, "VmRSS");
}
