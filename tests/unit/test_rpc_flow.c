/* SPDX-License-Identifier: Apache-2.0 */
/* The RPC env's flow over loopback (docs/rpc.md, "Inboxes full" and "run_on_loop"): a slow
 * endpoint sent 10x its inbox's capacity loses no one-way message, in order, while the sender
 * is held back (the server stops reading instead of holding everything); a full inbox holds
 * only its own connection; a stuck endpoint lets its connection go after
 * inbox_stall_timeout_ms (refusals counted); run_on_loop endpoints run on the loop thread in
 * order, answer at once or later, and are stopped in order. */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "../harness/wait.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

/* An endpoint whose receive waits while its gate is closed, checking the sequence numbers
 * (the first 8 bytes of each payload); asks are answered with the count received. */
struct gated {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
    long received, last_seq;
    bool out_of_order;
    atomic_int waiting; /* threads inside receive */
};

static void gated_init(struct gated *g)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->last_seq = -1;
}

static void gate_open(struct gated *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void gated_receive(void *arg, const struct shuffle_rpc_message *m)
{
    struct gated *g = arg;
    long seq = -1;
    if (m->len >= sizeof seq)
        memcpy(&seq, m->payload, sizeof seq);
    atomic_fetch_add(&g->waiting, 1);
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    if (seq != g->last_seq + 1)
        g->out_of_order = true;
    g->last_seq = seq;
    g->received++;
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_sub(&g->waiting, 1);
}

static void count_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    (void)m;
    struct gated *g = arg;
    char text[32];
    pthread_mutex_lock(&g->lock);
    int n = snprintf(text, sizeof text, "%ld", g->received);
    pthread_mutex_unlock(&g->lock);
    shuffle_rpc_reply_ok(r, text, (size_t)n);
}

static void echo_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    (void)arg;
    shuffle_rpc_reply_ok(r, m->payload, m->len);
}

static struct shuffle_rpc_endpoint gated_endpoint(struct gated *g)
{
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.arg = g;
    ep.receive = gated_receive;
    ep.receive_and_reply = count_reply;
    return ep;
}

static shuffle_rpc_env *server_new(int inbox_capacity, int stall_ms)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.listen_host = "127.0.0.1";
    o.inbox_capacity = inbox_capacity;
    o.inbox_stall_timeout_ms = stall_ms;
    shuffle_rpc_env *env;
    char err[256];
    ck_assert_msg(shuffle_rpc_env_new(&o, &env, err, sizeof err) == SHUFFLE_OK, "%s", err);
    return env;
}

static shuffle_rpc_env *client_new(int outbox_capacity)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    if (outbox_capacity)
        o.outbox_capacity = outbox_capacity;
    o.connect_timeout_ms = 2000;
    shuffle_rpc_env *env;
    char err[256];
    ck_assert_msg(shuffle_rpc_env_new(&o, &env, err, sizeof err) == SHUFFLE_OK, "%s", err);
    return env;
}

static shuffle_rpc_ref *lookup(shuffle_rpc_env *client, shuffle_rpc_env *server, const char *name)
{
    shuffle_rpc_ref *ref;
    int status =
        shuffle_rpc_lookup(client, "127.0.0.1", shuffle_rpc_env_port(server), name, 5000, &ref);
    ck_assert_msg(status == SHUFFLE_OK, "lookup %s: %s", name, shuffle_rpc_status_name(status));
    return ref;
}

/* The reply's text (freed by the caller) after asserting the ask succeeded. */
static char *ask_ok(shuffle_rpc_ref *ref, const char *payload, int timeout_ms)
{
    uint8_t *reply = NULL;
    size_t len;
    char *error = NULL;
    int status =
        shuffle_rpc_ask_sync(ref, payload, strlen(payload), timeout_ms, &reply, &len, &error);
    ck_assert_msg(status == SHUFFLE_OK, "ask: %s: %s", shuffle_rpc_status_name(status), error);
    free(error);
    return (char *)reply;
}

