/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libshuffle encryption tests: see crypto_fixture.h. */
#include <config.h>

#include <check.h>
#include <stdio.h>

#include "../harness/client.h"
#include "../harness/process.h"
#include "auth_fixture.h"
#include "client_util.h"
#include "crypto_fixture.h"

shuffle_client *crypto_client(int crypto, bool sasl_encrypt, const char *secret,
                              enum fetch_path path)
{
    return crypto_client_cipher(crypto, SHUFFLE_CIPHER_CTR, sasl_encrypt, secret, path);
}

shuffle_client *crypto_client_cipher(int crypto, int cipher, bool sasl_encrypt, const char *secret,
                                     enum fetch_path path)
{
    struct shuffle_client_options o;
    harness_client_options(&o, 2, 20, 20000, path == VIA_OPEN_BLOCKS);
    o.auth_app_id = secret ? "app-1" : NULL;
    o.auth_secret = secret;
    o.crypto = crypto;
    o.crypto_cipher = cipher;
    o.sasl_encrypt = sasl_encrypt;
    if (path == VIA_FILE)
        o.fetch_to_file_bytes = 0; /* every block streamed into a file */
    return harness_client_with(&o);
}

int crypto_register(shuffle_client *c, int port)
{
    return harness_register_executor(c, port, "app-1", "1", (const char *const *)man.local_dirs,
                                     man.num_dirs, NULL);
}

void crypto_assert_fetches_every_byte(shuffle_client *c, int port, enum fetch_path path)
{
    ck_assert_msg(crypto_register(c, port) == SHUFFLE_OK, "%s", shuffle_last_error(c));
    const char *batch[] = {"shuffle_0_0_0_8", "shuffle_0_1_2_5", "shuffle_0_2_1_8"};
    const char *const *v = path == VIA_BATCH ? batch : ids;
    size_t n = path == VIA_BATCH ? 3 : nids;
    struct collector col;
    collector_fetch_wait(&col, c, &man, "127.0.0.1", port, "app-1", "1", v, n, NULL);
    collector_assert_all_ok(&col, v);
    ck_assert_int_eq(col.via_file, path == VIA_FILE ? (int)n : 0);
    collector_free(&col);
}

void crypto_assert_tools_fetch(const char *mode_args, int port)
{
    char cmd[4096], out[8192], mpath[700];
    snprintf(mpath, sizeof mpath, "%s/manifest.tsv", data_root);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch -q --register --retry-wait 10 --verify %s -o %s/out "
             "--auth-secret-file %s %s 127.0.0.1:%d app-1 1 2>&1",
             builddir, mpath, tmp, secret_path, mode_args, port);
    ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-bench -m %s -n 20 -c 2 --verify --auth-secret-file %s %s "
             "127.0.0.1:%d app-1 1 2>&1",
             builddir, mpath, secret_path, mode_args, port);
    ck_assert_msg(harness_run(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
}
