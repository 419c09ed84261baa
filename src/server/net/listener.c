/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "server/net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/ops/sd.h"
#include "server/server.h"
#include "server/net/worker.h"

struct bound {
    struct evconnlistener *ev;
    char address[80];
    int port;
    bool tls; /* accepted connections speak TLS (tls_enabled, tls_port) */
};

struct listener {
    struct server *srv;
    unsigned next_worker;
    time_t last_full_warning, last_error_warning;
    struct event *resume_ev; /* re-enables accepting after running out of descriptors */
    size_t count;
    struct bound socks[];
};

static void accept_cb(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *addr,
                      int addrlen, void *arg)
{
    struct listener *l = arg;
    struct server *srv = l->srv;
    bool tls = false;
    for (size_t i = 0; i < l->count; i++)
        if (l->socks[i].ev == ev)
            tls = l->socks[i].tls;
    uint32_t max = server_config(srv)->max_connections;
    uint32_t n = (uint32_t)atomic_fetch_add(&srv->conns, 1);
    if (n >= max) {
        atomic_fetch_sub(&srv->conns, 1);
        close(fd);
        time_t now = time(NULL);
        if (now != l->last_full_warning) { /* at most one line per second */
            l->last_full_warning = now;
            log_warn("max_connections (%u) reached: refusing new connections", max);
        }
        return;
    }
    struct worker *w = srv->workers[l->next_worker++ % (unsigned)srv->nworkers];
    worker_accept(w, fd, addr, (socklen_t)addrlen, tls);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < l->count; i++)
        evconnlistener_enable(l->socks[i].ev);
}

static void accept_error_cb(struct evconnlistener *ev, void *arg)
{
    struct listener *l = arg;
    (void)ev;
    int e = EVUTIL_SOCKET_ERROR();
    time_t now = time(NULL);
    if (now != l->last_error_warning) {
        l->last_error_warning = now;
        log_warn("accept failed: %s", evutil_socket_error_to_string(e));
    }
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* out of descriptors or memory: pause accepting for 100 ms instead of spinning; the
         * kernel's backlog holds the waiting clients */
        for (size_t i = 0; i < l->count; i++)
            evconnlistener_disable(l->socks[i].ev);
        struct timeval tv = {0, 100000};
        evtimer_add(l->resume_ev, &tv);
    }
}

static int watch_socket(struct listener *l, struct event_base *base, int fd, struct bound *b,
                        char *err, size_t errlen);

static int bind_one(struct listener *l, struct event_base *base, const char *host, int port,
                    struct bound *b, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "listen address '%s': %s (a numeric IPv4 or IPv6 address is needed)",
                 host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (ai->ai_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, server_config(l->srv)->listen_backlog) != 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return watch_socket(l, base, fd, b, err, errlen);
}

/* Names a listening socket and accepts on it; takes fd (closed on failure). */
static int watch_socket(struct listener *l, struct event_base *base, int fd, struct bound *b,
                        char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char h[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof h);
        b->port = ntohs(in6->sin6_port);
        snprintf(b->address, sizeof b->address, "[%s]:%d", h, b->port);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, h, sizeof h);
        b->port = ntohs(in->sin_port);
        snprintf(b->address, sizeof b->address, "%s:%d", h, b->port);
    }
    /* backlog 0: the socket already listens with the configured backlog (or systemd's
     * Backlog=); libevent's -1 would call listen() again and cut it to 128 */
    b->ev = evconnlistener_new(base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
                               fd);
    if (!b->ev) {
        snprintf(err, errlen, "cannot watch the socket on %s", b->address);
        close(fd);
        return -1;
    }
    evconnlistener_set_error_cb(b->ev, accept_error_cb);
    return 0;
}

/* tls_port: every listen address again, speaking TLS. */
static int bind_tls_port(struct listener *l, struct event_base *base,
                         const struct shuffled_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->listen_count; i++) {
        struct bound *b = &l->socks[l->count];
        if (bind_one(l, base, cfg->listen[i], cfg->tls_port, b, err, errlen) != 0)
            return -1;
        b->tls = true;
        l->count++;
    }
    return 0;
}

/* Socket activation (shuffled.socket): the sockets systemd passed replace "listen"/"port".
 * Takes the fds; closes l on failure. */
static struct listener *listener_adopt(struct listener *l, struct event_base *base, int *fds, int n,
                                       char *err, size_t errlen)
{
    int i = 0;
    for (; l && i < n; i++) {
        evutil_make_socket_nonblocking(fds[i]);
        l->socks[i].tls = server_config(l->srv)->tls_enabled;
        if (watch_socket(l, base, fds[i], &l->socks[i], err, errlen) != 0) {
            listener_close(l);
            l = NULL;
        } else {
            l->count = (size_t)i + 1;
        }
    }
    for (; i < n; i++) /* not taken: do not leak them */
        close(fds[i]);
    if (l)
        log_info("using %d socket(s) passed by systemd; \"listen\" and \"port\" are ignored", n);
    free(fds);
    return l;
}

struct listener *listener_open(struct server *srv, struct event_base *base, char *err,
                               size_t errlen)
{
    const struct shuffled_config *cfg = server_config(srv);
    int *fds = NULL;
    int nfds = systemd_listen_fds(&fds, err, errlen);
    if (nfds < 0)
        return NULL;
    size_t nsocks = nfds > 0 ? (size_t)nfds : cfg->listen_count * (cfg->tls_port ? 2 : 1);
    struct listener *l = calloc(1, sizeof *l + nsocks * sizeof(struct bound));
    if (!l) {
        snprintf(err, errlen, "listener: out of memory");
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        free(fds);
        return NULL;
    }
    l->srv = srv;
    l->resume_ev = evtimer_new(base, resume_cb, l);
    if (!l->resume_ev) {
        snprintf(err, errlen, "listener: out of memory");
        free(l);
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        free(fds);
        return NULL;
    }
    if (nfds > 0)
        return listener_adopt(l, base, fds, nfds, err, errlen);
    int port = cfg->port;
    for (size_t i = 0; i < cfg->listen_count; i++) {
        char err2[256];
        int rc = bind_one(l, base, cfg->listen[i], port, &l->socks[i], err, errlen);
        if (rc != 0 && cfg->port == 0 && port != 0) /* the same ephemeral port may be taken */
            rc = bind_one(l, base, cfg->listen[i], 0, &l->socks[i], err2, sizeof err2);
        if (rc != 0) {
            listener_close(l);
            return NULL;
        }
        l->socks[i].tls = cfg->tls_enabled;
        l->count = i + 1;
        if (port == 0)
            port = l->socks[i].port;
    }
    if (cfg->tls_port && bind_tls_port(l, base, cfg, err, errlen) != 0) {
        listener_close(l);
        return NULL;
    }
    return l;
}

size_t listener_count(const struct listener *l)
{
    return l->count;
}

const char *listener_address(const struct listener *l, size_t i)
{
    return l->socks[i].address;
}

int listener_port(const struct listener *l, size_t i)
{
    return l->socks[i].port;
}

bool listener_is_tls(const struct listener *l, size_t i)
{
    return l->socks[i].tls;
}

void listener_close(struct listener *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        evconnlistener_free(l->socks[i].ev);
    event_free(l->resume_ev);
    free(l);
}