/* An ask that a full inbox refused (SHUFFLE_RPC_EOVERFLOW, at its turn) is asked again. */
struct count_ask {
    shuffle_rpc_ref *ref;
    char *text;
};

static bool count_answered(void *arg)
{
    struct count_ask *a = arg;
    uint8_t *reply = NULL;
    size_t len;
    int status = shuffle_rpc_ask_sync(a->ref, "", 0, 60000, &reply, &len, NULL);
    ck_assert_msg(status == SHUFFLE_OK || status == SHUFFLE_RPC_EOVERFLOW, "ask: %s",
                  shuffle_rpc_status_name(status));
    a->text = (char *)reply;
    return status == SHUFFLE_OK;
}

/* The count of a gated endpoint, once its inbox has room for the ask. */
static long count_of(shuffle_rpc_ref *ref)
{
    struct count_ask a = {.ref = ref};
    ck_assert(harness_wait_until(count_answered, &a, 60000, 1));
    long n = atol(a.text);
    free(a.text);
    return n;
}

/* Sends the one-way messages seq next..total-1 of size bytes while the outbox takes them. */
struct sender {
    shuffle_rpc_ref *ref;
    uint8_t *payload;
    size_t size;
    long next, total;
};

static bool send_more(void *arg)
{
    struct sender *s = arg;
    while (s->next < s->total) {
        memcpy(s->payload, &s->next, sizeof s->next);
        int status = shuffle_rpc_send(s->ref, s->payload, s->size);
        ck_assert_msg(status == SHUFFLE_OK || status == SHUFFLE_RPC_EOVERFLOW, "send: %s",
                      shuffle_rpc_status_name(status));
        if (status != SHUFFLE_OK)
            return false;
        s->next++;
    }
    return true;
}

