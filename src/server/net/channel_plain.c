/* SPDX-License-Identifier: Apache-2.0 */
/* The plain channel: the socket as it is. See channel.h. */
#include <config.h>

#include "server/net/channel.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t plain_read(struct channel *ch, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(ch->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t plain_writev(struct channel *ch, const struct iovec *iov, int iovcnt, bool more)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;
    do
        n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t plain_sendfile(struct channel *ch, int fd, uint64_t offset, size_t len)
{
    off_t off = (off_t)offset;
    ssize_t n;
    do
        n = sendfile(ch->fd, fd, &off, len);
    while (n < 0 && errno == EINTR);
    return n;
}

static void plain_cork(struct channel *ch, bool on)
{
    int v = on;
    (void)setsockopt(ch->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v); /* not TCP: no-op */
}

static void plain_destroy(struct channel *ch)
{
    close(ch->fd);
    free(ch);
}

static const struct channel_ops plain_ops = {
    .name = "plain",
    .read = plain_read,
    .writev = plain_writev,
    .sendfile = plain_sendfile,
    .cork = plain_cork,
    .destroy = plain_destroy,
};

struct channel *channel_plain_new(int fd)
{
    struct channel *ch = malloc(sizeof *ch);
    if (!ch)
        return NULL;
    ch->ops = &plain_ops;
    ch->fd = fd;
    return ch;
}
