/* spark.authenticate against the real shuffled on 127.0.0.1 (auth on, one shared secret):
 * a hand-made Java-style DIGEST-MD5 exchange (spec 12.2) is accepted and answered with the
 * spec's rspauth; a wrong secret gets Java's RpcFailure and a closed connection; RPCs,
 * OneWayMessage and UploadStream before authentication get spec 12.1's treatment; libshuffle
 * with the right secret fetches every block (both protocols) and shuffle-fetch does with
 * --auth-secret-file; a wrong secret fails every block with SHUFFLE_EAUTH, unretried; an
 * app authenticated as app-2 cannot register/open/fetch/remove/list dirs for app-1 (spec 9.1
 * texts) nor fetch a chunk of app-1's stream; a client with auth against a daemon without it
 * fails with EAUTH; per-app secret files bind each app id to its secret; libshuffle's
 * digest-response is what a Java server accepts; `shuffled -t` rejects a missing or
 * group-readable secret file and a world-readable secrets dir. Under ASan
 * every daemon must exit cleanly (no leaks, sasl_server_done at exit). */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/sasl_digest.h"
#include "client_util.h"
#include "proto/blockmsg.h"
#include "proto/saslmsg.h"
#include "shuffle/client.h"
#include "shuffle/sync.h"
#include "tclient.h"

#define SECRET "s3cr3t-0123456789abcdef"
#define MISMATCH                                                                                   \
    "java.lang.RuntimeException: javax.security.sasl.SaslException: DIGEST-MD5: digest response "  \
    "format violation. Mismatched response."
#define NOT_SASL                                                                                   \
    "java.lang.IllegalStateException: Expected SaslMessage, received something else (maybe "       \
    "your client does not have SASL enabled?)"

static char builddir[1024], tmp[256], data_root[512], secret_path[512], bad_path[512];
static struct manifest man;
static const char **ids;
static size_t nids;

struct daemon {
    pid_t pid;
    int port;
    char dir[600];
};
static struct daemon authd, plaind, appd; /* shared secret; auth off; per-app secrets */
static char apps_dir[512];

/* auth: the JSON members for authentication */
static bool daemon_start(struct daemon *d, const char *name, const char *auth)
{
    char cfg[700], portf[700], state[700];
    snprintf(d->dir, sizeof d->dir, "%s/%s", tmp, name);
    snprintf(cfg, sizeof cfg, "%s/shuffled.json", d->dir);
    snprintf(portf, sizeof portf, "%s/port", d->dir);
    snprintf(state, sizeof state, "%s/state", d->dir);
    mkdir(d->dir, 0700);
    mkdir(state, 0700);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return false;
    fprintf(f,
            "{\"listen\": [\"127.0.0.1\"], \"port\": 0, \"io_threads\": 2, \"blocking_threads\": "
            "2, \"log_level\": \"error\", \"state_dir\": \"%s\", \"admin_port\": 0, "
            "\"fetch_rdd_enabled\": true, %s}\n",
            state, auth);
    fclose(f);
    char exe[1100];
    snprintf(exe, sizeof exe, "%s/shuffled", builddir);
    d->pid = fork();
    if (d->pid == 0) {
        execl(exe, exe, "-c", cfg, "--port-file", portf, (char *)NULL);
        _exit(127);
    }
    d->port = 0;
    for (int i = 0; i < 1000 && d->port == 0; i++) { /* up to 10 s */
        f = fopen(portf, "r");
        if (f) {
            if (fscanf(f, "%d", &d->port) != 1)
                d->port = 0;
            fclose(f);
        }
        if (waitpid(d->pid, NULL, WNOHANG) != 0) {
            d->pid = 0;
            return false;
        }
        if (!d->port)
            usleep(10000);
    }
    return d->port > 0;
}

