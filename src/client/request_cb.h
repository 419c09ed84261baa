/* SPDX-License-Identifier: Apache-2.0 */
/* How the owner of a request on a connection hears its outcome: the callbacks a
 * request carries from transport.c through pending.c and back. Types only. */
#ifndef SHUFFLE_CLIENT_REQUEST_CB_H
#define SHUFFLE_CLIENT_REQUEST_CB_H

#include <stddef.h>
#include <stdint.h>

/* status/err as in shuffle/client.h; body valid during the call. */
typedef void (*tconn_reply_fn)(void *arg, int status, const char *err, const uint8_t *body,
                               size_t len);

struct tconn_stream_cb {
    int (*on_start)(void *arg, uint64_t byte_count);            /* nonzero: abort (local failure) */
    int (*on_data)(void *arg, const uint8_t *data, size_t len); /* nonzero: abort */
    void (*on_done)(void *arg, int status, const char *err);
    void *arg;
    /* Optional, asked after on_start: a file for the bytes (-1: none). The transport
     * writes them there itself (splice), and on_data only counts them: data NULL. */
    int (*sink_fd)(void *arg);
};

#endif
