/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC env inside one process (docs/rpc.md): an endpoint's messages in order between
 * on_start and on_stop and never two at once; a thread-safe endpoint run concurrently; a
 * reply answered once only, also later from another thread; a full inbox refusing; local and
 * loopback asks with their distinct failures (no endpoint, remote error text, timeout,
 * unreachable, connection lost) and an outbox that reconnects on the next message; an env on
 * the caller's event loop. */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "../check_main.h"
#include "../harness/port.h"
#include "../harness/wait.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

/* What a recording endpoint saw. */
struct recorder {
    pthread_mutex_t lock;
    char events[64][40]; /* the first few: "start", "m0", ... "stop" */
    int nevents;
    long received, last_seq;
    bool out_of_order;
    atomic_int active, max_active;
    atomic_int gate; /* receive waits while 0 */
    shuffle_rpc_reply *held;
    atomic_int replies_refused;
};

static void rec_event(struct recorder *r, const char *what)
{
    pthread_mutex_lock(&r->lock);
    if (r->nevents < 64)
        snprintf(r->events[r->nevents++], sizeof r->events[0], "%s", what);
    pthread_mutex_unlock(&r->lock);
}

static void enter(struct recorder *r)
{
    int now = atomic_fetch_add(&r->active, 1) + 1;
    int max = atomic_load(&r->max_active);
    while (now > max && !atomic_compare_exchange_weak(&r->max_active, &max, now))
        ;
}

static void on_start(void *arg)
{
    rec_event(arg, "start");
    harness_sleep_ms(20); /* messages arrive before on_start returns */
}

static void on_stop(void *arg)
{
    rec_event(arg, "stop");
}

static void receive(void *arg, const struct shuffle_rpc_message *m)
{
    struct recorder *r = arg;
    enter(r);
    while (!atomic_load(&r->gate))
        harness_sleep_ms(1);
    long seq = m->len == sizeof(long) ? *(const long *)m->payload : -1;
    pthread_mutex_lock(&r->lock);
    if (seq != r->last_seq + 1)
        r->out_of_order = true;
    r->last_seq = seq;
    r->received++;
    pthread_mutex_unlock(&r->lock);
    if (seq < 3) {
        char e[32];
        snprintf(e, sizeof e, "m%ld", seq);
        rec_event(r, e);
    }
    atomic_fetch_sub(&r->active, 1);
}

/* echo; "fail" answers an error; "twice" answers twice; "hold" keeps the context. */
static void receive_and_reply(void *arg, const struct shuffle_rpc_message *m,
                              shuffle_rpc_reply *reply)
{
    struct recorder *r = arg;
    if (m->len == 4 && memcmp(m->payload, "fail", 4) == 0) {
        shuffle_rpc_reply_error(reply, "the endpoint says no");
    } else if (m->len == 5 && memcmp(m->payload, "twice", 5) == 0) {
        ck_assert_int_eq(shuffle_rpc_reply_ok(reply, "one", 3), SHUFFLE_OK);
        if (shuffle_rpc_reply_ok(reply, "two", 3) == SHUFFLE_RPC_EREPLIED)
            atomic_fetch_add(&r->replies_refused, 1);
    } else if (m->len == 4 && memcmp(m->payload, "hold", 4) == 0) {
        pthread_mutex_lock(&r->lock);
        r->held = reply;
        pthread_mutex_unlock(&r->lock);
    } else if (m->len == 5 && memcmp(m->payload, "never", 5) == 0) {
        pthread_mutex_lock(&r->lock);
        r->held = reply; /* answered by the test after the asker gave up */
        pthread_mutex_unlock(&r->lock);
    } else {
        shuffle_rpc_reply_ok(reply, m->payload, m->len);
    }
}

static void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->last_seq = -1;
    atomic_store(&r->gate, 1);
}

static struct shuffle_rpc_endpoint endpoint_of(struct recorder *r, bool thread_safe)
{
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.arg = r;
    ep.thread_safe = thread_safe;
    ep.on_start = on_start;
    ep.on_stop = on_stop;
    ep.receive = receive;
    ep.receive_and_reply = receive_and_reply;
    return ep;
}

/* Registers ep as name on server (*local: a local reference, unless NULL) and looks it up
 * from client: the remote reference. */
