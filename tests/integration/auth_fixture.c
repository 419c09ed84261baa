/* SPDX-License-Identifier: Apache-2.0 */
/* The auth tests' fixture; see auth_fixture.h. */
#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/sasl_digest.h"
#include "auth_fixture.h"
#include "client_util.h"
#include "proto/blockmsg.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "tclient.h"
#include "../harness/daemon.h"
#include "../harness/fs.h"
#include "../harness/locate.h"

struct harness_daemon authd, plaind, appd;
char builddir[1024], tmp[256], data_root[512], secret_path[512], bad_path[512], apps_dir[512];
struct manifest man;
const char **ids;
size_t nids;

bool auth_fixture_daemon_start(struct harness_daemon *d, const char *name, const char *auth)
{
    char dir[700], state[800], members[1400];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    snprintf(state, sizeof state, "%s/state", dir);
    mkdir(dir, 0700);
    mkdir(state, 0700);
    snprintf(members, sizeof members, "\"admin_port\": 0, \"fetch_rdd_enabled\": true, %s", auth);
    struct harness_daemon_opts o = {
        .dir = dir, .state_dir = state, .log_level = "error", .extra_json = members};
    return harness_daemon_start(d, &o) == 0;
}

/* ---- a Java-style DIGEST-MD5 client over raw frames ---- */

int sasl_rpc(int fd, const char *app, const char *token, char **out)
{
    uint8_t *body;
    size_t len, outlen;
    ck_assert_int_eq(
        saslmsg_encode(app, (const uint8_t *)token, token ? strlen(token) : 0, &body, &len), 0);
    int rc = tc_rpc(fd, body, len, (uint8_t **)out, &outlen);
    free(body);
    return rc;
}

static void field(const char *s, const char *key, char *out, size_t outlen)
{
    char k[64];
    snprintf(k, sizeof k, "%s=\"", key);
    const char *p = strstr(s, k);
    ck_assert_msg(p != NULL, "no %s in '%s'", key, s);
    p += strlen(k);
    size_t n = strcspn(p, "\"");
    ck_assert_uint_lt(n, outlen);
    memcpy(out, p, n);
    out[n] = 0;
}

/* The two round trips a Java client makes with secret; returns 0 (authenticated, rspauth
 * checked) or 1 with the server's error text in err. */
int java_auth(int fd, const char *app, const char *secret, char *err, size_t errlen)
{
    char *s1 = NULL, *s2 = NULL;
    ck_assert_int_eq(sasl_rpc(fd, app, NULL, &s1), 0);
    ck_assert_ptr_nonnull(strstr(s1, "realm=\"default\""));
    ck_assert_ptr_nonnull(strstr(s1, "algorithm=md5-sess"));
    char nonce[256], qop[64];
    field(s1, "nonce", nonce, sizeof nonce);
    field(s1, "qop", qop, sizeof qop);
    const char *extra = getenv("SHUFFLED_TEST_AUTH_EXTRA");
    bool conf = !(extra && (strstr(extra, "\"sasl_encryption\": \"off\"") ||
                            strstr(extra, "\"auth_sasl_encryption\": false")));
    ck_assert_str_eq(qop, conf ? "auth,auth-int,auth-conf" : "auth");
    free(s1);
    const char *cnonce = "OBWDp1PJQArB//yLB8oSRi5j2vExLYUX0zMzOdDr";
    char *password = sasl_spark_password(secret), resp[33], rspauth[33], c2[1024];
    digest_md5(SASL_SPARK_USER, "default", password, nonce, cnonce, "00000001", "null/default", 0,
               resp);
    digest_md5(SASL_SPARK_USER, "default", password, nonce, cnonce, "00000001", "null/default", 1,
               rspauth);
    free(password);
    snprintf(c2, sizeof c2,
             "charset=utf-8,username=\"%s\",realm=\"default\",nonce=\"%s\",nc=00000001,"
             "cnonce=\"%s\",digest-uri=\"null/default\",maxbuf=65536,response=%s,qop=auth",
             SASL_SPARK_USER, nonce, cnonce, resp);
    int rc = sasl_rpc(fd, app, c2, &s2);
    ck_assert_int_ge(rc, 0);
    if (rc == 0) {
        char want[64];
        snprintf(want, sizeof want, "rspauth=%s", rspauth);
        ck_assert_str_eq(s2, want);
    } else {
        snprintf(err, errlen, "%s", s2);
    }
    free(s2);
    return rc;
}

void java_auth_refused(int port, const char *app, const char *secret)
{
    int fd = tc_connect(port);
    char err[512] = "";
    ck_assert_int_eq(java_auth(fd, app, secret, err, sizeof err), 1);
    ck_assert_str_eq(err, MISMATCH);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}

int rpc_msg(int fd, const struct blockmsg *m, char **out)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    size_t n;
    int rc = tc_rpc(fd, w.buf, w.len, (uint8_t **)out, &n);
    proto_writer_free(&w);
    return rc;
}

struct blockmsg register_msg(const char *app)
{
    static struct proto_bytes dirs[16];
    for (size_t i = 0; i < man.num_dirs && i < 16; i++)
        dirs[i] = (struct proto_bytes){man.local_dirs[i], (uint32_t)strlen(man.local_dirs[i])};
    static char mgr[] = "org.apache.spark.shuffle.sort.SortShuffleManager";
    struct blockmsg m = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    m.u.register_executor.app_id = (struct proto_bytes){(char *)app, (uint32_t)strlen(app)};
    m.u.register_executor.exec_id = (struct proto_bytes){"1", 1};
    m.u.register_executor.info.local_dirs =
        (struct proto_string_array){dirs, (uint32_t)man.num_dirs};
    m.u.register_executor.info.sub_dirs_per_local_dir = 64;
    m.u.register_executor.info.shuffle_manager = (struct proto_bytes){mgr, sizeof(mgr) - 1};
    return m;
}

