/* SPDX-License-Identifier: Apache-2.0 */
/* One I/O thread with its own event_base; it owns the connections handed to it, so their
 * state needs no lock. Other threads talk to it only through worker_post(). */
#ifndef SHUFFLED_SERVER_WORKER_H
#define SHUFFLED_SERVER_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct server;
struct conn;

struct post {
    struct post *next;
    void (*fn)(void *arg);
    void *arg;
};

struct worker {
    struct server *srv;
    int index;
    pthread_t thread;
    bool started;
    struct event_base *base;
    pthread_mutex_t inbox_lock;
    struct post *inbox_head, *inbox_tail;
    struct event *inbox_ev;
    struct conn *conns; /* live connections (doubly linked through conn_link()) */
    size_t nconns;
    bool shutting_down;
    struct event *grace_ev;
    uint8_t read_buf[64 * 1024]; /* every connection of this loop reads into it */
};

struct worker *worker_create(struct server *srv, int index, char *err, size_t errlen);
int worker_start(struct worker *w, char *err, size_t errlen);
/* Runs fn(arg) on w's thread; thread-safe; never fails (aborts on out of memory). */
void worker_post(struct worker *w, void (*fn)(void *arg), void *arg);
bool worker_is_current(const struct worker *w);
/* Hands an accepted socket to w (called from the listener thread); tls: it speaks TLS. */
void worker_accept(struct worker *w, int fd, const struct sockaddr *addr, socklen_t addrlen,
                   bool tls);
/* Asks w to stop: no more reading, finish in-flight responses within the grace period,
 * close everything, then leave its loop. */
void worker_begin_shutdown(struct worker *w);
void worker_join(struct worker *w);
/* After join and after the blocking pool is gone: runs what is left in the inbox (completions
 * of connections that are already closed) and frees the worker. */
void worker_destroy(struct worker *w);

#endif
