/* SPDX-License-Identifier: Apache-2.0 */
/* Non-blocking host name resolution: see resolve.h. */
#include <config.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "client/resolve.h"
#include "client/util.h"

#define DEFAULT_RESOLV_CONF "/etc/resolv.conf"

struct resolver {
    struct evdns_base *dns;
    int outstanding; /* resolutions still to call back */
    void (*idle_fn)(void *arg);
    void *idle_arg;
};

struct resolve_req {
    struct resolver *res;
    struct evdns_getaddrinfo_request *req;
    char *host;
    resolve_fn fn;
    void *arg;
};

struct resolver *resolver_new(struct event_base *base, const char *resolv_conf, char *err,
                              size_t errlen)
{
    bool given = resolv_conf && *resolv_conf;
    struct resolver *r = calloc(1, sizeof(*r));
    if (!r || !(r->dns = evdns_base_new(base, 0))) {
        free(r);
        client_set_err(err, errlen, "cannot create the client's DNS resolver (out of memory?)");
        return NULL;
    }
    /* A missing default file means "nameserver 127.0.0.1", as for the C library;
     * a file named by the caller must exist. */
    int rc = evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL,
                                          given ? resolv_conf : DEFAULT_RESOLV_CONF);
    if (given && (rc == 1 || rc == 2)) {
        client_set_err(err, errlen, "cannot read the resolver configuration %s", resolv_conf);
        resolver_free(r);
        return NULL;
    }
    return r;
}

void resolver_free(struct resolver *r)
{
    if (!r)
        return;
    evdns_base_free(r->dns, 0);
    free(r);
}

bool resolver_busy(const struct resolver *r)
{
    return r->outstanding > 0;
}

void resolver_on_idle(struct resolver *r, void (*fn)(void *arg), void *arg)
{
    r->idle_fn = fn;
    r->idle_arg = arg;
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct resolve_req *r = arg;
    struct resolver *owner = r->res;
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
    if (--owner->outstanding == 0 && owner->idle_fn)
        owner->idle_fn(owner->idle_arg);
}

struct resolve_req *resolve_start(struct resolver *owner, const char *host, int port, resolve_fn fn,
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
    r->res = owner;
    r->fn = fn;
    r->arg = arg;
    struct evutil_addrinfo eh = {0};
    eh.ai_family = AF_UNSPEC;
    eh.ai_socktype = SOCK_STREAM;
    eh.ai_flags = EVUTIL_AI_NUMERICSERV;
    owner->outstanding++;
    /* answers from the hosts file come back before this returns (and NULL) */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(owner->dns, host, portstr, &eh, on_resolved, r);
    if (!req)
        return NULL;
    r->req = req;
    return r;
}

void resolve_cancel(struct resolve_req *r)
{
    evdns_getaddrinfo_cancel(r->req);
}
