/* SPDX-License-Identifier: Apache-2.0 */
/* Push-based shuffle over an encrypted link against the real shuffled (push_enabled,
 * auth_enabled, crypto_enabled and auth_sasl_encryption on the auth fixture's shared-secret
 * daemon): libshuffle pushes every non-empty block of the fixture's shuffle with x25519 +
 * AES-CTR, x25519 + AES-GCM and SASL auth-conf (each body goes through the cipher as a copy),
 * the merge is finalized, every merged chunk is fetched and each partition compared byte for
 * byte with its maps' blocks; the caller's block buffers are unchanged after the push. Then
 * shuffle-push with --auth-secret-file and each mode does the same through the tool. */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/client.h"
#include "../harness/process.h"
#include "auth_fixture.h"
#include "crypto_fixture.h"
#include "push_fixture.h"
#include "shuffle/push.h"
#include "shuffle/sync.h"

#define ATTEMPT 1
#define MAPS 3 /* the auth fixture's dataset: 3 maps, 8 reduces */
#define REDUCES 8

enum { CTR, GCM, SASL_CONF, MODES };
static const char *const tool_args[MODES] = {
    "--crypto x25519", "--crypto x25519 --crypto-cipher gcm", "--sasl-encrypt"};

static shuffle_client *mode_client(int mode)
{
    if (mode == SASL_CONF)
        return crypto_client(SHUFFLE_CRYPTO_OFF, true, SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
    return crypto_client_cipher(SHUFFLE_CRYPTO_X25519,
                                mode == GCM ? SHUFFLE_CIPHER_GCM : SHUFFLE_CIPHER_CTR, false,
                                SECRET, VIA_FETCH_SHUFFLE_BLOCKS);
}

/* app-1's executor "1" with the merge dir merge_manager_ATTEMPT beside its local dirs. */
static void register_with_merge_dir(shuffle_client *c)
{
    ck_assert_int_eq(push_fixture_merge_dirs(data_root, ATTEMPT), 0);
    push_fixture_register(c, authd.port, "app-1", ATTEMPT, &man);
}

static uint8_t *block_bytes(int map, int reduce, uint64_t *len)
{
    char id[64];
    snprintf(id, sizeof id, "shuffle_0_%d_%d", map, reduce);
    uint8_t *b = manifest_read(&man, id, len);
    ck_assert_msg(b != NULL, "%s", id);
    return b;
}

/* The bytes of reduce partition `reduce` over every map. */
static uint64_t partition_size(int reduce)
{
    uint64_t size = 0;
    for (int map = 0; map < MAPS; map++) {
        char id[64];
        snprintf(id, sizeof id, "shuffle_0_%d_%d", map, reduce);
        const struct manifest_entry *e = manifest_find(&man, id);
        ck_assert_msg(e != NULL, "%s", id);
        size += e->size;
    }
    return size;
}

/* Map's non-empty blocks pushed into shuffle; each buffer compared with a snapshot after. */
static void push_map(shuffle_client *c, int shuffle, int map)
{
    char push_ids[REDUCES][64];
    const char *idp[REDUCES];
    uint8_t *data[REDUCES], *snapshot[REDUCES];
    uint64_t sizes[REDUCES];
    size_t n = 0;
    for (int r = 0; r < REDUCES; r++) {
        uint64_t len;
        uint8_t *b = block_bytes(map, r, &len);
        if (len == 0) {
            free(b);
            continue;
        }
        snprintf(push_ids[n], sizeof push_ids[n], "shufflePush_%d_0_%d_%d", shuffle, map, r);
        idp[n] = push_ids[n];
        data[n] = b;
        snapshot[n] = malloc(len);
        memcpy(snapshot[n], b, len);
        sizes[n++] = len;
    }
    struct shuffle_push_request req;
    harness_push_request(&req, authd.port, "app-1", ATTEMPT, idp, (const uint8_t *const *)data,
                         sizes, n);
    req.max_in_flight = 3;
    struct shuffle_push_outcome *out = NULL;
    ck_assert_msg(shuffle_push_blocks_sync(c, &req, &out) == SHUFFLE_OK, "%s",
                  out && n && out[0].error ? out[0].error : shuffle_last_error(c));
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(out[i].status, SHUFFLE_OK);
        ck_assert_msg(memcmp(data[i], snapshot[i], sizes[i]) == 0, "%s: the caller's block changed",
                      idp[i]);
        free(data[i]);
        free(snapshot[i]);
    }
    shuffle_push_outcomes_free(out, n);
}

/* Partition reduce of shuffle, its chunks fetched in order and joined, is its maps' blocks in
 * ascending map order (the maps were pushed one after the other). */