struct blockmsg open_first_block_msg(struct proto_bytes *id)
{
    *id = (struct proto_bytes){(char *)ids[0], (uint32_t)strlen(ids[0])};
    struct blockmsg m = {.type = BLOCKMSG_OPEN_BLOCKS};
    m.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    m.u.open_blocks.exec_id = (struct proto_bytes){"1", 1};
    m.u.open_blocks.block_ids = (struct proto_string_array){id, 1};
    return m;
}

void assert_first_block(const uint8_t *content, size_t len)
{
    uint64_t want_len = 0;
    uint8_t *want = manifest_read(&man, ids[0], &want_len);
    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(len - 12, want_len);
    ck_assert(memcmp(content + 12, want, want_len) == 0);
    free(want);
}

static void write_secret(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0 || chmod(path, 0600) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

void auth_fixture_suppress_cyrus_cipher_leak(void)
{
    char supp[1200];
    const char *src = getenv("SHUFFLE_SRCDIR");
    snprintf(supp, sizeof supp, "suppressions=%s/tests/integration/cyrus-digestmd5.supp",
             src && *src ? src : ".");
    setenv("LSAN_OPTIONS", supp, 1);
}

int auth_fixture_main(const struct check_case *c, const TTest *const *tests)
{
    snprintf(builddir, sizeof builddir, "%s", harness_build_dir());
    char gen[1100], exe[1100], cmd[4096];
    snprintf(gen, sizeof gen, "%s/gen-shuffle-data", builddir);
    snprintf(exe, sizeof exe, "%s/shuffled", builddir);
    if (access(exe, X_OK) != 0 || access(gen, X_OK) != 0) {
        printf("SKIP: no shuffled or gen-shuffle-data in %s yet\n", builddir);
        return 77;
    }
    if (harness_temp_dir_into(tmp, sizeof tmp) != 0)
        return 1;
    snprintf(data_root, sizeof data_root, "%s/data", tmp);
    snprintf(secret_path, sizeof secret_path, "%s/secret", tmp);
    snprintf(bad_path, sizeof bad_path, "%s/wrong-secret", tmp);
    write_secret(secret_path, SECRET);
    write_secret(bad_path, "not-the-secret");
    snprintf(apps_dir, sizeof apps_dir, "%s/app-secrets", tmp);
    mkdir(apps_dir, 0750);
    char app_secret[700];
    snprintf(app_secret, sizeof app_secret, "%s/app-1", apps_dir);
    write_secret(app_secret, "secret-one");
    snprintf(app_secret, sizeof app_secret, "%s/app-2", apps_dir);
    write_secret(app_secret, "secret-two");
    snprintf(cmd, sizeof cmd,
             "'%s' --root '%s' --maps 3 --reduces 8 --min-size 0 --max-size 5000 --seed 3 "
             ">/dev/null",
             gen, data_root);
    if (system(cmd) != 0)
        return 1;
    char mpath[700];
    snprintf(mpath, sizeof mpath, "%s/manifest.tsv", data_root);
    if (manifest_load(&man, mpath, "/nonexistent-prefix", "") != 0)
        return 1;
    ids = calloc(man.n, sizeof(char *));
    for (size_t i = 0; i < man.n; i++)
        if (!strncmp(man.e[i].id, "shuffle_", 8) && man.e[i].size > 0)
            ids[nids++] = man.e[i].id;

    Suite *s = suite_create(c->suite);
    check_add_case(s, c, tests);
    SRunner *sr = srunner_create(s);
    int failed = 1;
    char auth_json[1200], apps_json[1200];
    /* a test may add keys to the shared-secret daemon's config */
    const char *extra = getenv("SHUFFLED_TEST_AUTH_EXTRA");
    snprintf(auth_json, sizeof auth_json,
             "\"auth_enabled\": true, \"auth_secret_file\": \"%s\"%s%s", secret_path,
             extra ? ", " : "", extra ? extra : "");
    /* ... and to the per-app daemon's */
    const char *apps_extra = getenv("SHUFFLED_TEST_APPS_EXTRA");
    snprintf(apps_json, sizeof apps_json,
             "\"auth_enabled\": true, \"auth_app_secrets_dir\": \"%s\"%s%s", apps_dir,
             apps_extra ? ", " : "", apps_extra ? apps_extra : "");
    if (auth_fixture_daemon_start(&authd, "auth", auth_json) &&
        auth_fixture_daemon_start(&plaind, "plain", "\"auth_enabled\": false") &&
        auth_fixture_daemon_start(&appd, "apps", apps_json)) {
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
    } else {
        fprintf(stderr, "shuffled did not start\n");
    }
    srunner_free(sr);
    bool clean_auth = harness_daemon_stop(&authd) == 0,
         clean_plain = harness_daemon_stop(&plaind) == 0,
         clean_apps = harness_daemon_stop(&appd) == 0;
    if (!clean_auth || !clean_plain || !clean_apps) {
        fprintf(stderr, "a daemon did not exit cleanly (auth %d, plain %d, apps %d)\n", clean_auth,
                clean_plain, clean_apps);
        failed++;
    }
    manifest_free(&man);
    free(ids);
    if (harness_rm_rf(tmp) != 0)
        failed++;
    return failed ? 1 : 0;
}
