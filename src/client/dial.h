/* SPDX-License-Identifier: Apache-2.0 */
/* One outgoing TCP connection being made: the host name resolved (resolve.c), a
 * non-blocking socket, the connect. The result is a connected bufferevent handed to
 * the caller, or the reason there is none. Timeouts are the caller's. */
#ifndef SHUFFLE_CLIENT_DIAL_H
#define SHUFFLE_CLIENT_DIAL_H

struct bufferevent;
struct event_base;
struct resolver;
struct dial;

/* bev: connected (TCP_NODELAY, SO_KEEPALIVE set, up to 1 MiB per write, no callbacks, owned by the
 * callee now), or NULL with error ("cannot resolve <host>: ...", "Connection refused", ...). */
typedef void (*dial_fn)(void *arg, struct bufferevent *bev, const char *error);

/* Starts connecting to host:port. fn runs exactly once unless dial_cancel comes first:
 * later from the loop (then the dial is returned), or before this returns when the
 * outcome is known at once, e.g. an unparsable address or no socket (then NULL). */
struct dial *dial_start(struct event_base *base, struct resolver *resolver, const char *host,
                        int port, dial_fn fn, void *arg);
/* fn will not run; the socket, if any, is closed. */
void dial_cancel(struct dial *d);

#endif
