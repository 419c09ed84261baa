/* Host name resolution that never blocks the loop thread: numeric addresses are
 * parsed at once; names go through the client's evdns_base (the hosts file, then
 * the nameservers of resolv.conf), which answers on the loop later. */
#ifndef SHUFFLE_CLIENT_RESOLVE_H
#define SHUFFLE_CLIENT_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "client/internal.h"

/* Sets up c->dns from the resolver configuration (opts.resolv_conf, default
 * /etc/resolv.conf). Called before the loop thread starts: it reads files. */
int resolve_init(shuffle_client *c, char *err, size_t errlen);
void resolve_free(shuffle_client *c);
/* True while resolutions are still to call back (shutdown waits for them). */
bool resolve_busy(const shuffle_client *c);

/* sa is the first address found, or NULL with error set ("cannot resolve <host>:
 * <reason>"). */
typedef void (*resolve_fn)(void *arg, const struct sockaddr *sa, socklen_t salen,
                           const char *error);
struct resolve_req;

/* Calls fn exactly once: before returning for a numeric address, a name in the
 * hosts file or a bad port (then returns NULL), otherwise later from the loop
 * (then returns the request, valid until fn runs). */
struct resolve_req *resolve_start(shuffle_client *c, const char *host, int port, resolve_fn fn,
                                  void *arg);
/* fn still runs once, later, with an error. */
void resolve_cancel(struct resolve_req *r);

#endif
