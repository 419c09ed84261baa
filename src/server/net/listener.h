/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets on the main thread; accepted sockets go round-robin to the workers. */
#ifndef SHUFFLED_SERVER_LISTENER_H
#define SHUFFLED_SERVER_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

struct server;
struct event_base;
struct listener;

/* Binds every cfg->listen address on cfg->port (with port 0, the first bound ephemeral port
 * is reused for the other addresses when possible). Returns NULL with err set. */
struct listener *listener_open(struct server *srv, struct event_base *base, char *err,
                               size_t errlen);
size_t listener_count(const struct listener *l);
/* "127.0.0.1:7337" or "[::1]:7337" of socket i, and its port. */
const char *listener_address(const struct listener *l, size_t i);
int listener_port(const struct listener *l, size_t i);
/* Whether socket i speaks TLS (tls_enabled, or one of tls_port's). */
bool listener_is_tls(const struct listener *l, size_t i);
void listener_close(struct listener *l);

#endif
