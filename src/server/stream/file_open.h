/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a file to send it, or a directory to delete in, on a blocking-pool thread. */
#ifndef SHUFFLED_SERVER_STREAM_FILE_OPEN_H
#define SHUFFLED_SERVER_STREAM_FILE_OPEN_H

#include <stdbool.h>

/* Opens path read-only, close-on-exec and non-blocking (a FIFO planted in place of a shuffle
 * file must not block the thread in open(); a regular file ignores the flag).
 * With no_symlinks, no component of path may be a symlink at the moment of the open
 * (openat2 RESOLVE_NO_SYMLINKS; on a kernel without openat2, O_NOFOLLOW guards the last
 * component only): a canonical path checked against allowed_local_dir_roots cannot be
 * redirected outside them by a component swapped for a symlink after the check.
 * Returns the fd, or -1 with errno (ELOOP for a symlink). */
int file_open_for_read(const char *path, bool no_symlinks);
/* Opens the directory path (close-on-exec) under the same rule, as the dirfd of *at() calls:
 * entries then resolve in the directory that was checked, whatever is renamed later. */
int file_open_dir(const char *path, bool no_symlinks);

#endif
