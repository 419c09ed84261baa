/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-rpc bench: see rpc_bench.h. Each connection is its own client env (one outbox,
 * one TCP connection) driven by one thread.
 *   send: one-way messages of --size bytes to counter as fast as the outbox takes them; the
 *         rate is what counter counted, up to the answer of a final ask on every connection
 *         (asks are answered after the messages before them).
 *   ask:  asks of --size bytes to echo, --in-flight of them outstanding over all
 *         connections (closed loop), or --rate asks per second (open loop, those due issued
 *         every millisecond, still at most --in-flight outstanding); latency per ask from
 *         issue to callback. Each connection's env runs on an event loop of the bench's own
 *         thread, which also issues the asks, so an ask costs no hand-off between the bench
 *         and the env (one thread wakes per millisecond tick and per answer read). */
#include <config.h>

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "shuffle/client.h"
#include "shuffle/rpc.h"
#include "tools/rpc_bench.h"
#include "tools/rpc_cli.h"

/* Latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket. */
#define HIST_BUCKETS 100001

struct bench_opts {
    bool ask, json;
    long in_flight, connections, size, seconds, rate;
    char host[256];
    int port;
    const char *peer;
    struct secure_opts sec; /* --auth-secret-file, --crypto, --crypto-cipher */
};

/* Time until an outstanding ask is abandoned (the env's timeout fails it). */
#define ASK_TIMEOUT_MS 10000

struct bench_conn {
    const struct bench_opts *o;
    shuffle_rpc_env *env;
    shuffle_rpc_ref *ref, *counter;
    pthread_t thread;
    /* ask mode: the env's loop, run by loop_thread, which issues the asks (tick: --rate) */
    struct event_base *base;
    pthread_t loop_thread;
    struct event *tick;
    uint64_t start_ns, issued;
    uint8_t *payload;
    uint64_t deadline_ns;
    long in_flight; /* this connection's share */
    /* counted on the caller's thread (send) or on the env's loop thread (ask callbacks) */
    uint64_t sent, answered;
    _Atomic uint64_t errors;
    uint32_t *hist;
    atomic_long outstanding;
    atomic_bool stopping;
};

/* One outstanding ask's start time (closed loop: the slot is reused by the callback). */
struct ask_slot {
    struct bench_conn *conn;
    uint64_t start_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record(struct bench_conn *c, uint64_t start_ns)
{
    uint64_t us = (now_ns() - start_ns) / 1000;
    c->hist[us < HIST_BUCKETS - 1 ? us : HIST_BUCKETS - 1]++;
}

static void on_answer(void *arg, int status, const char *error, const uint8_t *reply, size_t len);

static int issue(struct ask_slot *s)
{
    struct bench_conn *c = s->conn;
    s->start_ns = now_ns();
    int status =
        shuffle_rpc_ask(c->ref, c->payload, (size_t)c->o->size, ASK_TIMEOUT_MS, on_answer, s);
    if (status != SHUFFLE_OK) {
        c->errors++;
        return status;
    }
    return SHUFFLE_OK;
}

/* Runs on the connection's env loop thread. */
static void on_answer(void *arg, int status, const char *error, const uint8_t *reply, size_t len)
{
    (void)error;
    (void)reply;
    struct ask_slot *s = arg;
    struct bench_conn *c = s->conn;
    if (status == SHUFFLE_OK && len == (size_t)c->o->size) {
        c->answered++;
        record(c, s->start_ns);
    } else {
        c->errors++;
    }
    /* closed loop: the slot goes out again until the deadline */
    if (!c->o->rate && !atomic_load(&c->stopping) && now_ns() < c->deadline_ns &&
        issue(s) == SHUFFLE_OK)
        return;
    free(s);
    atomic_fetch_sub(&c->outstanding, 1);
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* One more ask outstanding (a new slot). */
static void start_slot(struct bench_conn *c)
{
    struct ask_slot *s = malloc(sizeof *s);
    if (!s) {
        c->errors++;
        return;
    }
    s->conn = c;
    atomic_fetch_add(&c->outstanding, 1);
    if (issue(s) != SHUFFLE_OK) {
        free(s);
        atomic_fetch_sub(&c->outstanding, 1);
    }
}

/* The loop: open loop, this connection's share of --rate, the asks due by now issued every
 * millisecond (one wake-up per millisecond, not per ask). */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct bench_conn *c = arg;
    uint64_t now = now_ns();
    double gap = 1e9 * (double)c->o->connections / (double)c->o->rate;
    for (; c->start_ns + (uint64_t)(gap * (double)c->issued) <= now &&
           c->start_ns + (uint64_t)(gap * (double)c->issued) < c->deadline_ns;
         c->issued++) {
        if (atomic_load(&c->outstanding) >= c->in_flight)
            c->errors++; /* the server fell behind: counted, not queued */
        else
            start_slot(c);
    }
    if (now >= c->deadline_ns)
        event_del(c->tick);
}

/* The loop: closed loop, the slots go out (answers send them again). */
static void on_first_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct bench_conn *c = arg;
    for (long i = 0; i < c->in_flight; i++)
        start_slot(c);
}

