/* SPDX-License-Identifier: Apache-2.0 */
/* The cipher seam's dispatch: plain socket I/O, or the installed cipher (see link.h). */
#include <config.h>

#include <event2/buffer.h>

#include "client/link.h"

ssize_t link_readv(const struct link *l, int fd, const struct iovec *iov, int iovcnt)
{
    if (link_is_plain(l))
        return readv(fd, iov, iovcnt);
    return l->ops->readv(l->state, fd, iov, iovcnt);
}

size_t link_pending(const struct link *l)
{
    if (link_is_plain(l) || !l->ops->pending)
        return 0;
    return l->ops->pending(l->state);
}

int link_write(const struct link *l, struct evbuffer *out, uint8_t *plain, size_t len)
{
    if (link_is_plain(l))
        return evbuffer_add(out, plain, len);
    return l->ops->write(l->state, out, plain, len);
}

int link_write_buffer(const struct link *l, struct evbuffer *out, struct evbuffer *from)
{
    if (link_is_plain(l))
        return evbuffer_add_buffer(out, from);
    size_t len = evbuffer_get_length(from);
    if (len == 0)
        return 0;
    uint8_t *plain = evbuffer_pullup(from, -1); /* one contiguous run, written in place */
    if (!plain || l->ops->write(l->state, out, plain, len) != 0)
        return -1;
    return evbuffer_drain(from, len);
}

void link_trim(const struct link *l)
{
    if (!link_is_plain(l) && l->ops->trim)
        l->ops->trim(l->state);
}

void link_clear(struct link *l)
{
    if (!link_is_plain(l) && l->ops->destroy)
        l->ops->destroy(l->state);
    l->ops = NULL;
    l->state = NULL;
}
