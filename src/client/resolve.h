/* SPDX-License-Identifier: Apache-2.0 */
/* Host name resolution that never blocks the loop thread: numeric addresses are
 * parsed at once; names go through an evdns_base (the hosts file, then the
 * nameservers of resolv.conf), which answers on the loop later. */
#ifndef SHUFFLE_CLIENT_RESOLVE_H
#define SHUFFLE_CLIENT_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct resolver;

/* A resolver on base, configured from resolv_conf (resolv.conf format; NULL or "":
 * /etc/resolv.conf, whose absence means "nameserver 127.0.0.1"). Reads files: call
 * it before the loop thread starts. NULL with err set on failure. */
struct resolver *resolver_new(struct event_base *base, const char *resolv_conf, char *err,
                              size_t errlen);
void resolver_free(struct resolver *r);
/* True while resolutions are still to call back. */
bool resolver_busy(const struct resolver *r);
/* fn(arg) runs once the last outstanding resolution has called back (shutdown
 * waits for canceled lookups this way). */
void resolver_on_idle(struct resolver *r, void (*fn)(void *arg), void *arg);

/* sa is the first address found, or NULL with error set ("cannot resolve <host>:
 * <reason>"). */
typedef void (*resolve_fn)(void *arg, const struct sockaddr *sa, socklen_t salen,
                           const char *error);
struct resolve_req;

/* Calls fn exactly once: before returning for a numeric address, a name in the
 * hosts file or a bad port (then returns NULL), otherwise later from the loop
 * (then returns the request, valid until fn runs). */
struct resolve_req *resolve_start(struct resolver *owner, const char *host, int port, resolve_fn fn,
                                  void *arg);
/* fn still runs once, later, with an error. */
void resolve_cancel(struct resolve_req *r);

#endif