static void *loop_main(void *arg)
{
    event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* Ask mode: the asks start on c's loop; returns when the last one completed. */
static void *ask_thread(void *arg)
{
    struct bench_conn *c = arg;
    c->start_ns = now_ns();
    struct timeval ms = {0, 1000};
    if (c->o->rate)
        event_add(c->tick, &ms);
    else
        event_base_once(c->base, -1, EV_TIMEOUT, on_first_tick, c, NULL);
    sleep_until(c->deadline_ns);
    atomic_store(&c->stopping, true);
    struct timespec wait = {0, 1000000};
    while (atomic_load(&c->outstanding) > 0)
        nanosleep(&wait, NULL);
    return NULL;
}

/* The counter's count in *n (if not NULL), asked after what this connection sent before. A
 * full inbox refuses an ask at its turn (docs/rpc.md): asked again until it has room. */
static int ask_count(shuffle_rpc_ref *counter, unsigned long *n)
{
    struct timespec pause = {0, 1000000};
    for (;;) {
        uint8_t *reply = NULL;
        size_t len;
        int status = shuffle_rpc_ask_sync(counter, "", 0, 60000, &reply, &len, NULL);
        if (status == SHUFFLE_OK && n)
            *n = strtoul((const char *)reply, NULL, 10);
        free(reply);
        if (status != SHUFFLE_RPC_EOVERFLOW)
            return status;
        nanosleep(&pause, NULL);
    }
}

static void *send_thread(void *arg)
{
    struct bench_conn *c = arg;
    /* sleeps rather than spins: on 2 shared cores a spinning sender takes the server's CPU;
     * a full outbox holds far more than 100 µs of messages */
    struct timespec pause = {0, 100000};
    uint64_t sent = 0;
    for (;;) {
        if ((sent & 1023) == 0 && now_ns() >= c->deadline_ns)
            break;
        int status = shuffle_rpc_send(c->ref, c->payload, (size_t)c->o->size);
        if (status == SHUFFLE_OK)
            sent++;
        else if (status == SHUFFLE_RPC_EOVERFLOW)
            nanosleep(&pause, NULL); /* the outbox is full: the connection sets the pace */
        else
            c->errors++;
    }
    c->sent = sent;
    /* answered after every message before it on this connection was counted */
    if (ask_count(c->counter, NULL) != SHUFFLE_OK)
        c->errors++;
    return NULL;
}

static double percentile_us(const uint64_t *hist, uint64_t total, double p)
{
    uint64_t want = (uint64_t)(p * (double)total), seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > want)
            return (double)i;
    }
    return total ? (double)(HIST_BUCKETS - 1) : 0;
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"in-flight", required_argument, NULL, 'i'},
        {"connections", required_argument, NULL, 'c'},
        {"size", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"rate", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        RPC_CLI_SECURITY_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    *o = (struct bench_opts){.in_flight = 64, .connections = 1, .size = 100, .seconds = 5};
    const char *mode = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = c == '?';
        if (c == 'm')
            mode = optarg;
        else if (c == 'i')
            bad = rpc_cli_int(optarg, "--in-flight", 1, 1000000, &o->in_flight);
        else if (c == 'c')
            bad = rpc_cli_int(optarg, "--connections", 1, 256, &o->connections);
        else if (c == 's')
            bad = rpc_cli_int(optarg, "--size", 0, 16 << 20, &o->size);
        else if (c == 't')
            bad = rpc_cli_int(optarg, "--seconds", 1, 3600, &o->seconds);
        else if (c == 'r')
            bad = rpc_cli_int(optarg, "--rate", 1, 100000000, &o->rate);
        else if (c == 'j')
            o->json = true;
        else
            rpc_cli_security_opt(c, optarg, &o->sec);
        if (bad)
            return -1;
    }
    if (!mode || (strcmp(mode, "send") != 0 && strcmp(mode, "ask") != 0) || argc - optind != 1) {
        fprintf(stderr,
                "usage: shuffle-rpc bench HOST:PORT --mode send|ask [--in-flight N] "
                "[--connections N] [--size BYTES] [--seconds S] [--rate R] [--json]\n"
                "       [--auth-secret-file FILE [--crypto MODE [--crypto-cipher ctr|gcm]]]\n");
        return -1;
    }
    o->ask = strcmp(mode, "ask") == 0;
    o->peer = argv[optind];
    if (o->in_flight < o->connections)
        o->in_flight = o->connections;
    return 0;
}

