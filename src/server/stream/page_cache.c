/* SPDX-License-Identifier: Apache-2.0 */
/* Page-cache warm-up for file chunks: see page_cache.h. sendfile into /dev/null makes the
 * kernel read the pages (and wait for them) while discarding the bytes, so nothing is copied
 * to user space, and a chunk already cached costs one cheap syscall. */
#include <config.h>

#include "server/stream/page_cache.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server/ops/metrics.h"

static int devnull_fd = -1;
static pthread_once_t devnull_once = PTHREAD_ONCE_INIT;

/* Opened once for the life of the process and shared by every pool thread (sendfile with an
 * explicit offset never moves the input fd's position, and /dev/null has none). */
static void open_devnull(void)
{
    devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
}

uint64_t page_cache_warm(int fd, uint64_t offset, uint64_t len)
{
    pthread_once(&devnull_once, open_devnull);
    uint64_t ahead = len < PAGE_CACHE_READAHEAD_BYTES ? len : PAGE_CACHE_READAHEAD_BYTES;
    uint64_t want = len < PAGE_CACHE_WARM_BYTES ? len : PAGE_CACHE_WARM_BYTES;
    if (ahead > want)
        posix_fadvise(fd, (off_t)(offset + want), (off_t)(ahead - want), POSIX_FADV_WILLNEED);
    uint64_t done = 0;
    off_t pos = (off_t)offset;
    while (devnull_fd >= 0 && done < want) {
        ssize_t n = sendfile(devnull_fd, fd, &pos, (size_t)(want - done));
        if (n <= 0)
            break; /* EOF (the file shrank), EAGAIN, or a kernel without the path: not fatal */
        done += (uint64_t)n;
    }
    metrics_add(MC_PAGE_CACHE_WARMED_BYTES, done);
    return done;
}

static bool byte_cached(int fd, uint64_t offset)
{
    char byte;
    struct iovec v = {&byte, 1};
    return preadv2(fd, &v, 1, (off_t)offset, RWF_NOWAIT) == 1;
}

bool page_cache_resident(int fd, uint64_t offset, uint64_t len)
{
    if (len == 0)
        return true;
    /* a small range lies in one readahead window: its last byte stands for it */
    if (len <= PAGE_CACHE_ONE_PROBE_BYTES)
        return byte_cached(fd, offset + len - 1);
    return byte_cached(fd, offset) && byte_cached(fd, offset + len - 1);
}
