/* See file_open.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_CLOEXEC, syscall under -std=c11 (the block library sets no -D) */
#endif
#include "server/stream/file_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)
#define DIR_FLAGS (O_RDONLY | O_CLOEXEC | O_DIRECTORY)

static int open_refusing_symlinks(const char *path, int flags, bool no_symlinks)
{
    if (!no_symlinks)
        return open(path, flags);
    struct open_how how = {.flags = (uint64_t)flags, .resolve = RESOLVE_NO_SYMLINKS};
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return (int)fd;
    /* no openat2 (kernel < 5.6, or a seccomp filter that refuses it) */
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
