/* SPDX-License-Identifier: Apache-2.0 */
/* See peer_probe.h. */
#include <config.h>

#include "tools/peer_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 0 or an errno value. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int e = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
            socklen_t len = sizeof e;
            if (n == 0)
                e = ETIMEDOUT;
            else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
                e = errno;
        }
    }
    close(fd);
    return e;
}

int peer_probe(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "Failed to connect to %s:%d: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int e = ENOENT;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if ((e = connect_one(ai, timeout_ms)) == 0)
            break;
    freeaddrinfo(res);
    if (e == 0)
        return 0;
    snprintf(err, errlen, "Failed to connect to %s:%d: %s", host, port, strerror(e));
    return -1;
}