static shuffle_rpc_ref *serve_and_lookup(shuffle_rpc_env *server, shuffle_rpc_env *client,
                                         const char *name, const struct shuffle_rpc_endpoint *ep,
                                         shuffle_rpc_ref **local)
{
    shuffle_rpc_ref *remote;
    ck_assert_int_eq(shuffle_rpc_register(server, name, ep, local), SHUFFLE_OK);
    int status =
        shuffle_rpc_lookup(client, "127.0.0.1", shuffle_rpc_env_port(server), name, 2000, &remote);
    ck_assert_msg(status == SHUFFLE_OK, "lookup %s: %s", name, shuffle_rpc_status_name(status));
    return remote;
}

/* A server env on the options o (listening on 127.0.0.1, any port). */
static shuffle_rpc_env *server_with(struct shuffle_rpc_env_options *o)
{
    o->listen_host = "127.0.0.1";
    shuffle_rpc_env *server;
    char err[256];
    ck_assert_msg(shuffle_rpc_env_new(o, &server, err, sizeof err) == SHUFFLE_OK, "%s", err);
    return server;
}

static shuffle_rpc_env *env_new(bool server, int port, int inbox_capacity)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    if (server) {
        o.listen_host = "127.0.0.1";
        o.port = port;
    }
    if (inbox_capacity)
        o.inbox_capacity = inbox_capacity;
    o.connect_timeout_ms = 2000;
    shuffle_rpc_env *env;
    char err[256];
    ck_assert_msg(shuffle_rpc_env_new(&o, &env, err, sizeof err) == SHUFFLE_OK, "%s", err);
    return env;
}

START_TEST(inbox_order_start_first_stop_last)
{
    shuffle_rpc_env *env = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    shuffle_rpc_ref *ref;
    ck_assert_int_eq(shuffle_rpc_register(env, "ordered", &ep, &ref), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_register(env, "ordered", &ep, NULL), SHUFFLE_EINVAL);
    for (long i = 0; i < 20000; i++)
        while (shuffle_rpc_send(ref, &i, sizeof i) == SHUFFLE_RPC_EOVERFLOW)
            harness_sleep_ms(1);
    ck_assert_int_eq(shuffle_rpc_unregister(env, "ordered"), SHUFFLE_OK);
    /* on_stop has run: everything before it was processed, in order, one at a time */
    ck_assert_int_eq(r.received, 20000);
    ck_assert(!r.out_of_order);
    ck_assert_int_eq(atomic_load(&r.max_active), 1);
    ck_assert_int_eq(r.nevents, 5);
    ck_assert_str_eq(r.events[0], "start");
    ck_assert_str_eq(r.events[1], "m0");
    ck_assert_str_eq(r.events[3], "m2");
    ck_assert_str_eq(r.events[4], "stop");
    ck_assert_int_eq(shuffle_rpc_send(ref, "x", 1), SHUFFLE_RPC_ENOENDPOINT);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(env);
}
END_TEST

static bool two_active(void *arg)
{
    return atomic_load(&((struct recorder *)arg)->max_active) >= 2;
}

START_TEST(thread_safe_endpoint_runs_concurrently)
{
    shuffle_rpc_env *env = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    atomic_store(&r.gate, 0);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, true);
    shuffle_rpc_ref *ref;
    ck_assert_int_eq(shuffle_rpc_register(env, "parallel", &ep, &ref), SHUFFLE_OK);
    for (long i = 0; i < 200; i++)
        ck_assert_int_eq(shuffle_rpc_send(ref, &i, sizeof i), SHUFFLE_OK);
    /* both dispatcher threads are inside receive at once */
    bool two = harness_wait_until(two_active, &r, 5000, 5);
    atomic_store(&r.gate, 1); /* before any failure: the threads must not wait for ever */
    ck_assert(two);
    ck_assert_int_eq(shuffle_rpc_unregister(env, "parallel"), SHUFFLE_OK);
    ck_assert_int_eq(r.received, 200);
    ck_assert_str_eq(r.events[0], "start");
    ck_assert_str_eq(r.events[r.nevents - 1], "stop");
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(env);
}
END_TEST

static char *ask_text(shuffle_rpc_ref *ref, const char *payload, int timeout_ms, int *status)
{
    uint8_t *reply = NULL;
    size_t len = 0;
    char *error = NULL;
    *status = shuffle_rpc_ask_sync(ref, payload, strlen(payload), timeout_ms, &reply, &len, &error);
    if (*status == SHUFFLE_OK)
        return (char *)reply;
    return error ? error : strdup("");
}

