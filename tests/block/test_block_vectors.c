/* SPDX-License-Identifier: Apache-2.0 */
/* The recorded Spark 3.1.2 conversations replayed against the real daemon:
 * for every scenario in vectors/, the dataset is copied to a temp dir and
 * registered there, the client's frames are sent (RegisterExecutor re-encoded
 * with the new path, stream ids substituted from our StreamHandles), and each
 * reply must match the recorded one field by field: types, request ids, chunk
 * indexes, numChunks, counts, every body byte, and error texts by their first
 * line (paths substituted). */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>

#include "vector_replay.h"
#include "../check_main.h"

#define REC_PREFIX "/tmp/shuffle-vectors/data"

static void register_copy(int port, const char *data_dir)
{
    char d0[1200], d1[1200], err[512];
    snprintf(d0, sizeof(d0), "%s/blockmgr-0", data_dir);
    snprintf(d1, sizeof(d1), "%s/blockmgr-1", data_dir);
    char *dirs[] = {d0, d1};
    struct client c;
    client_open(&c, port);
    ck_assert_int_eq(client_register(&c, "app-cap", "1", dirs, 2, 64, err, sizeof(err)),
                     PROTO_RPC_RESPONSE);
    client_close(&c);
}

START_TEST(test_replay_all_scenarios)
{
    const char *tmp = harness_test_dir();
    char state[700], vdir[700];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(vdir, sizeof(vdir), "%s/vectors", harness_shared_dir());
    struct harness_daemon d;
    daemon_start(&d, tmp, state, "\"fetch_rdd_enabled\": true");
    DIR *dir = opendir(vdir);
    ck_assert(dir != NULL);
    struct dirent *de;
    int scenarios = 0;
    while ((de = readdir(dir))) {
        char sdir[1024], probe[1100], copy[1024], data_dir[1100], cmd[4096];
        snprintf(sdir, sizeof(sdir), "%s/%s", vdir, de->d_name);
        snprintf(probe, sizeof(probe), "%s/c2s.bin", sdir);
        if (de->d_name[0] == '.' || !harness_path_exists(probe))
            continue;
        /* a fresh copy per scenario: remove-blocks deletes a file */
        snprintf(copy, sizeof(copy), "%s/%s", tmp, de->d_name);
        snprintf(data_dir, sizeof(data_dir), "%s/data", copy);
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp -r '%s/data' '%s/'", copy, vdir, copy);
        ck_assert_int_eq(system(cmd), 0);
        register_copy(d.port, data_dir);

        struct frames c2s, s2c;
        load_frames(sdir, "c2s.bin", &c2s);
        load_frames(sdir, "s2c.bin", &s2c);
        ck_assert_uint_eq(c2s.n, s2c.n);
        struct sid_map sids = {0};
        struct replay_dirs rd = {REC_PREFIX, data_dir};
        struct client c;
        client_open(&c, d.port);
        for (size_t i = 0; i < c2s.n; i++) {
            char where[300];
            snprintf(where, sizeof(where), "%s frame %zu", de->d_name, i);
            replay_one(&c, &c2s.f[i], &s2c.f[i], &sids, &rd, where);
        }
        client_close(&c);
        frames_free(&c2s);
        frames_free(&s2c);
        scenarios++;
    }
    closedir(dir);
    ck_assert_int_ge(scenarios, 16);
    daemon_stop_clean(&d);
}
END_TEST

CHECK_MAIN((.suite = "block_vectors", .name = "replay", .timeout_s = 120,
            .needs_shared_vectors = true),
           test_replay_all_scenarios)
