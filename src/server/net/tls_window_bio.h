/* SPDX-License-Identifier: Apache-2.0 */
/* A write-only OpenSSL BIO that appends what SSL writes (its records) to a send window
 * (send_window.h) instead of the socket. The userspace TLS channel (channel_tls.c) writes
 * through it so that many 16 KiB records leave in one socket write: a write(2) per record
 * cost more than the copy into the window (docs/tls.md, Measured).
 *
 * Takes what fits after the window's held bytes and asks SSL to retry the rest (a full
 * window: the channel writes it to the socket, then calls SSL again). */
#ifndef SHUFFLED_SERVER_NET_TLS_WINDOW_BIO_H
#define SHUFFLED_SERVER_NET_TLS_WINDOW_BIO_H

#include <openssl/bio.h>

#include "server/net/send_window.h"

/* Ciphertext bytes a record adds to its plaintext at most, whatever the suite (header, IV,
 * tag or MAC, padding, TLS 1.3's content type). */
#define TLS_RECORD_OVERHEAD_MAX 512
/* Plaintext bytes SSL may be given when room bytes are free in the window, so that all its
 * records fit: 0 when room is too small for one. */
size_t tls_window_plain_fits(size_t room);

/* A BIO over w (not owned; it must outlive the BIO). NULL when out of memory. */
BIO *tls_window_bio_new(struct send_window *w);

#endif