static void expect_answer(shuffle_rpc_ref *ref, const char *payload, int want_status,
                          const char *want_text)
{
    int status;
    char *text = ask_text(ref, payload, 2000, &status);
    ck_assert_msg(status == want_status, "ask %s: %s (%s), wanted %s", payload,
                  shuffle_rpc_status_name(status), text, shuffle_rpc_status_name(want_status));
    ck_assert_msg(strstr(text, want_text), "ask %s: '%s' lacks '%s'", payload, text, want_text);
    free(text);
}

static bool one_refused(void *arg)
{
    return atomic_load(&((struct recorder *)arg)->replies_refused) == 1;
}

static struct recorder *held_recorder;

static bool has_held(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_recorder->lock);
    bool held = held_recorder->held != NULL;
    pthread_mutex_unlock(&held_recorder->lock);
    return held;
}

struct later {
    shuffle_rpc_ref *ref;
    int status;
    char *text;
};

static void *ask_in_thread(void *arg)
{
    struct later *l = arg;
    l->text = ask_text(l->ref, "hold", 5000, &l->status);
    return NULL;
}

/* Local and loopback refs alike: echo, remote error text, exactly once, answered later from
 * another thread, timeout. */
static void asks_against(shuffle_rpc_env *env, shuffle_rpc_ref *ref, struct recorder *r)
{
    expect_answer(ref, "hello", SHUFFLE_OK, "hello");
    expect_answer(ref, "fail", SHUFFLE_RPC_EREMOTE, "the endpoint says no");
    expect_answer(ref, "twice", SHUFFLE_OK, "one");
    /* the second answer, tried after the first went out, was refused */
    ck_assert(harness_wait_until(one_refused, r, 5000, 1));
    struct later l = {.ref = ref};
    pthread_t t;
    held_recorder = r;
    pthread_create(&t, NULL, ask_in_thread, &l);
    ck_assert(harness_wait_until(has_held, NULL, 5000, 2));
    ck_assert_int_eq(shuffle_rpc_reply_ok(r->held, "later", 5), SHUFFLE_OK);
    r->held = NULL;
    pthread_join(t, NULL);
    ck_assert_int_eq(l.status, SHUFFLE_OK);
    ck_assert_str_eq(l.text, "later");
    free(l.text);
    int status;
    char *text = ask_text(ref, "never", 100, &status);
    ck_assert_int_eq(status, SHUFFLE_RPC_ETIMEDOUT);
    free(text);
    /* the late answer is dropped: nobody waits for it any more */
    ck_assert_int_eq(shuffle_rpc_reply_ok(r->held, "late", 4), SHUFFLE_OK);
    r->held = NULL;
    struct shuffle_rpc_env_stats st;
    shuffle_rpc_env_stats(env, &st);
    ck_assert_uint_eq(st.asks_in_flight, 0);
}

START_TEST(local_asks)
{
    shuffle_rpc_env *env = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    shuffle_rpc_ref *ref, *missing;
    ck_assert_int_eq(shuffle_rpc_register(env, "svc", &ep, &ref), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_lookup(env, NULL, 0, "nope", 0, &missing),
                     SHUFFLE_RPC_ENOENDPOINT);
    asks_against(env, ref, &r);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(env);
}
END_TEST

