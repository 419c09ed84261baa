/* Non-blocking host name resolution: see resolve.h. */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "client/resolve.h"

#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"

struct resolve_req {
    shuffle_client *c;
    struct evdns_getaddrinfo_request *req;
    char *host;
    resolve_fn fn;
    void *arg;
};

int resolve_init(shuffle_client *c, char *err, size_t errlen)
{
    const char *path = c->opts.resolv_conf;
    bool given = path && *path;
    c->dns = evdns_base_new(c->base, 0);
    if (!c->dns) {
        client_set_err(err, errlen, "cannot create the client's DNS resolver (out of memory?)");
        return -1;
    }
    /* A missing default file means "nameserver 127.0.0.1", as for the C library;
     * a file named by the caller must exist. */
    int r =
        evdns_base_resolv_conf_parse(c->dns, DNS_OPTIONS_ALL, given ? path : DEFAULT_RESOLV_CONF);
    if (given && (r == 1 || r == 2)) {
        client_set_err(err, errlen, "cannot read the resolver configuration %s", path);
        return -1;
    }
    return 0;
}

void resolve_free(shuffle_client *c)
{
    if (c->dns)
        evdns_base_free(c->dns, 0);
    c->dns = NULL;
}

bool resolve_busy(const shuffle_client *c)
{
    return c->resolving > 0;
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct resolve_req *r = arg;
    shuffle_client *c = r->c;
    if (result == 0 && res) {
        r->fn(r->arg, res->ai_addr, (socklen_t)res->ai_addrlen, NULL);
    } else {
        char *msg =
            client_strf("cannot resolve %s: %s", r->host,
                        result == EVUTIL_EAI_CANCEL ? "canceled" : evutil_gai_strerror(result));
        r->fn(r->arg, NULL, 0, msg);
        free(msg);
    }
    if (res)
        evutil_freeaddrinfo(res);
    free(r->host);
    free(r);
    if (--c->resolving == 0 && c->stopping)
        event_base_loopbreak(c->base); /* shutdown was waiting for this */
}

struct resolve_req *resolve_start(shuffle_client *c, const char *host, int port, resolve_fn fn,
                                  void *arg)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (port <= 0 || port > 65535) {
        char *msg = client_strf("cannot resolve %s: invalid port %d", host, port);
        fn(arg, NULL, 0, msg);
        free(msg);
        return NULL;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV; /* never blocks */
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai == 0) {
        fn(arg, res->ai_addr, res->ai_addrlen, NULL);
        freeaddrinfo(res);
        return NULL;
    }
    struct resolve_req *r = calloc(1, sizeof(*r));
    if (gai != EAI_NONAME || !r || !(r->host = strdup(host))) {
        char *msg = client_strf("cannot resolve %s: %s", host,
                                gai != EAI_NONAME ? gai_strerror(gai) : "out of memory");
        free(r);
        fn(arg, NULL, 0, msg);
        free(msg);
        return NULL;
    }
    r->c = c;
    r->fn = fn;
    r->arg = arg;
    struct evutil_addrinfo eh = {0};
    eh.ai_family = AF_UNSPEC;
    eh.ai_socktype = SOCK_STREAM;
    eh.ai_flags = EVUTIL_AI_NUMERICSERV;
    c->resolving++;
    /* answers from the hosts file come back before this returns (and NULL) */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(c->dns, host, portstr, &eh, on_resolved, r);
    if (!req)
        return NULL;
    r->req = req;
    return r;
}

void resolve_cancel(struct resolve_req *r)
{
    evdns_getaddrinfo_cancel(r->req);
}