/* Ask mode: c's own event loop, on a thread of its own, for its env. */
static int start_loop(struct bench_conn *c)
{
    if (!(c->base = event_base_new()) ||
        !(c->tick = event_new(c->base, -1, EV_PERSIST, on_tick, c)) ||
        pthread_create(&c->loop_thread, NULL, loop_main, c->base) != 0) {
        fprintf(stderr, "shuffle-rpc: bench: cannot start an event loop\n");
        if (c->tick)
            event_free(c->tick);
        if (c->base)
            event_base_free(c->base);
        c->base = NULL;
        return SHUFFLE_ELOCAL;
    }
    return SHUFFLE_OK;
}

/* After the env is freed. */
static void stop_loop(struct bench_conn *c)
{
    if (!c->base)
        return;
    event_base_loopbreak(c->base);
    pthread_join(c->loop_thread, NULL);
    event_free(c->tick);
    event_base_free(c->base);
}

int rpc_bench_main(int argc, char **argv)
{
    struct bench_opts o;
    if (parse(argc, argv, &o) != 0)
        return 2;
    evthread_use_pthreads(); /* before any base: the envs' loops are run by other threads */
    struct bench_conn *conns = calloc((size_t)o.connections, sizeof *conns);
    int status = SHUFFLE_OK;
    long opened = 0;
    for (; opened < o.connections && status == SHUFFLE_OK; opened++) {
        struct bench_conn *c = &conns[opened];
        c->o = &o;
        c->in_flight = o.in_flight / o.connections + (opened < o.in_flight % o.connections);
        c->payload = calloc(1, (size_t)o.size + 1);
        c->hist = calloc(HIST_BUCKETS, sizeof *c->hist);
        memset(c->payload, 'x', (size_t)o.size);
        if (o.ask)
            status = start_loop(c);
        if (status == SHUFFLE_OK)
            status = rpc_cli_connect(o.peer, o.ask ? "echo" : "counter", &o.sec, c->base, 10000,
                                     o.host, sizeof o.host, &o.port, &c->env, &c->ref);
        if (status == SHUFFLE_OK)
            status = shuffle_rpc_lookup(c->env, o.host, o.port, "counter", 10000, &c->counter);
    }
    unsigned long before = 0, after = 0;
    uint64_t start = now_ns(), end = start;
    if (status == SHUFFLE_OK) {
        if (ask_count(conns[0].counter, &before) != SHUFFLE_OK)
            conns[0].errors++;
        start = now_ns();
        for (long i = 0; i < o.connections; i++) {
            conns[i].deadline_ns = start + (uint64_t)o.seconds * 1000000000u;
            pthread_create(&conns[i].thread, NULL, o.ask ? ask_thread : send_thread, &conns[i]);
        }
        for (long i = 0; i < o.connections; i++)
            pthread_join(conns[i].thread, NULL);
        end = now_ns();
        if (ask_count(conns[0].counter, &after) != SHUFFLE_OK)
            conns[0].errors++;
    }
    uint64_t sent = 0, answered = 0, errors = 0;
    uint64_t *hist = calloc(HIST_BUCKETS, sizeof *hist);
    for (long i = 0; i < opened; i++) {
        struct bench_conn *c = &conns[i];
        sent += c->sent;
        answered += c->answered;
        errors += c->errors;
        for (size_t b = 0; b < HIST_BUCKETS; b++)
            hist[b] += c->hist[b];
        shuffle_rpc_ref_free(c->ref);
        shuffle_rpc_ref_free(c->counter);
        shuffle_rpc_env_free(c->env);
        stop_loop(c);
        free(c->payload);
        free(c->hist);
    }
    free(conns);
    if (status != SHUFFLE_OK) {
        free(hist);
        return rpc_cli_exit_status(status);
    }
    double secs = (double)(end - start) / 1e9;
    uint64_t done = o.ask ? answered : after - before;
    if (!o.ask && sent > done)
        errors += sent - done; /* sent but never counted */
    double rate = secs > 0 ? (double)done / secs : 0;
    double p50 = o.ask ? percentile_us(hist, answered, 0.50) : 0;
    double p99 = o.ask ? percentile_us(hist, answered, 0.99) : 0;
    free(hist);
    printf("%s: %.0f msgs/s over %ld connection(s), %ld bytes each, %.2f s", o.ask ? "ask" : "send",
           rate, o.connections, o.size, secs);
    if (o.ask)
        printf(", %ld in flight%s, p50 %.0f us, p99 %.0f us", o.in_flight, o.rate ? " at most" : "",
               p50, p99);
    printf(", errors %llu\n", (unsigned long long)errors);
    if (o.json)
        printf("{\"mode\":\"%s\",\"msgs_per_s\":%.0f,\"p50_us\":%.0f,\"p99_us\":%.0f,"
               "\"errors\":%llu,\"messages\":%llu,\"seconds\":%.3f,\"size\":%ld,"
               "\"connections\":%ld,\"in_flight\":%ld,\"rate\":%ld}\n",
               o.ask ? "ask" : "send", rate, p50, p99, (unsigned long long)errors,
               (unsigned long long)done, secs, o.size, o.connections, o.in_flight, o.rate);
    return errors ? 1 : 0;
}
