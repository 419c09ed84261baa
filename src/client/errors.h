/* SPDX-License-Identifier: Apache-2.0 */
/* The public error convention's machinery: statuses named and described, the
 * per-thread, per-client detail strings behind shuffle_last_error(), and the
 * reading of the caller's size-versioned structs. */
#ifndef SHUFFLE_CLIENT_ERRORS_H
#define SHUFFLE_CLIENT_ERRORS_H

#include <stddef.h>

#include "client/internal.h"

/* Records the details of a failed call on c (NULL: no client yet) for this thread's
 * shuffle_last_error(c) and returns status. */
int client_fail(const shuffle_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the caller's struct src (its first member is its struct_size) over dst,
 * which holds this version's defaults (dst_size bytes): the caller's fields
 * replace them, fields past an older caller's struct_size stay. A newer caller's
 * struct is accepted when every byte this version does not know is zero.
 * SHUFFLE_OK, or SHUFFLE_EINVAL recorded on c naming what. */
int client_read_sized(const shuffle_client *c, void *dst, size_t dst_size, const void *src,
                      const char *what);

#endif