START_TEST(no_one_way_message_lost_to_a_slow_endpoint)
{
    enum { CAPACITY = 16, TOTAL = 10 * CAPACITY, SIZE = 1 << 20 };
    shuffle_rpc_env *server = server_new(CAPACITY, 60000), *client = client_new(8);
    struct gated g;
    gated_init(&g);
    struct shuffle_rpc_endpoint ep = gated_endpoint(&g);
    ck_assert_int_eq(shuffle_rpc_register(server, "slow", &ep, NULL), SHUFFLE_OK);
    shuffle_rpc_ref *ref = lookup(client, server, "slow");
    struct sender s = {.ref = ref, .payload = calloc(1, SIZE), .size = SIZE, .total = TOTAL};
    /* the endpoint takes none: the server stops reading, the sockets' buffers and the
     * client's outbox (8 frames) fill, and the sender is refused long before the 160 MiB
     * are all taken (without back-pressure the server reads them all, refusing most) */
    ck_assert(!harness_wait_until(send_more, &s, 3000, 1));
    ck_assert_int_lt(s.next, TOTAL);
    ck_assert_int_ge(s.next, CAPACITY); /* the inbox itself was filled */
    gate_open(&g);
    ck_assert(harness_wait_until(send_more, &s, 60000, 1));
    /* asked behind the 160 on the same connection: each one was delivered, in order */
    ck_assert_int_eq(count_of(ref), TOTAL);
    ck_assert(!g.out_of_order);
    struct shuffle_rpc_env_stats st;
    shuffle_rpc_env_stats(server, &st);
    ck_assert_uint_eq(st.sends_dropped, 0);
    shuffle_rpc_env_stats(client, &st);
    ck_assert_uint_eq(st.sends_dropped, 0);
    free(s.payload);
    shuffle_rpc_ref_free(ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

static bool one_waiting(void *arg)
{
    return atomic_load(&((struct gated *)arg)->waiting) == 1;
}

/* client sends n small one-way messages to name (seq from 0) */
static void send_small(shuffle_rpc_ref *ref, long n)
{
    for (long seq = 0; seq < n; seq++)
        ck_assert_int_eq(shuffle_rpc_send(ref, &seq, sizeof seq), SHUFFLE_OK);
}

static struct shuffle_rpc_endpoint echo_endpoint(void)
{
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.receive_and_reply = echo_reply;
    return ep;
}

START_TEST(full_inbox_holds_only_its_connection)
{
    shuffle_rpc_env *server = server_new(4, 60000);
    shuffle_rpc_env *flooder = client_new(0), *bystander = client_new(0);
    struct gated g;
    gated_init(&g);
    struct shuffle_rpc_endpoint ep = gated_endpoint(&g), echo = echo_endpoint();
    ck_assert_int_eq(shuffle_rpc_register(server, "stuck", &ep, NULL), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_register(server, "echo", &echo, NULL), SHUFFLE_OK);
    shuffle_rpc_ref *stuck = lookup(flooder, server, "stuck");
    send_small(stuck, 100);
    ck_assert(harness_wait_until(one_waiting, &g, 5000, 1));
    /* the flooder's connection waits behind "stuck"; another connection does not */
    shuffle_rpc_ref *echo_ref = lookup(bystander, server, "echo");
    char *text = ask_ok(echo_ref, "through", 5000);
    ck_assert_str_eq(text, "through");
    free(text);
    ck_assert_int_eq(atomic_load(&g.waiting), 1); /* still stuck meanwhile */
    gate_open(&g);
    ck_assert_int_eq(count_of(stuck), 100);
    ck_assert(!g.out_of_order);
    struct shuffle_rpc_env_stats st;
    shuffle_rpc_env_stats(server, &st);
    ck_assert_uint_eq(st.sends_dropped, 0);
    shuffle_rpc_ref_free(stuck);
    shuffle_rpc_ref_free(echo_ref);
    shuffle_rpc_env_free(flooder);
    shuffle_rpc_env_free(bystander);
    shuffle_rpc_env_free(server);
}
END_TEST

START_TEST(stuck_endpoint_lets_its_connection_go)
{
    shuffle_rpc_env *server = server_new(4, 200), *client = client_new(0);
    struct gated g;
    gated_init(&g);
    struct shuffle_rpc_endpoint ep = gated_endpoint(&g), echo = echo_endpoint();
    ck_assert_int_eq(shuffle_rpc_register(server, "stuck", &ep, NULL), SHUFFLE_OK);
    ck_assert_int_eq(shuffle_rpc_register(server, "echo", &echo, NULL), SHUFFLE_OK);
    shuffle_rpc_ref *stuck = lookup(client, server, "stuck"),
                    *echo_ref = lookup(client, server, "echo");
    send_small(stuck, 100);
    ck_assert(harness_wait_until(one_waiting, &g, 5000, 1));
    /* behind the stuck endpoint's messages on the same connection: answered once "stuck"
     * took nothing for 200 ms and its waiting messages were refused */
    char *text = ask_ok(echo_ref, "after", 10000);
    ck_assert_str_eq(text, "after");
    free(text);
    ck_assert_int_eq(atomic_load(&g.waiting), 1); /* it never moved */
    struct shuffle_rpc_env_stats st;
    shuffle_rpc_env_stats(server, &st);
    ck_assert_uint_gt(st.sends_dropped, 0);
    gate_open(&g);
    /* what it had taken or held is delivered; the rest was refused and counted, none lost
     * silently */
    long delivered = count_of(stuck);
    ck_assert_int_eq(delivered + (long)st.sends_dropped, 100);
    ck_assert(!g.out_of_order);
    shuffle_rpc_ref_free(stuck);
    shuffle_rpc_ref_free(echo_ref);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
}
END_TEST

/* A run_on_loop endpoint: where and in which order its callbacks run. */
struct on_loop {
    pthread_mutex_t lock;
    char trace[256];
    long received;
    bool blocked_call_refused; /* ask_sync inside a callback: refused on the loop thread */
    shuffle_rpc_ref *self;
    shuffle_rpc_reply *held;
};

static void trace(struct on_loop *l, const char *what)
{
    pthread_mutex_lock(&l->lock);
    strncat(l->trace, what, sizeof l->trace - strlen(l->trace) - 1);
    pthread_mutex_unlock(&l->lock);
}

static void loop_start(void *arg)
{
    trace(arg, "start ");
}

static void loop_stop(void *arg)
{
    trace(arg, "stop");
}

static void loop_receive(void *arg, const struct shuffle_rpc_message *m)
{
    struct on_loop *l = arg;
    l->received++;
    if (m->len == 1 && m->payload[0] == '!' && l->self) {
        uint8_t *reply = NULL;
        size_t len;
        l->blocked_call_refused =
            shuffle_rpc_ask_sync(l->self, "x", 1, 1000, &reply, &len, NULL) == SHUFFLE_EINVAL;
        free(reply);
    }
}

static void loop_reply(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r)
{
    struct on_loop *l = arg;
    if (m->len == 5 && memcmp(m->payload, "later", 5) == 0) {
        pthread_mutex_lock(&l->lock);
        l->held = r;
        pthread_mutex_unlock(&l->lock);
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%ld", l->received);
    shuffle_rpc_reply_ok(r, text, (size_t)n);
}

static bool reply_held(void *arg)
{
    struct on_loop *l = arg;
    pthread_mutex_lock(&l->lock);
    bool held = l->held != NULL;
    pthread_mutex_unlock(&l->lock);
    return held;
}

struct later_ask {
    shuffle_rpc_ref *ref;
    char *text;
};

static void *ask_later(void *arg)
{
    struct later_ask *a = arg;
    a->text = ask_ok(a->ref, "later", 5000);
    return NULL;
}

START_TEST(run_on_loop_endpoint)
{
    shuffle_rpc_env *server = server_new(1024, 10000), *client = client_new(0);
    struct on_loop l = {.trace = ""};
    pthread_mutex_init(&l.lock, NULL);
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.arg = &l;
    ep.run_on_loop = true;
    ep.on_start = loop_start;
    ep.on_stop = loop_stop;
    ep.receive = loop_receive;
    ep.receive_and_reply = loop_reply;
    shuffle_rpc_ref *local;
    ck_assert_int_eq(shuffle_rpc_register(server, "fast", &ep, &local), SHUFFLE_OK);
    l.self = local;
    shuffle_rpc_ref *remote = lookup(client, server, "fast");
    /* remote and local messages, each answered after those before it */
    send_small(remote, 500);
    char *text = ask_ok(remote, "", 5000);
    ck_assert_str_eq(text, "500");
    free(text);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(shuffle_rpc_send(local, "+", 1), SHUFFLE_OK);
    text = ask_ok(local, "", 5000);
    ck_assert_str_eq(text, "510");
    free(text);
    /* the callbacks run on the loop thread: a blocking ask there is refused */
    ck_assert_int_eq(shuffle_rpc_send(remote, "!", 1), SHUFFLE_OK);
    text = ask_ok(remote, "", 5000);
    free(text);
    ck_assert(l.blocked_call_refused);
    /* a reply context kept and answered later from another thread */
    struct later_ask a = {.ref = remote};
    pthread_t t;
    pthread_create(&t, NULL, ask_later, &a);
    ck_assert(harness_wait_until(reply_held, &l, 5000, 1));
    ck_assert_int_eq(shuffle_rpc_reply_ok(l.held, "done", 4), SHUFFLE_OK);
    pthread_join(t, NULL);
    ck_assert_str_eq(a.text, "done");
    free(a.text);
    ck_assert_int_eq(shuffle_rpc_unregister(server, "fast"), SHUFFLE_OK);
    ck_assert_str_eq(l.trace, "start stop");
    shuffle_rpc_ref_free(local);
    shuffle_rpc_ref_free(remote);
    shuffle_rpc_env_free(client);
    shuffle_rpc_env_free(server);
    pthread_mutex_destroy(&l.lock);
}
END_TEST

CHECK_MAIN((.suite = "rpc_flow", .name = "rpc_flow", .timeout_s = 120),
           no_one_way_message_lost_to_a_slow_endpoint, full_inbox_holds_only_its_connection,
           stuck_endpoint_lets_its_connection_go, run_on_loop_endpoint)