/* SIGTERM; true when it exited with 0 (under ASan: no leak) within 30 s. */
static bool daemon_stop(struct daemon *d)
{
    if (d->pid <= 0)
        return false;
    kill(d->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 3000; i++) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            return WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        usleep(10000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    return false;
}

/* ---- a Java-style DIGEST-MD5 client over raw frames ---- */

static int sasl_rpc(int fd, const char *app, const char *token, char **out)
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
static int java_auth(int fd, const char *app, const char *secret, char *err, size_t errlen)
{
    char *s1 = NULL, *s2 = NULL;
    ck_assert_int_eq(sasl_rpc(fd, app, NULL, &s1), 0);
    ck_assert_ptr_nonnull(strstr(s1, "realm=\"default\""));
    ck_assert_ptr_nonnull(strstr(s1, "algorithm=md5-sess"));
    char nonce[256], qop[64];
    field(s1, "nonce", nonce, sizeof nonce);
    field(s1, "qop", qop, sizeof qop);
    ck_assert_str_eq(qop, "auth"); /* we offer no auth-conf */
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

static int rpc_msg(int fd, const struct blockmsg *m, char **out)
{
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, m);
    size_t n;
    int rc = tc_rpc(fd, w.buf, w.len, (uint8_t **)out, &n);
    proto_writer_free(&w);
    return rc;
}

static struct blockmsg register_msg(const char *app)
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

START_TEST(java_style_handshake_accepted_then_rpcs_reach_the_handler)
{
    int fd = tc_connect(authd.port);
    ck_assert_int_ge(fd, 0);
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    char *out = NULL;
    struct blockmsg reg = register_msg("app-1");
    ck_assert_msg(rpc_msg(fd, &reg, &out) == 0, "%s", out);
    free(out);
    struct blockmsg other = register_msg("app-2");
    ck_assert_int_eq(rpc_msg(fd, &other, &out), 1);
    ck_assert_str_eq(out, "java.lang.SecurityException: Client for app-1 not authorized for "
                          "application app-2.");
    free(out);
    close(fd);
}
END_TEST

START_TEST(wrong_secret_refused_and_closed)
{
    int fd = tc_connect(authd.port);
    char err[512] = "";
    ck_assert_int_eq(java_auth(fd, "app-1", "not-the-secret", err, sizeof err), 1);
    ck_assert_str_eq(err, MISMATCH);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

START_TEST(garbage_tokens_refused_and_closed)
{
    static char big[70001];
    memset(big, 'A', sizeof big - 1);
    const char *c2s[] = {big, "realm=\"default\",nonce=\"x\"", "\xff\xfe,,,=\"\"\""};
    for (int k = 0; k < 3; k++) {
        int fd = tc_connect(authd.port);
        char *out = NULL;
        ck_assert_int_eq(sasl_rpc(fd, "app-1", NULL, &out), 0);
        free(out);
        ck_assert_int_eq(sasl_rpc(fd, "app-1", c2s[k], &out), 1);
        ck_assert_msg(!strncmp(out,
                               "java.lang.RuntimeException: javax.security.sasl.SaslException: "
                               "DIGEST-MD5: ",
                               strlen("java.lang.RuntimeException: javax.security.sasl."
                                      "SaslException: DIGEST-MD5: ")),
                      "%s", out);
        free(out);
        ck_assert(tc_wait_closed(fd));
        close(fd);
    }
    /* an initial token where DIGEST-MD5 has none: answered (either way), daemon alive */
    int fd = tc_connect(authd.port);
    char *out = NULL;
    ck_assert_int_ge(sasl_rpc(fd, "app-1", "junk", &out), 0);
    free(out);
    close(fd);
    fd = tc_connect(authd.port);
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    close(fd);
}
END_TEST

START_TEST(before_auth_rpcs_oneway_and_upload_stream)
{
    int fd = tc_connect(authd.port);
    char *out = NULL;
    struct blockmsg reg = register_msg("app-1");
    ck_assert_int_eq(rpc_msg(fd, &reg, &out), 1); /* never reaches the block handler */
    ck_assert_str_eq(out, NOT_SASL);
    free(out);
    struct proto_msg ow = {.type = PROTO_ONE_WAY_MESSAGE};
    uint8_t junk[] = {2, 0, 0, 0, 0};
    ow.u.one_way.body = (struct proto_view){junk, sizeof junk};
    ck_assert_int_eq(tc_send_msg(fd, &ow), 0); /* dropped, no answer */
    /* the connection stays open: a client may still switch to SASL (saslFallback) */
    char err[512];
    ck_assert_int_eq(java_auth(fd, "app-1", SECRET, err, sizeof err), 0);
    close(fd);

    fd = tc_connect(authd.port);
    struct proto_msg up = {.type = PROTO_UPLOAD_STREAM};
    up.u.upload_stream.request_id = 77;
    up.u.upload_stream.meta = (struct proto_view){junk, sizeof junk};
    up.u.upload_stream.body_byte_count = 0;
    ck_assert_int_eq(tc_send_msg(fd, &up), 0);
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(fd, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_RPC_FAILURE);
    ck_assert_int_eq(r.m.u.rpc_failure.request_id, 77);
    ck_assert_int_eq(
        r.m.u.rpc_failure.error.len,
        strlen("java.lang.SecurityException: Unauthenticated call to receiveStream()."));
    ck_assert(memcmp(r.m.u.rpc_failure.error.data,
                     "java.lang.SecurityException: Unauthenticated call to receiveStream().",
                     r.m.u.rpc_failure.error.len) == 0);
    tc_resp_free(&r);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

START_TEST(chunk_of_another_apps_stream_refused)
{
    int a = tc_connect(authd.port), b = tc_connect(authd.port);
    char err[512], *out = NULL;
    ck_assert_int_eq(java_auth(a, "app-1", SECRET, err, sizeof err), 0);
    ck_assert_int_eq(java_auth(b, "app-2", SECRET, err, sizeof err), 0);
    struct blockmsg reg = register_msg("app-1");
    ck_assert_int_eq(rpc_msg(a, &reg, &out), 0);
    free(out);
    struct proto_bytes bid = {(char *)ids[0], (uint32_t)strlen(ids[0])};
    struct blockmsg open = {.type = BLOCKMSG_OPEN_BLOCKS};
    open.u.open_blocks.app_id = (struct proto_bytes){"app-1", 5};
    open.u.open_blocks.exec_id = (struct proto_bytes){"1", 1};
    open.u.open_blocks.block_ids = (struct proto_string_array){&bid, 1};
    size_t n;
    struct proto_writer w;
    proto_writer_init(&w);
    blockmsg_encode(&w, &open);
    ck_assert_int_eq(tc_rpc(a, w.buf, w.len, (uint8_t **)&out, &n), 0);
    proto_writer_free(&w);
    struct blockmsg handle;
    char why[128];
    ck_assert_int_eq(blockmsg_decode((uint8_t *)out, n, &handle, why, sizeof why), 0);
    free(out);
    int64_t sid = handle.u.stream_handle.stream_id;
    blockmsg_free(&handle);
    /* app-2's connection cannot read it (streams are per connection here: unknown to it) */
    ck_assert_int_eq(tc_send_fetch(b, sid, 0), 0);
    struct tc_resp r;
    ck_assert_int_eq(tc_recv(b, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_FAILURE);
    const char *want = "java.lang.IllegalArgumentException: Unknown stream ID.";
    ck_assert_uint_eq(r.m.u.chunk_fetch_failure.error.len, strlen(want));
    ck_assert(memcmp(r.m.u.chunk_fetch_failure.error.data, want, strlen(want)) == 0);
    tc_resp_free(&r);
    /* its owner can */
    ck_assert_int_eq(tc_send_fetch(a, sid, 0), 0);
    ck_assert_int_eq(tc_recv(a, &r), 0);
    ck_assert_int_eq(r.m.type, PROTO_CHUNK_FETCH_SUCCESS);
    ck_assert_uint_eq(r.body_len, manifest_find(&man, ids[0])->size);
    tc_resp_free(&r);
    close(a);
    close(b);
}
END_TEST

/* ---- libshuffle ---- */

static shuffle_client *client(const char *app, const char *secret, bool old)
{
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.max_retries = 3;
    o.retry_wait_ms = 20;
    o.connect_timeout_ms = 5000;
    o.request_timeout_ms = 20000;
    o.use_old_fetch_protocol = old;
    o.auth_app_id = app;
    o.auth_secret = secret;
    char err[256];
    shuffle_client *c = shuffle_client_new(&o, err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static int register_exec(shuffle_client *c, int port, const char *app, char *err, size_t errlen)
{
    return shuffle_register_executor_sync(
        c, "127.0.0.1", port, app, "1", (const char *const *)man.local_dirs, man.num_dirs, 64,
        "org.apache.spark.shuffle.sort.SortShuffleManager", err, errlen);
}

static void fetch(shuffle_client *c, int port, const char *app, struct collector *col)
{
    collector_init(col, &man, nids);
    struct shuffle_fetch_request r = {.host = "127.0.0.1",
                                      .port = port,
                                      .app_id = app,
                                      .exec_id = "1",
                                      .block_ids = ids,
                                      .num_blocks = nids,
                                      .on_block = collector_on_block,
                                      .on_done = collector_on_done,
                                      .arg = col};
    char err[256];
    ck_assert_int_eq(shuffle_fetch_blocks(c, &r, err, sizeof err), SHUFFLE_OK);
    collector_wait(col);
}

static void assert_all_failed(struct collector *col, int status, const char *needle)
{
    for (size_t i = 0; i < col->n; i++) {
        ck_assert_int_eq(col->count[i], 1);
        ck_assert_int_eq(col->status[i], status);
        ck_assert_msg(strstr(col->error[i], needle), "'%s' lacks '%s'", col->error[i], needle);
    }
}

START_TEST(right_secret_fetches_every_block)
{
    shuffle_client *c = client("app-1", SECRET, _i == 1);
    char err[1024];
    ck_assert_msg(register_exec(c, authd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col);
    for (size_t i = 0; i < col.n; i++) {
        ck_assert_msg(col.count[i] == 1 && col.status[i] == SHUFFLE_OK, "%s: %s", ids[i],
                      col.error[i]);
        ck_assert_msg(col.verified[i], "%s: bytes differ", ids[i]);
    }
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(wrong_secret_fails_every_request_unretried)
{
    shuffle_client *c = client("app-1", "not-the-secret", false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(err, MISMATCH) && strstr(err, "(attempt 1 of"), "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col);
    assert_all_failed(&col, SHUFFLE_EAUTH, MISMATCH);
    collector_free(&col);
    shuffle_client_free(c);
}
END_TEST

START_TEST(client_without_auth_is_refused)
{
    shuffle_client *c = client(NULL, NULL, false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, NOT_SASL), "%s", err);
    shuffle_client_free(c);
}
END_TEST

START_TEST(client_with_auth_against_a_daemon_without)
{
    shuffle_client *c = client("app-1", SECRET, false);
    char err[1024];
    ck_assert_int_eq(register_exec(c, plaind.port, "app-1", err, sizeof err), SHUFFLE_EAUTH);
    ck_assert_msg(strstr(err, "Unknown message type: -22"), "%s", err);
    shuffle_client_free(c);
}
END_TEST

struct dirs_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    int status;
    char err[1024];
};

static void dirs_cb(void *arg, int status, const char *error, const struct shuffle_local_dirs *d)
{
    struct dirs_wait *w = arg;
    pthread_mutex_lock(&w->lock);
    w->status = status;
    snprintf(w->err, sizeof w->err, "%s", error ? error : "");
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* GetLocalDirsForExecutors for app-1's executor "1"; the status, error text in err. */
static int get_local_dirs(shuffle_client *c, int port, char *err, size_t errlen)
{
    struct dirs_wait w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    const char *execs[] = {"1"};
    char e[256];
    ck_assert_int_eq(
        shuffle_get_local_dirs(c, "127.0.0.1", port, "app-1", execs, 1, dirs_cb, &w, e, sizeof e),
        SHUFFLE_OK);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    snprintf(err, errlen, "%s", w.err);
    return w.status;
}

START_TEST(app_isolation)
{
    shuffle_client *owner = client("app-1", SECRET, false);
    char err[1024];
    ck_assert_msg(register_exec(owner, authd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s",
                  err);
    shuffle_client_free(owner);
    const char *deny =
        "java.lang.SecurityException: Client for app-2 not authorized for application app-1.";
    shuffle_client *c = client("app-2", SECRET, _i == 1); /* the shared secret: any app id */
    ck_assert_int_eq(register_exec(c, authd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, deny), "%s", err);
    struct collector col;
    fetch(c, authd.port, "app-1", &col); /* OpenBlocks or FetchShuffleBlocks */
    assert_all_failed(&col, SHUFFLE_ESERVER, deny);
    collector_free(&col);
    int removed = -1;
    ck_assert_int_eq(shuffle_remove_blocks_sync(c, "127.0.0.1", authd.port, "app-1", "1", ids, 1,
                                                &removed, err, sizeof err),
                     SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, deny), "%s", err);
    ck_assert_int_eq(get_local_dirs(c, authd.port, err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, deny), "%s", err);
    shuffle_client_free(c);
}
END_TEST

START_TEST(handshake_timeout_fails_the_waiting_requests)
{
    /* a listener that never answers: the TCP connect succeeds, the SASL reply never comes */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(ls, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    struct shuffle_client_options o;
    shuffle_client_options_init(&o);
    o.max_retries = 0;
    o.auth_app_id = "app-1";
    o.auth_secret = SECRET;
    o.auth_timeout_ms = 200;
    char err[256];
    shuffle_client *c = shuffle_client_new(&o, err, sizeof err);
    ck_assert_ptr_nonnull(c);
    struct collector col;
    fetch(c, ntohs(sa.sin_port), "app-1", &col);
    assert_all_failed(&col, SHUFFLE_EIO, "timed out (200 ms)");
    collector_free(&col);
    shuffle_client_free(c);
    close(ls);
}
END_TEST

/* ---- libshuffle against a server that checks like Java's DigestMD5Server ---- */

/* key's value in a digest-response (quoted or not); "" if absent. */
static void kv(const char *s, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    out[0] = 0;
    for (const char *p = s; *p;) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            p += kl + 1;
            bool q = *p == '"';
            p += q;
            size_t n = q ? strcspn(p, "\"") : strcspn(p, ",");
            snprintf(out, outlen, "%.*s", (int)n, p);
            return;
        }
        const char *c = strchr(p, ',');
        if (!c)
            break;
        p = c + 1;
    }
}

struct java_server {
    int ls;
    char why[512]; /* empty when the client did everything a Java server expects */
};

static bool answer(int fd, int64_t id, const char *body)
{
    struct proto_msg m = {.type = PROTO_RPC_RESPONSE};
    m.u.rpc.request_id = id;
    m.u.rpc.body = (struct proto_view){(const uint8_t *)body, (uint32_t)strlen(body)};
    return tc_send_msg(fd, &m) == 0;
}

static void *java_server_main(void *arg)
{
    struct java_server *js = arg;
    /* the spec's S1 from a real Java server (it offers auth-conf too, and ciphers) */
    const char *nonce = "3XEvJlzN2LVv9jaTtdwZddl0/pDLbXnWGodRJ+Sz";
    char s1[512];
    snprintf(s1, sizeof s1,
             "realm=\"default\",nonce=\"%s\",qop=\"auth-conf,auth\",charset=utf-8,"
             "cipher=\"3des,rc4,des,rc4-56,rc4-40\",algorithm=md5-sess",
             nonce);
    int fd = accept(js->ls, NULL, NULL);
    struct tc_resp r = {0};
    struct saslmsg m;
    char err[160], c2[2048], f[8][256];
    snprintf(js->why, sizeof js->why, "no connection");
    if (fd < 0 || tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST)
        goto out;
    snprintf(js->why, sizeof js->why, "C1 is not SaslMessage(app-9, empty token)");
    if (saslmsg_decode(r.m.u.rpc.body.data, r.m.u.rpc.body.len, &m, err, sizeof err) != 0 ||
        m.app_id_len != 5 || memcmp(m.app_id, "app-9", 5) != 0 || m.token_len != 0 ||
        !answer(fd, r.m.u.rpc.request_id, s1))
        goto out;
    tc_resp_free(&r);
    snprintf(js->why, sizeof js->why, "no C2");
    if (tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST ||
        saslmsg_decode(r.m.u.rpc.body.data, r.m.u.rpc.body.len, &m, err, sizeof err) != 0)
        goto out;
    snprintf(c2, sizeof c2, "%.*s", (int)m.token_len, (const char *)m.token);
    const char *keys[8] = {"username", "realm",      "nonce", "cnonce",
                           "nc",       "digest-uri", "qop",   "response"};
    for (int i = 0; i < 8; i++)
        kv(c2, keys[i], f[i], sizeof f[i]);
    char want[33], rspauth[33], s2[64];
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, f[3], f[4], "null/default", 0, want);
    digest_md5(SASL_SPARK_USER, "default", "czNjcjN0", nonce, f[3], f[4], "null/default", 1,
               rspauth);
    snprintf(js->why, sizeof js->why, "C2 is not what a Java server accepts: %.400s", c2);
    if (strcmp(f[0], SASL_SPARK_USER) || strcmp(f[1], "default") || strcmp(f[2], nonce) ||
        strcmp(f[5], "null/default") || strcmp(f[6], "auth") || strcmp(f[7], want) ||
        strstr(c2, "authzid"))
        goto out;
    snprintf(s2, sizeof s2, "rspauth=%s", rspauth);
    if (!answer(fd, r.m.u.rpc.request_id, s2))
        goto out;
    tc_resp_free(&r);
    snprintf(js->why, sizeof js->why, "the queued RegisterExecutor did not follow");
    if (tc_recv(fd, &r) != 0 || r.m.type != PROTO_RPC_REQUEST || r.m.u.rpc.body.len == 0 ||
        r.m.u.rpc.body.data[0] != BLOCKMSG_REGISTER_EXECUTOR ||
        !answer(fd, r.m.u.rpc.request_id, ""))
        goto out;
    js->why[0] = 0;
out:
    tc_resp_free(&r);
    if (fd >= 0)
        close(fd);
    return NULL;
}

START_TEST(client_speaks_what_a_java_server_checks)
{
    struct java_server js = {.ls = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(js.ls, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(js.ls, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(js.ls, (struct sockaddr *)&sa, &sl);
    pthread_t th;
    pthread_create(&th, NULL, java_server_main, &js);
    shuffle_client *c = client("app-9", "s3cr3t", false);
    char err[1024];
    int st = register_exec(c, ntohs(sa.sin_port), "app-9", err, sizeof err);
    pthread_join(th, NULL);
    shuffle_client_free(c);
    close(js.ls);
    ck_assert_msg(js.why[0] == 0, "%s", js.why);
    ck_assert_msg(st == SHUFFLE_OK, "%s", err);
}
END_TEST

START_TEST(per_app_secrets_bind_app_ids)
{
    char err[1024];
    shuffle_client *c = client("app-1", "secret-one", false);
    ck_assert_msg(register_exec(c, appd.port, "app-1", err, sizeof err) == SHUFFLE_OK, "%s", err);
    struct collector col;
    fetch(c, appd.port, "app-1", &col);
    for (size_t i = 0; i < col.n; i++)
        ck_assert_msg(col.status[i] == SHUFFLE_OK && col.verified[i], "%s: %s", ids[i],
                      col.error[i]);
    collector_free(&col);
    shuffle_client_free(c);
    /* another app's secret, an app without a secret file */
    const char *pairs[][2] = {{"app-1", "secret-two"}, {"app-3", "secret-one"}};
    for (int k = 0; k < 2; k++) {
        c = client(pairs[k][0], pairs[k][1], false);
        int st = register_exec(c, appd.port, pairs[k][0], err, sizeof err);
        ck_assert_msg(st == SHUFFLE_EAUTH, "%s: %s", pairs[k][0], err);
        ck_assert_msg(strstr(err, MISMATCH), "%s", err);
        shuffle_client_free(c);
    }
    /* app-2, authenticated with its own secret, still cannot act for app-1 */
    c = client("app-2", "secret-two", false);
    ck_assert_int_eq(register_exec(c, appd.port, "app-1", err, sizeof err), SHUFFLE_ESERVER);
    ck_assert_msg(strstr(err, "Client for app-2 not authorized for application app-1."), "%s", err);
    shuffle_client_free(c);
    /* an app id that is no file name reads no file */
    int fd = tc_connect(appd.port);
    ck_assert_int_eq(java_auth(fd, "../app-secrets/app-1", "secret-one", err, sizeof err), 1);
    ck_assert_str_eq(err, MISMATCH);
    ck_assert(tc_wait_closed(fd));
    close(fd);
}
END_TEST

static int run(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(shuffle_fetch_with_secret_file)
{
    char cmd[4096], out[8192], mpath[700];
    snprintf(mpath, sizeof mpath, "%s/manifest.tsv", data_root);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch -q --register --retry-wait 10 --verify %s -o %s/out "
             "--auth-secret-file %s 127.0.0.1:%d app-3 1 2>&1",
             builddir, mpath, tmp, secret_path, authd.port);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd,
             "%s/src/tools/shuffle-fetch -q --retry-wait 10 --verify %s -o %s/out2 "
             "--auth-secret-file %s 127.0.0.1:%d app-3 1 2>&1",
             builddir, mpath, tmp, bad_path, authd.port);
    ck_assert_int_ne(run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "Mismatched response."), "%s", out);
}
END_TEST

START_TEST(config_check_rejects_bad_secret_files)
{
    char cfg[700], cmd[2048], out[4096];
    snprintf(cfg, sizeof cfg, "%s/check.json", tmp);
    FILE *f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/shuffled -t -c %s 2>&1", builddir, cfg);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_enabled': needs auth_secret_file"), "%s", out);
    char open_path[600];
    snprintf(open_path, sizeof open_path, "%s/readable-secret", tmp);
    f = fopen(open_path, "w");
    fprintf(f, "x\n");
    fclose(f);
    chmod(open_path, 0640);
    f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true, \"auth_secret_file\": \"%s\"}\n", open_path);
    fclose(f);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_secret_file'") && strstr(out, "mode 0640") &&
                      strstr(out, "chmod 600"),
                  "%s", out);
    chmod(open_path, 0600);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    f = fopen(cfg, "w");
    fprintf(f,
            "{\"auth_enabled\": true, \"auth_secret_file\": \"%s\", \"auth_app_secrets_dir\": "
            "\"%s\"}\n",
            open_path, apps_dir);
    fclose(f);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_app_secrets_dir': cannot be combined"), "%s", out);
    f = fopen(cfg, "w");
    fprintf(f, "{\"auth_enabled\": true, \"auth_app_secrets_dir\": \"%s\"}\n", apps_dir);
    fclose(f);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    chmod(apps_dir, 0755);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "key 'auth_app_secrets_dir'") && strstr(out, "mode 0755"), "%s", out);
    chmod(apps_dir, 0750);
}
END_TEST

static void write_secret(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0 || chmod(path, 0600) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

int main(void)
{
    const char *b = getenv("SHUFFLE_BUILDDIR");
    snprintf(builddir, sizeof builddir, "%s", b && *b ? b : ".");
    char gen[1100], exe[1100], cmd[4096];
    snprintf(gen, sizeof gen, "%s/gen-shuffle-data", builddir);
    snprintf(exe, sizeof exe, "%s/shuffled", builddir);
    if (access(exe, X_OK) != 0 || access(gen, X_OK) != 0) {
        printf("SKIP: no shuffled or gen-shuffle-data in %s yet\n", builddir);
        return 77;
    }
    snprintf(tmp, sizeof tmp, "/tmp/shuffled-auth-XXXXXX");
    if (!mkdtemp(tmp))
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

    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, java_style_handshake_accepted_then_rpcs_reach_the_handler);
    tcase_add_test(tc, wrong_secret_refused_and_closed);
    tcase_add_test(tc, before_auth_rpcs_oneway_and_upload_stream);
    tcase_add_test(tc, garbage_tokens_refused_and_closed);
    tcase_add_test(tc, chunk_of_another_apps_stream_refused);
    tcase_add_loop_test(tc, right_secret_fetches_every_block, 0, 2);
    tcase_add_test(tc, wrong_secret_fails_every_request_unretried);
    tcase_add_test(tc, client_without_auth_is_refused);
    tcase_add_test(tc, client_with_auth_against_a_daemon_without);
    tcase_add_loop_test(tc, app_isolation, 0, 2);
    tcase_add_test(tc, shuffle_fetch_with_secret_file);
    tcase_add_test(tc, client_speaks_what_a_java_server_checks);
    tcase_add_test(tc, handshake_timeout_fails_the_waiting_requests);
    tcase_add_test(tc, config_check_rejects_bad_secret_files);
    tcase_add_test(tc, per_app_secrets_bind_app_ids);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    int failed = 1;
    char auth_json[1200], apps_json[1200];
    snprintf(auth_json, sizeof auth_json, "\"auth_enabled\": true, \"auth_secret_file\": \"%s\"",
             secret_path);
    snprintf(apps_json, sizeof apps_json,
             "\"auth_enabled\": true, \"auth_app_secrets_dir\": \"%s\"", apps_dir);
    if (daemon_start(&authd, "auth", auth_json) &&
        daemon_start(&plaind, "plain", "\"auth_enabled\": false") &&
        daemon_start(&appd, "apps", apps_json)) {
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
    } else {
        fprintf(stderr, "shuffled did not start\n");
    }
    srunner_free(sr);
    bool clean_auth = daemon_stop(&authd), clean_plain = daemon_stop(&plaind),
         clean_apps = daemon_stop(&appd);
    if (!clean_auth || !clean_plain || !clean_apps) {
        fprintf(stderr, "a daemon did not exit cleanly (auth %d, plain %d, apps %d)\n", clean_auth,
                clean_plain, clean_apps);
        failed++;
    }
    manifest_free(&man);
    free(ids);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        failed++;
    return failed ? 1 : 0;
}
