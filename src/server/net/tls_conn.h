/* SPDX-License-Identifier: Apache-2.0 */
/* TLS as the first phase of a connection accepted on a TLS port: its channel becomes a TLS
 * channel over the socket (channel_tls.h) before any byte is read, and the handshake must end
 * within handshake_timeout_ms (together with the SASL/AES handshake after it, when auth is
 * on). SASL and AES auth then run inside TLS, on the TLS channel. Handshakes are admitted
 * within tls_max_handshakes_in_progress (the oldest unfinished one of the loop closed for a
 * newcomer) and tls_max_handshakes_per_second (tls_admit.h, docs/tls.md). */
#ifndef SHUFFLED_SERVER_NET_TLS_CONN_H
#define SHUFFLED_SERVER_NET_TLS_CONN_H

#include <stdbool.h>

struct conn;
struct tls_context;

/* Wraps c's channel in TLS from t's current context; closes c when out of memory. */
void tls_conn_start(struct tls_context *t, struct conn *c);
/* Whether the kernel can do TLS at all (the `tls` module is loaded), for the start-up line. */
bool tls_kernel_available(void);

#endif
