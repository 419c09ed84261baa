/* SPDX-License-Identifier: Apache-2.0 */
/* See file_open.h. */
#include <config.h>

#include "server/stream/file_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)
#define DIR_FLAGS (O_RDONLY | O_CLOEXEC | O_DIRECTORY)

/* Set once openat2 turns out to be missing (kernel < 5.6, or a seccomp filter refusing it),
 * so that every later open goes straight to the fallback instead of failing a syscall first. */
static atomic_bool openat2_missing;

static int open_refusing_symlinks(const char *path, int flags, bool no_symlinks)
{
    if (!no_symlinks)
        return open(path, flags);
    if (!atomic_load_explicit(&openat2_missing, memory_order_relaxed)) {
        struct open_how how = {.flags = (uint64_t)flags, .resolve = RESOLVE_NO_SYMLINKS};
        long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
            return (int)fd;
        atomic_store_explicit(&openat2_missing, true, memory_order_relaxed);
    }
    return open(path, flags | O_NOFOLLOW);
}

int file_open_for_read(const char *path, bool no_symlinks)
{
    return open_refusing_symlinks(path, READ_FLAGS, no_symlinks);
}

int file_open_dir(const char *path, bool no_symlinks)
{
    return open_refusing_symlinks(path, DIR_FLAGS, no_symlinks);
}
