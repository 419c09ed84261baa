/* SPDX-License-Identifier: Apache-2.0 */
/* Two nodes of libshuffle's RPC env exchanging messages (docs/rpc.md).
 *
 * Node "a" and node "b" are two envs listening on loopback ports (in one process here; in
 * real use each runs on its own machine and only the host:port changes). Each registers an
 * endpoint "player". a's player asks b's player "ping N"; b's player answers "pong N" and
 * also sends a one-way "seen N" to a's player, found by the sender address the message
 * carries. After ROUNDS rounds the program checks that every pong and every "seen" arrived,
 * in order, and exits 0.
 *
 *   cc rpc_two_nodes.c $(pkg-config --cflags --libs libshuffle) -o rpc_two_nodes */
#include <config.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shuffle/client.h"
#include "shuffle/rpc.h"

#define ROUNDS 1000

/* One node's player endpoint and what it saw. */
struct player {
    const char *node;
    shuffle_rpc_env *env;
    atomic_int seen;  /* "seen N" messages received, checked in order */
    atomic_int wrong; /* anything out of order or unexpected */
};

/* One-way messages: "seen N" from the other node. Runs on a dispatcher thread, one message
 * at a time for this endpoint, in the order they were sent. */
static void player_receive(void *arg, const struct shuffle_rpc_message *m)
{
    struct player *p = arg;
    int n = -1;
    if (sscanf((const char *)m->payload, "seen %d", &n) != 1 || n != atomic_load(&p->seen))
        atomic_fetch_add(&p->wrong, 1);
    atomic_fetch_add(&p->seen, 1);
}

/* Asks: "ping N" -> "pong N", and a one-way "seen N" back to the asking node's player. */
static void player_receive_and_reply(void *arg, const struct shuffle_rpc_message *m,
                                     shuffle_rpc_reply *reply)
{
    struct player *p = arg;
    int n;
    if (sscanf((const char *)m->payload, "ping %d", &n) != 1) {
        shuffle_rpc_reply_error(reply, "expected 'ping N'");
        return;
    }
    char text[32];
    int len = snprintf(text, sizeof text, "pong %d", n);
    shuffle_rpc_reply_ok(reply, text, (size_t)len);
    /* the sender's address travels in the envelope: look its player up once */
    static _Thread_local shuffle_rpc_ref *back;
    if (!back && m->sender_host &&
        shuffle_rpc_lookup(p->env, m->sender_host, m->sender_port, "player", 5000, &back) !=
            SHUFFLE_OK)
        return;
    len = snprintf(text, sizeof text, "seen %d", n);
    shuffle_rpc_send(back, text, (size_t)len);
    if (n == ROUNDS - 1) {
        shuffle_rpc_ref_free(back);
        back = NULL;
    }
}

static shuffle_rpc_env *start_node(struct player *p, const char *node)
{
    struct shuffle_rpc_env_options o;
    shuffle_rpc_env_options_init(&o);
    o.listen_host = "127.0.0.1";
    o.port = 0; /* any free port */
    o.worker_threads = 1;
    char err[256];
    if (shuffle_rpc_env_new(&o, &p->env, err, sizeof err) != SHUFFLE_OK) {
        fprintf(stderr, "node %s: %s\n", node, err);
        exit(1);
    }
    p->node = node;
    struct shuffle_rpc_endpoint ep;
    shuffle_rpc_endpoint_init(&ep);
    ep.arg = p;
    ep.receive = player_receive;
    ep.receive_and_reply = player_receive_and_reply;
    if (shuffle_rpc_register(p->env, "player", &ep, NULL) != SHUFFLE_OK)
        exit(1);
    return p->env;
}

int main(void)
{
    static struct player a, b;
    start_node(&a, "a");
    start_node(&b, "b");
    shuffle_rpc_ref *to_b;
    int status =
        shuffle_rpc_lookup(a.env, "127.0.0.1", shuffle_rpc_env_port(b.env), "player", 5000, &to_b);
    if (status != SHUFFLE_OK) {
        fprintf(stderr, "lookup: %s\n", shuffle_rpc_strerror(status));
        return 1;
    }
    int pongs = 0;
    for (int n = 0; n < ROUNDS; n++) {
        char ping[32], want[32];
        int len = snprintf(ping, sizeof ping, "ping %d", n);
        snprintf(want, sizeof want, "pong %d", n);
        uint8_t *reply;
        size_t reply_len;
        char *error;
        status = shuffle_rpc_ask_sync(to_b, ping, (size_t)len, 5000, &reply, &reply_len, &error);
        if (status != SHUFFLE_OK) {
            fprintf(stderr, "ask %d: %s: %s\n", n, shuffle_rpc_status_name(status), error);
            free(error);
            return 1;
        }
        pongs += strcmp((const char *)reply, want) == 0;
        free(reply);
    }
    /* "seen" messages are one-way: stopping a's player processes those already in its inbox,
     * and b sent each before answering the next ping, so wait for the last one first */
    for (int tries = 0; atomic_load(&a.seen) < ROUNDS && tries < 5000; tries++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    shuffle_rpc_ref_free(to_b);
    shuffle_rpc_env_free(b.env);
    shuffle_rpc_env_free(a.env);
    printf("%d pings, %d pongs, %d seen, %d out of order\n", ROUNDS, pongs, atomic_load(&a.seen),
           atomic_load(&a.wrong) + atomic_load(&b.wrong));
    return pongs == ROUNDS && atomic_load(&a.seen) == ROUNDS &&
                   atomic_load(&a.wrong) + atomic_load(&b.wrong) == 0
               ? 0
               : 1;
}
