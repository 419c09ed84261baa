/* SPDX-License-Identifier: Apache-2.0 */
/* Writing a whole buffer to a blocking fd (a file), retrying short writes and EINTR. Header
 * only: the client library and the daemon both use it without sharing an object. */
#ifndef SHUFFLED_COMMON_WRITE_ALL_H
#define SHUFFLED_COMMON_WRITE_ALL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* 0 once all n bytes are written, else -1 with errno set (EIO if write wrote nothing). */
static inline int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

#endif
