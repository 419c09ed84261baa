/* SPDX-License-Identifier: Apache-2.0 */
/* A cipher put under a TLS channel at its first use; see channel_under_tls.h. */
#include <config.h>

#include "server/net/channel_under_tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "server/net/channel_tls.h"

struct under_tls {
    struct channel base;
    struct channel *tls;
    struct channel *cipher; /* NULL once it is under the TLS channel */
    void (*abandon)(struct channel *cipher);
    bool failed;
    char peer[64];
};

static struct under_tls *from(struct channel *ch)
{
    return (struct under_tls *)ch;
}

/* Puts the cipher under TLS (once): 0, or -1 with errno (logged: the connection closes). */
static int settle(struct under_tls *u)
{
    if (!u->cipher)
        return 0;
    const char *why = NULL;
    if (u->failed || channel_tls_set_transport(u->tls, u->cipher, &why) != 0) {
        if (!u->failed)
            log_warn("%s: cannot put %s under TLS: %s; closing", u->peer, u->cipher->ops->name,
                     why);
        u->failed = true;
        errno = EPROTO;
        return -1;
    }
    u->cipher = NULL;
    return 0;
}

static ssize_t under_read(struct channel *ch, void *buf, size_t len)
{
    return settle(from(ch)) ? -1 : channel_read(from(ch)->tls, buf, len);
}

static ssize_t under_writev(struct channel *ch, const struct iovec *iov, int n, bool more)
{
    return settle(from(ch)) ? -1 : channel_writev(from(ch)->tls, iov, n, more);
}

static ssize_t under_sendfile(struct channel *ch, int fd, uint64_t off, size_t len)
{
    return settle(from(ch)) ? -1 : channel_sendfile(from(ch)->tls, fd, off, len);
}

static void under_cork(struct channel *ch, bool on)
{
    channel_cork(from(ch)->tls, on);
}

static size_t under_pending(struct channel *ch)
{
    return channel_pending(from(ch)->tls);
}

static int under_flush(struct channel *ch)
{
    return settle(from(ch)) ? -1 : channel_flush(from(ch)->tls);
}

static void under_destroy(struct channel *ch)
{
    struct under_tls *u = from(ch);
    if (u->cipher)
        u->abandon(u->cipher); /* never installed: the TLS channel still owns the socket */
    channel_destroy(u->tls);
    free(u);
}

static size_t under_memory(struct channel *ch, bool output)
{
    struct under_tls *u = from(ch);
    return channel_memory(u->tls, output) + (u->cipher ? channel_memory(u->cipher, output) : 0);
}

static const struct channel_ops under_tls_ops = {
    .name = "tls",
    .read = under_read,
    .writev = under_writev,
    .sendfile = under_sendfile,
    .cork = under_cork,
    .pending = under_pending,
    .flush = under_flush,
    .destroy = under_destroy,
    .memory = under_memory,
};

struct channel *channel_under_tls_new(struct channel *tls, struct channel *cipher,
                                      void (*abandon)(struct channel *cipher), const char *peer)
{
    struct under_tls *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->base.ops = &under_tls_ops;
    u->base.fd = tls->fd;
    u->tls = tls;
    u->cipher = cipher;
    u->abandon = abandon;
    snprintf(u->peer, sizeof u->peer, "%s", peer);
    return &u->base;
}

struct channel *channel_under_tls_base(struct channel *cur)
{
    return channel_is_tls(cur) ? channel_tls_transport(cur) : cur;
}

struct channel *channel_under_tls_stack(struct channel *cur, struct channel *ch,
                                        void (*abandon)(struct channel *cipher), const char *peer)
{
    if (!channel_is_tls(cur))
        return ch;
    struct channel *under = channel_under_tls_new(cur, ch, abandon, peer);
    if (!under)
        abandon(ch);
    return under;
}