START_TEST(remote_asks_and_failures)
{
    shuffle_rpc_env *server = env_new(true, 0, 0), *client = env_new(false, 0, 0);
    int port = shuffle_rpc_env_port(server);
    ck_assert_int_gt(port, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    ck_assert_int_eq(shuffle_rpc_register(server, "svc", &ep, NULL), SHUFFLE_OK);
    shuffle_rpc_ref *ref, *missing;
    ck_assert_int_eq(shuffle_rpc_lookup(client, "127.0.0.1", port, "nope", 2000, &missing),
                     SHUFFLE_RPC_ENOENDPOINT);
    ck_assert_int_eq(shuffle_rpc_lookup(client, "127.0.0.1", port, "svc", 2000, &ref), SHUFFLE_OK);
    asks_against(client, ref, &r);
    /* a one-way message in order behind them */
    long seq = 0;
    ck_assert_int_eq(shuffle_rpc_send(ref, &seq, sizeof seq), SHUFFLE_OK);
    expect_answer(ref, "after", SHUFFLE_OK, "after"); /* answered after the message ran */
    ck_assert_int_eq(r.received, 1);
    ck_assert_int_eq(shuffle_rpc_unregister(server, "svc"), SHUFFLE_OK);
    expect_answer(ref, "hello", SHUFFLE_RPC_ENOENDPOINT, "no such endpoint: svc");
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

static bool one_active(void *arg)
{
    return atomic_load(&((struct recorder *)arg)->active) == 1;
}

START_TEST(full_inbox_refuses)
{
    shuffle_rpc_env *server = env_new(true, 0, 3), *client = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    atomic_store(&r.gate, 0);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    shuffle_rpc_ref *local, *ref = serve_and_lookup(server, client, "slow", &ep, &local);
    long first = 0;
    ck_assert_int_eq(shuffle_rpc_send(local, &first, sizeof first), SHUFFLE_OK);
    ck_assert(harness_wait_until(one_active, &r, 5000, 1));
    int ok = 0, refused = 0;
    for (long i = 1; i < 10; i++) {
        int s = shuffle_rpc_send(local, &i, sizeof i);
        ok += s == SHUFFLE_OK;
        refused += s == SHUFFLE_RPC_EOVERFLOW;
    }
    /* one taken by the blocked thread, three waiting, the rest refused */
    ck_assert_int_eq(ok, 3);
    ck_assert_int_eq(refused, 6);
    expect_answer(ref, "hello", SHUFFLE_RPC_EOVERFLOW, "inbox full: slow");
    atomic_store(&r.gate, 1);
    shuffle_rpc_ref_free(local);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

START_TEST(outbox_unreachable_then_reconnects)
{
    int port = harness_free_port();
    shuffle_rpc_env *client = env_new(false, 0, 0);
    shuffle_rpc_ref *ref;
    ck_assert_int_eq(shuffle_rpc_lookup(client, "127.0.0.1", port, "svc", 2000, &ref),
                     SHUFFLE_RPC_EUNREACHABLE);
    shuffle_rpc_env *server = env_new(true, port, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    ck_assert_int_eq(shuffle_rpc_register(server, "svc", &ep, NULL), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_lookup(client, "127.0.0.1", port, "svc", 2000, &ref), SHUFFLE_OK);
    expect_answer(ref, "hello", SHUFFLE_OK, "hello");
    /* the peer goes: an ask fails (connection lost, or unreachable when it reconnects) */
    shuffle_rpc_env_free(server);
    int status;
    char *text = ask_text(ref, "hello", 2000, &status);
    ck_assert_msg(status == SHUFFLE_RPC_ECONNLOST || status == SHUFFLE_RPC_EUNREACHABLE, "%s: %s",
                  shuffle_rpc_status_name(status), text);
    free(text);
    /* it comes back on the same port: the next message connects again */
    server = env_new(true, port, 0);
    recorder_init(&r);
    ck_assert_int_eq(shuffle_rpc_register(server, "svc", &ep, NULL), SHUFFLE_OK);
    for (int i = 0; i < 50; i++) {
        text = ask_text(ref, "hello", 2000, &status);
        free(text);
        if (status == SHUFFLE_OK)
            break;
        harness_sleep_ms(20);
    }
    ck_assert_int_eq(status, SHUFFLE_OK);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

/* What a watching endpoint saw: connection notices and errors. */
struct watcher {
    atomic_int connected, disconnected, errors;
    char last_remote[64];
};

static void watch_connected(void *arg, const char *remote)
{
    struct watcher *w = arg;
    snprintf(w->last_remote, sizeof w->last_remote, "%s", remote);
    atomic_fetch_add(&w->connected, 1);
}

static void watch_disconnected(void *arg, const char *remote)
{
    (void)remote;
    atomic_fetch_add(&((struct watcher *)arg)->disconnected, 1);
}

static void watch_error(void *arg, int status, const char *error)
{
    (void)status;
    (void)error;
    atomic_fetch_add(&((struct watcher *)arg)->errors, 1);
}

static bool disconnected_once(void *arg)
{
    return atomic_load(&((struct watcher *)arg)->disconnected) == 1;
}

static bool errored_twice(void *arg)
{
    return atomic_load(&((struct watcher *)arg)->errors) == 2;
}

/* on_connected / on_disconnected with the peer's address; on_error for messages of a kind
 * the endpoint has no callback for (the ask is answered with an error too). */
START_TEST(connection_notices_and_on_error)
{
    shuffle_rpc_env *server = env_new(true, 0, 0), *client = env_new(false, 0, 0);
    struct watcher w = {0};
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.arg = &w;
    ep.on_connected = watch_connected;
    ep.on_disconnected = watch_disconnected;
    ep.on_error = watch_error;
    shuffle_rpc_ref *ref = serve_and_lookup(server, client, "watch", &ep, NULL);
    ck_assert_int_eq(shuffle_rpc_send(ref, "x", 1), SHUFFLE_OK);
    expect_answer(ref, "y", SHUFFLE_RPC_EREMOTE, "does not answer asks");
    ck_assert(harness_wait_until(errored_twice, &w, 5000, 2));
    ck_assert_int_eq(atomic_load(&w.connected), 1);
    ck_assert_msg(strncmp(w.last_remote, "127.0.0.1:", 10) == 0, "%s", w.last_remote);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    ck_assert(harness_wait_until(disconnected_once, &w, 5000, 2));
    shuffle_rpc_env_free(server);
}
END_TEST

/* A frame over the server's max_frame_bytes closes the connection: the ask sees it lost. */
START_TEST(oversized_frame_closes_the_connection)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.max_frame_bytes = 4096;
    shuffle_rpc_env *server = server_with(&o), *client = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    shuffle_rpc_ref *ref = serve_and_lookup(server, client, "svc", &ep, NULL);
    char *big = malloc(8192);
    memset(big, 'b', 8191);
    big[8191] = 0;
    expect_answer(ref, big, SHUFFLE_RPC_ECONNLOST, "lost");
    big[3000] = 0; /* under the limit: the next ask connects again and is answered */
    expect_answer(ref, big, SHUFFLE_OK, "bbb");
    free(big);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

static void *run_base(void *arg)
{
    event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* The env on the caller's event loop (opts.event_base), run by the caller's thread. */
START_TEST(env_on_the_callers_loop)
{
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    pthread_t loop;
    pthread_create(&loop, NULL, run_base, base);
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.event_base = base;
    shuffle_rpc_env *server = server_with(&o), *client = env_new(false, 0, 0);
    struct recorder r;
    recorder_init(&r);
    struct shuffle_rpc_endpoint ep = endpoint_of(&r, false);
    shuffle_rpc_ref *local, *remote = serve_and_lookup(server, client, "svc", &ep, &local);
    expect_answer(local, "on the caller's loop", SHUFFLE_OK, "on the caller's loop");
    expect_answer(remote, "over it", SHUFFLE_OK, "over it");
    shuffle_rpc_ref_free(local);
    shuffle_rpc_ref_free(remote);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
    event_base_loopbreak(base);
    pthread_join(loop, NULL);
    event_base_free(base);
}
END_TEST

START_TEST(payload_fields)
{
    struct shuffle_rpc_fields f = {0};
    ck_assert_int_eq(shuffle_rpc_fields_add(&f, "ab", 2), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_fields_add(&f, "", 0), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_fields_add(&f, "{\"k\":1}", 7), SHUFFLE_OK);
    ck_assert_uint_eq(f.len, 4 + 2 + 4 + 4 + 7);
    size_t pos = 0, len;
    const uint8_t *field;
    ck_assert(shuffle_rpc_fields_next(f.data, f.len, &pos, &field, &len));
    ck_assert_uint_eq(len, 2);
    ck_assert_mem_eq(field, "ab", 2);
    ck_assert(shuffle_rpc_fields_next(f.data, f.len, &pos, &field, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert(shuffle_rpc_fields_next(f.data, f.len, &pos, &field, &len));
    ck_assert_mem_eq(field, "{\"k\":1}", 7);
    ck_assert(!shuffle_rpc_fields_next(f.data, f.len, &pos, &field, &len));
    pos = 0;
    ck_assert(!shuffle_rpc_fields_next(f.data, 5, &pos, &field, &len)); /* truncated */
    ck_assert_uint_eq(pos, 0);
    free(f.data);
}
END_TEST

CHECK_MAIN((.suite = "rpc_env", .name = "rpc_env", .timeout_s = 60),
           inbox_order_start_first_stop_last, thread_safe_endpoint_runs_concurrently, local_asks,
           remote_asks_and_failures, full_inbox_refuses, outbox_unreachable_then_reconnects,
           env_on_the_callers_loop, connection_notices_and_on_error,
           oversized_frame_closes_the_connection, payload_fields)
