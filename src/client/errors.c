/* SPDX-License-Identifier: Apache-2.0 */
/* Status names and texts, shuffle_last_error(), size-versioned structs: see errors.h. */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client/errors.h"

/* Indexed by enum shuffle_status. */
static const struct {
    const char *name, *text;
} statuses[] = {
    [SHUFFLE_OK] = {"OK", "success"},
    [SHUFFLE_EIO] = {"EIO", "I/O failure: connect, closed connection or timeout (retried)"},
    [SHUFFLE_ESERVER] = {"ESERVER", "the server answered with an error"},
    [SHUFFLE_EPROTO] = {"EPROTO", "the server's reply could not be decoded"},
    [SHUFFLE_EINVAL] = {"EINVAL", "invalid argument"},
    [SHUFFLE_ECANCELED] = {"ECANCELED", "canceled: the client was shut down"},
    [SHUFFLE_ELOCAL] = {"ELOCAL", "local failure: out of memory or a temporary file"},
    [SHUFFLE_EAUTH] = {"EAUTH", "authentication refused or failed"},
};

static bool known(int status)
{
    return status >= 0 && (size_t)status < sizeof(statuses) / sizeof(statuses[0]) &&
           statuses[status].name;
}

const char *shuffle_status_name(int status)
{
    return known(status) ? statuses[status].name : "UNKNOWN";
}

const char *shuffle_strerror(int status)
{
    return known(status) ? statuses[status].text : "unknown status";
}

/* Each thread keeps the details for the last few clients it called, so two clients
 * used by one thread do not overwrite each other's, and concurrent callers never see
 * each other's. A client is named by its serial, never reused, not by its address. */
#define DETAIL_SLOTS 4
#define DETAIL_BYTES 1024

struct detail {
    uint64_t client; /* serial, 0: no client (shuffle_client_new) */
    char text[DETAIL_BYTES];
};

static __thread struct detail details[DETAIL_SLOTS];
static __thread unsigned next_slot;

static uint64_t serial_of(const shuffle_client *c)
{
    return c ? c->serial : 0;
}

static struct detail *find_detail(uint64_t client)
{
    for (int i = 0; i < DETAIL_SLOTS; i++)
        if (details[i].client == client)
            return &details[i];
    return NULL;
}

const char *shuffle_last_error(const shuffle_client *c)
{
    struct detail *d = find_detail(serial_of(c));
    return d ? d->text : "";
}

int client_fail(const shuffle_client *c, int status, const char *fmt, ...)
{
    uint64_t client = serial_of(c);
    struct detail *d = find_detail(client);
    if (!d) {
        d = &details[next_slot++ % DETAIL_SLOTS];
        d->client = client;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof(d->text), fmt, ap);
    va_end(ap);
    return status;
}

int client_read_sized(const shuffle_client *c, void *dst, size_t dst_size, const void *src,
                      const char *what)
{
    size_t size;
    memcpy(&size, src, sizeof(size));
    if (size < sizeof(size))
        return client_fail(c, SHUFFLE_EINVAL,
                           "%s: struct_size is %zu; set it with the struct's _init function", what,
                           size);
    const unsigned char *bytes = src;
    for (size_t i = dst_size; i < size; i++)
        if (bytes[i])
            return client_fail(c, SHUFFLE_EINVAL,
                               "%s: a field at byte %zu is set that this libshuffle (struct size "
                               "%zu) does not know",
                               what, i, dst_size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
    memcpy(dst, &dst_size, sizeof(dst_size)); /* the copy is this version's struct */
    return SHUFFLE_OK;
}

/* The layout rule of client.h: no struct ends in padding, so an older struct_size
 * always ends exactly after one of its fields. */
#define ENDS_AT(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
_Static_assert(sizeof(struct shuffle_client_options) ==
                   ENDS_AT(struct shuffle_client_options, tls_insecure),
               "shuffle_client_options ends in padding");
_Static_assert(sizeof(struct shuffle_fetch_request) == ENDS_AT(struct shuffle_fetch_request, arg),
               "shuffle_fetch_request ends in padding");
_Static_assert(sizeof(struct shuffle_executor_info) ==
                   ENDS_AT(struct shuffle_executor_info, shuffle_manager),
               "shuffle_executor_info ends in padding");
_Static_assert(sizeof(struct shuffle_stream_handler) == ENDS_AT(struct shuffle_stream_handler, arg),
               "shuffle_stream_handler ends in padding");