static void assert_partition(shuffle_client *c, int shuffle, int reduce, uint64_t want_size)
{
    struct shuffle_map_sets *meta = NULL;
    ck_assert_int_eq(shuffle_fetch_merged_meta_sync(c, "127.0.0.1", authd.port, "app-1", shuffle, 0,
                                                    reduce, &meta),
                     SHUFFLE_OK);
    char chunk_ids[64][64];
    const char *idp[64];
    ck_assert_uint_le(meta->count, 64);
    for (size_t k = 0; k < meta->count; k++) {
        snprintf(chunk_ids[k], sizeof chunk_ids[k], "shuffleChunk_%d_0_%d_%zu", shuffle, reduce, k);
        idp[k] = chunk_ids[k];
    }
    struct shuffle_fetch_request fr;
    shuffle_fetch_request_init(&fr);
    fr.host = "127.0.0.1";
    fr.port = authd.port;
    fr.app_id = "app-1";
    fr.exec_id = "1";
    fr.block_ids = idp;
    fr.num_blocks = meta->count;
    struct shuffle_fetch_result *res = NULL;
    ck_assert_msg(shuffle_fetch_blocks_sync(c, &fr, &res) == SHUFFLE_OK, "%s",
                  shuffle_last_error(c));
    uint8_t *merged = malloc(want_size ? want_size : 1);
    uint64_t at = 0;
    for (size_t k = 0; k < meta->count; k++) {
        ck_assert_int_eq(res[k].status, SHUFFLE_OK);
        ck_assert_uint_le(at + res[k].len, want_size);
        memcpy(merged + at, res[k].data, res[k].len);
        at += res[k].len;
    }
    ck_assert_uint_eq(at, want_size);
    at = 0;
    for (int map = 0; map < MAPS; map++) {
        uint64_t len;
        uint8_t *want = block_bytes(map, reduce, &len);
        ck_assert_msg(memcmp(merged + at, want, len) == 0, "map %d of partition %d differs", map,
                      reduce);
        at += len;
        free(want);
    }
    free(merged);
    shuffle_fetch_results_free(res, meta->count);
    free(meta);
}

/* The finalized merge of shuffle: every partition's size, and its bytes. */
static void assert_merged_every_byte(shuffle_client *c, int shuffle)
{
    struct shuffle_merge_statuses *ms = NULL;
    ck_assert_msg(shuffle_finalize_merge_sync(c, "127.0.0.1", authd.port, "app-1", ATTEMPT, shuffle,
                                              0, &ms) == SHUFFLE_OK,
                  "%s", shuffle_last_error(c));
    size_t i = 0;
    for (int r = 0; r < REDUCES; r++) {
        uint64_t size = partition_size(r);
        if (!size)
            continue;
        ck_assert_uint_lt(i, ms->num_partitions);
        ck_assert_int_eq(ms->reduce_ids[i], r);
        ck_assert_int_eq(ms->sizes[i++], (int64_t)size);
        assert_partition(c, shuffle, r, size);
    }
    ck_assert_uint_eq(ms->num_partitions, i);
    free(ms);
}

/* _i: the mode; shuffle 10 + mode. The pushing client's first blocks are queued while its
 * connection authenticates, the later ones written through the installed cipher. */
START_TEST(push_every_block_encrypted)
{
    shuffle_client *c = mode_client(_i);
    register_with_merge_dir(c);
    shuffle_client_free(c);
    c = mode_client(_i);
    for (int map = 0; map < MAPS; map++)
        push_map(c, 10 + _i, map);
    assert_merged_every_byte(c, 10 + _i);
    shuffle_client_free(c);
}
END_TEST

/* _i: the mode; shuffle-push of shuffle 0's map outputs into shuffle 20 + mode (the last one
 * finalizes), then the merge checked with libshuffle in the same mode. */
START_TEST(tool_pushes_encrypted)
{
    char cmd[4096], out[8192];
    shuffle_client *c = mode_client(_i);
    register_with_merge_dir(c);
    for (int map = 0; map < MAPS; map++) {
        snprintf(cmd, sizeof cmd,
                 "%s/src/tools/shuffle-push -q --retry-wait 10 --attempt %d %s "
                 "--auth-secret-file %s %s 127.0.0.1:%d app-1 %d %d "
                 "$(find '%s' -name shuffle_0_%d_0.index) 2>&1",
                 builddir, ATTEMPT, map == MAPS - 1 ? "--finalize" : "", secret_path, tool_args[_i],
                 authd.port, 20 + _i, map, data_root, map);
        ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    }
    ck_assert_msg(strstr(out, "FINALIZED shuffle=") != NULL, "%s", out);
    for (int r = 0; r < REDUCES; r++)
        if (partition_size(r))
            assert_partition(c, 20 + _i, r, partition_size(r));
    shuffle_client_free(c);
}
END_TEST

/* The tool's security options are checked as shuffle-fetch's are. */
START_TEST(tool_usage_errors)
{
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-push --crypto x25519 127.0.0.1:%d app-1 0 0 "
             "$(find '%s' -name shuffle_0_0_0.index) 2>&1",
             builddir, authd.port, data_root);
    ck_assert_int_eq(harness_run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--crypto needs --auth-secret-file"), "%s", out);
}
END_TEST

int main(void)
{
    auth_fixture_suppress_cyrus_cipher_leak();
    setenv("SHUFFLED_TEST_AUTH_EXTRA",
           "\"crypto_enabled\": true, \"auth_sasl_encryption\": true, \"push_enabled\": true, "
           "\"push_min_chunk_bytes\": 2048",
           1);
    return auth_fixture_main(
        &(struct check_case){.suite = "push_secure",
                             .name = "push_secure",
                             .timeout_s = 120,
                             .loops = MODES,
                             .looped = {push_every_block_encrypted, tool_pushes_encrypted}},
        CHECK_TESTS(push_every_block_encrypted, tool_pushes_encrypted, tool_usage_errors));
}
