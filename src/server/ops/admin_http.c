/* SPDX-License-Identifier: Apache-2.0 */
/* Admin HTTP endpoint; see admin_http.h. */
#include <config.h>

#include "server/ops/admin_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "server/ops/metrics.h"
#include "server/ops/spark_metrics.h"

#include <openssl/crypto.h>

#define ADMIN_MAX_BODY 4096
#define ADMIN_MAX_HEADERS 8192
#define ADMIN_TIMEOUT_SECONDS 10
#define ADMIN_MAX_ID 255

struct admin_http {
    struct event_base *base;
    struct evhttp *http;
    struct admin_actions actions;
    pthread_t thread;
    int port;
    char *token;   /* NULL: none */
    bool loopback; /* bound to a loopback address */
    char addr[64]; /* as configured, for the 403 text */
    _Atomic int health;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reply(struct evhttp_request *req, int code, const char *reason, const char *fmt, ...)
{
    struct evbuffer *body = evbuffer_new();
    if (body) {
        va_list ap;
        va_start(ap, fmt);
        evbuffer_add_vprintf(body, fmt, ap);
        va_end(ap);
        evbuffer_add(body, "\n", 1);
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, body);
    if (body)
        evbuffer_free(body);
}

static bool method_is(struct evhttp_request *req, enum evhttp_cmd_type want, const char *allow)
{
    enum evhttp_cmd_type got = evhttp_request_get_command(req);
    if (got == want || (want == EVHTTP_REQ_GET && got == EVHTTP_REQ_HEAD))
        return true;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    reply(req, 405, "Method Not Allowed", "method not allowed; use %s", allow);
    return false;
}

/* 200 with text (taken: freed here; NULL answers 500) as the body, of content_type. */
static void reply_text(struct evhttp_request *req, char *text, size_t len, const char *content_type,
                       const char *what)
{
    struct evbuffer *body = text ? evbuffer_new() : NULL;
    if (!body || evbuffer_add(body, text, len) != 0) {
        if (body)
            evbuffer_free(body);
        free(text);
        reply(req, 500, "Internal Server Error", "cannot %s: out of memory", what);
        return;
    }
    free(text);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", content_type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

static void serve_metrics(struct evhttp_request *req)
{
    if (!method_is(req, EVHTTP_REQ_GET, "GET"))
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f || metrics_render(f) != 0 || spark_metrics_render(f) != 0) {
        if (f)
            fclose(f);
        free(text);
        reply(req, 500, "Internal Server Error", "cannot render metrics: out of memory");
        return;
    }
    fclose(f);
    reply_text(req, text, len, "text/plain; version=0.0.4; charset=utf-8", "render metrics");
}

static void serve_healthz(struct admin_http *a, struct evhttp_request *req)
{
    if (!method_is(req, EVHTTP_REQ_GET, "GET"))
        return;
    switch (atomic_load(&a->health)) {
    case ADMIN_SERVING:
        reply(req, 200, "OK", "serving");
        break;
    case ADMIN_DRAINING:
        reply(req, 503, "Service Unavailable", "draining");
        break;
    case ADMIN_UNHEALTHY:
        reply(req, 503, "Service Unavailable", "unhealthy");
        break;
    default:
        reply(req, 503, "Service Unavailable", "starting");
        break;
    }
}

/* Parameters of a POST: the query string, then a form body if any. Returns 0, or -1
 * after replying 400. */
static int parse_params(struct evhttp_request *req, struct evkeyvalq *params)
{
    TAILQ_INIT(params);
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (query && evhttp_parse_query_str(query, params) != 0) {
        reply(req, 400, "Bad Request", "malformed query string");
        return -1;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t blen = evbuffer_get_length(in);
    if (blen == 0)
        return 0;
    char body[ADMIN_MAX_BODY + 1];
    if (blen > ADMIN_MAX_BODY) {
        reply(req, 413, "Payload Too Large", "body larger than %d bytes", ADMIN_MAX_BODY);
        return -1;
    }
    evbuffer_copyout(in, body, blen);
    body[blen] = '\0';
    /* Form parameters are appended to those of the query string. */
    struct evkeyvalq form;
    TAILQ_INIT(&form);
    if (memchr(body, '\0', blen) || evhttp_parse_query_str(body, &form) != 0) {
        evhttp_clear_headers(&form);
        reply(req, 400, "Bad Request", "malformed form body (want key=value&...)");
        return -1;
    }
    for (struct evkeyval *kv = form.tqh_first; kv; kv = kv->next.tqe_next)
        evhttp_add_header(params, kv->key, kv->value);
    evhttp_clear_headers(&form);
    return 0;
}

/* Rejects parameters not in allowed (a NULL-terminated list) and duplicates. */
static int check_param_names(struct evhttp_request *req, struct evkeyvalq *params,
                             const char *const *allowed)
{
    for (struct evkeyval *kv = params->tqh_first; kv; kv = kv->next.tqe_next) {
        bool known = false;
        for (const char *const *p = allowed; *p; p++)
            known = known || strcmp(*p, kv->key) == 0;
        if (!known) {
            reply(req, 400, "Bad Request", "unknown parameter '%.64s'", kv->key);
            return -1;
        }
        for (struct evkeyval *o = kv->next.tqe_next; o; o = o->next.tqe_next)
            if (strcmp(o->key, kv->key) == 0) {
                reply(req, 400, "Bad Request", "parameter '%s' given twice", kv->key);
                return -1;
            }
    }
    return 0;
}

/* Spark application and executor ids: letters, digits, '.', '_', ':', '-'. */
static const char *required_id(struct evhttp_request *req, struct evkeyvalq *params,
                               const char *key)
{
    const char *v = evhttp_find_header(params, key);
    if (!v || !*v) {
        reply(req, 400, "Bad Request", "missing parameter '%s'", key);
        return NULL;
    }
    size_t n = strlen(v);
    bool ok = n <= ADMIN_MAX_ID && strcmp(v, ".") != 0 && strcmp(v, "..") != 0;
    for (const char *p = v; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr("._:-", *p) != NULL;
    if (!ok) {
        reply(req, 400, "Bad Request",
              "parameter '%s' is not a valid id (1-%d of A-Z a-z 0-9 . _ : -)", key, ADMIN_MAX_ID);
        return NULL;
    }
    return v;
}

/* msg: what the action said (its reason on failure, details on success), or "". */
static void reply_action(struct evhttp_request *req, int r, const char *msg, const char *done)
{
    const char *err = *msg ? msg : "failed";
    if (r == 0)
        reply(req, 200, "OK", "%s", *msg ? msg : done);
    else if (r == -ENOENT)
        reply(req, 404, "Not Found", "%s", err);
    else if (r == -EINVAL)
        reply(req, 400, "Bad Request", "%s", err);
    else
        reply(req, 500, "Internal Server Error", "%s", err);
}

/* The common start of an admin action: a POST whose parameters are all in `allowed`, with an
 * app_id. Returns the app id, or NULL once the error is answered. The caller clears params
 * when *parsed is set. */
static const char *admin_action_app(struct evhttp_request *req, struct evkeyvalq *params,
                                    const char *const *allowed, bool *parsed)
{
    *parsed = false;
    if (!method_is(req, EVHTTP_REQ_POST, "POST"))
        return NULL;
    *parsed = true; /* parse_params initialises params first, even when it fails */
    if (parse_params(req, params) != 0)
        return NULL;
    if (check_param_names(req, params, allowed) != 0)
        return NULL;
    return required_id(req, params, "app_id");
}

static void serve_remove_application(struct admin_http *a, struct evhttp_request *req)
{
    struct evkeyvalq params;
    bool parsed;
    static const char *const allowed[] = {"app_id", "cleanup_local_dirs", NULL};
    const char *app = admin_action_app(req, &params, allowed, &parsed);
    if (!app)
        goto out;
    const char *cleanup = evhttp_find_header(&params, "cleanup_local_dirs");
    bool cleanup_dirs = false;
    if (cleanup && strcmp(cleanup, "true") == 0) {
        cleanup_dirs = true;
    } else if (cleanup && strcmp(cleanup, "false") != 0) {
        reply(req, 400, "Bad Request", "cleanup_local_dirs must be true or false");
        goto out;
    }
    if (!a->actions.remove_application) {
        reply(req, 501, "Not Implemented", "no block service installed");
        goto out;
    }
    char msg[256] = "";
    char done[320];
    int r = a->actions.remove_application(a->actions.ctx, app, cleanup_dirs, msg, sizeof(msg));
    snprintf(done, sizeof(done), "removed application %s%s", app,
             cleanup_dirs ? " and its local dirs" : "");
    reply_action(req, r, msg, done);
out:
    if (parsed)
        evhttp_clear_headers(&params);
}

static void serve_remove_executor(struct admin_http *a, struct evhttp_request *req)
{
    struct evkeyvalq params;
    bool parsed;
    static const char *const allowed[] = {"app_id", "exec_id", NULL};
    const char *app = admin_action_app(req, &params, allowed, &parsed);
    if (!app)
        goto out;
    const char *exec = required_id(req, &params, "exec_id");
    if (!exec)
        goto out;
    if (!a->actions.remove_executor) {
        reply(req, 501, "Not Implemented", "no block service installed");
        goto out;
    }
    char msg[256] = "";
    char done[600];
    int r = a->actions.remove_executor(a->actions.ctx, app, exec, msg, sizeof(msg));
    snprintf(done, sizeof(done), "removed the non-shuffle files of executor %s of %s", exec, app);
    reply_action(req, r, msg, done);
out:
    if (parsed)
        evhttp_clear_headers(&params);
}

static void serve_apps(struct admin_http *a, struct evhttp_request *req)
{
    if (!method_is(req, EVHTTP_REQ_GET, "GET"))
        return;
    if (!a->actions.apps_json) {
        reply(req, 501, "Not Implemented", "no block service installed");
        return;
    }
    char *text = a->actions.apps_json(a->actions.ctx);
    reply_text(req, text, text ? strlen(text) : 0, "application/json", "list the applications");
}

static void serve_reload(struct admin_http *a, struct evhttp_request *req)
{
    struct evkeyvalq params;
    static const char *const allowed[] = {NULL};
    if (!method_is(req, EVHTTP_REQ_POST, "POST"))
        return;
    int bad = parse_params(req, &params) != 0 || check_param_names(req, &params, allowed) != 0;
    evhttp_clear_headers(&params);
    if (bad)
        return;
    if (!a->actions.reload) {
        reply(req, 501, "Not Implemented", "reload is not available here");
        return;
    }
    char msg[256] = "";
    int r = a->actions.reload(a->actions.ctx, msg, sizeof(msg));
    if (r == 0)
        reply(req, 202, "Accepted", "%s", msg);
    else
        reply_action(req, r, msg, "");
}

bool admin_addr_is_loopback(const char *addr)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, addr, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &v6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

/* Equal in time independent of where they differ (the length of the expected token aside). */
static bool token_equal(const char *expected, const char *given)
{
    size_t n = strlen(expected), m = strlen(given);
    const char *other = m == n ? given : expected; /* compare something of the same length */
    int diff = CRYPTO_memcmp(expected, other, n);
    return diff == 0 && m == n;
}

/* The guard of the state-changing endpoints; false once the refusal is answered. */
static bool admin_allowed(struct admin_http *a, struct evhttp_request *req)
{
    if (a->token) {
        const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        if (h && strncasecmp(h, "Bearer ", 7) == 0 && token_equal(a->token, h + 7))
            return true;
        metrics_inc(MC_ADMIN_UNAUTHORIZED);
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"shuffled admin\"");
        reply(req, 401, "Unauthorized",
              "%s bearer token: send \"Authorization: Bearer <the token in admin_token_file>\"",
              h ? "wrong" : "missing");
        return false;
    }
    if (a->loopback)
        return true;
    metrics_inc(MC_ADMIN_FORBIDDEN);
    reply(req, 403, "Forbidden",
          "admin actions are disabled: admin_listen %s is not a loopback address and no "
          "admin_token_file is set",
          a->addr);
    return false;
}

static void route(struct evhttp_request *req, void *arg)
{
    struct admin_http *a = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path)
        path = "";
    if (strncmp(path, "/admin/", 7) == 0 && !admin_allowed(a, req))
        return;
    if (strcmp(path, "/metrics") == 0)
        serve_metrics(req);
    else if (strcmp(path, "/healthz") == 0)
        serve_healthz(a, req);
    else if (strcmp(path, "/admin/remove-application") == 0)
        serve_remove_application(a, req);
    else if (strcmp(path, "/admin/remove-executor") == 0)
        serve_remove_executor(a, req);
    else if (strcmp(path, "/admin/apps") == 0)
        serve_apps(a, req);
    else if (strcmp(path, "/admin/reload") == 0)
        serve_reload(a, req);
    else
        reply(req, 404, "Not Found",
              "no such endpoint; try /metrics, /healthz, GET /admin/apps, POST "
              "/admin/remove-application, POST /admin/remove-executor, POST /admin/reload");
}

static void *admin_thread(void *arg)
{
    struct admin_http *a = arg;
    event_base_dispatch(a->base);
    return NULL;
}

static void admin_free(struct admin_http *a)
{
    if (a->http)
        evhttp_free(a->http);
    if (a->base)
        event_base_free(a->base);
    if (a->token) {
        explicit_bzero(a->token, strlen(a->token));
        free(a->token);
    }
    free(a);
}

struct admin_http *admin_http_start(const char *addr, int port, const struct admin_actions *actions,
                                    const char *token, char *err, size_t errlen)
{
    if (!addr)
        addr = "127.0.0.1";
    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "admin port %d out of range 0..65535", port);
        return NULL;
    }
    /* Lets admin_http_stop() break the loop from another thread. */
    if (evthread_use_pthreads() != 0) {
        snprintf(err, errlen, "admin http: libevent pthreads support unavailable");
        return NULL;
    }
    struct admin_http *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "admin http: out of memory");
        return NULL;
    }
    if (actions)
        a->actions = *actions;
    snprintf(a->addr, sizeof(a->addr), "%s", addr);
    a->loopback = admin_addr_is_loopback(addr);
    if (token && *token && !(a->token = strdup(token))) {
        snprintf(err, errlen, "admin http: out of memory");
        admin_free(a);
        return NULL;
    }
    atomic_init(&a->health, ADMIN_STARTING);
    a->base = event_base_new();
    a->http = a->base ? evhttp_new(a->base) : NULL;
    if (!a->http) {
        snprintf(err, errlen, "admin http: cannot create event base");
        admin_free(a);
        return NULL;
    }
    evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
    evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
    evhttp_set_timeout(a->http, ADMIN_TIMEOUT_SECONDS);
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(a->http, route, a);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(a->http, addr, (ev_uint16_t)port);
    if (!bound) {
        snprintf(err, errlen,
                 "admin http: cannot listen on %s port %d: %s (set admin_listen/admin_port)", addr,
                 port, strerror(errno));
        admin_free(a);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl) == 0)
        a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    int r = pthread_create(&a->thread, NULL, admin_thread, a);
    if (r != 0) {
        snprintf(err, errlen, "admin http: cannot start thread: %s", strerror(r));
        admin_free(a);
        return NULL;
    }
    return a;
}

int admin_http_port(const struct admin_http *a)
{
    return a->port;
}

void admin_http_set_health(struct admin_http *a, enum admin_health h)
{
    atomic_store(&a->health, (int)h);
}

void admin_http_stop(struct admin_http *a)
{
    if (!a)
        return;
    event_base_loopexit(a->base, NULL);
    pthread_join(a->thread, NULL);
    admin_free(a);
}
