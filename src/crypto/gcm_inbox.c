/* SPDX-License-Identifier: Apache-2.0 */
/* The receiving buffers of the AES-GCM channel; see gcm_inbox.h. */
#include <config.h>

#include "crypto/gcm_inbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gcm_inbox_init(struct gcm_inbox *in, const uint8_t *key, size_t key_len, size_t raw_cap)
{
    memset(in, 0, sizeof *in);
    in->raw_cap = raw_cap;
    return gcm_reader_init(&in->reader, key, key_len);
}

void gcm_inbox_free(struct gcm_inbox *in)
{
    gcm_reader_free(&in->reader);
    free(in->raw);
    memset(in, 0, sizeof *in);
}

/* Feeds held ciphertext until a segment's plaintext is out or none is left: a segment whole
 * in raw is opened there, straight to out when it fits in room (then *direct is its plaintext
 * length, and nothing is pending). */
static int feed(struct gcm_inbox *in, uint8_t *out, size_t room, size_t *direct)
{
    *direct = 0;
    while (in->raw_off < in->raw_len && in->plain_off == in->plain_len) {
        size_t len = 0;
        uint8_t *plain = NULL;
        ssize_t took = gcm_reader_feed_direct(&in->reader, in->raw + in->raw_off,
                                              in->raw_len - in->raw_off, out, room, &plain, &len);
        if (took < 0) {
            in->error = errno;
            return -1;
        }
        in->raw_off += (size_t)took;
        if (len && plain == out) {
            *direct = len;
            return 0;
        }
        in->plain = plain;
        in->plain_off = 0;
        in->plain_len = len;
    }
    return 0;
}

ssize_t gcm_inbox_take(struct gcm_inbox *in, uint8_t *out, size_t len)
{
    size_t copied = 0;
    while (copied < len) {
        if (in->plain_off < in->plain_len) {
            size_t n = in->plain_len - in->plain_off;
            n = n < len - copied ? n : len - copied;
            memcpy(out + copied, in->plain + in->plain_off, n);
            in->plain_off += n;
            copied += n;
            continue;
        }
        size_t direct = 0;
        if (in->error || feed(in, out + copied, len - copied, &direct) != 0) {
            if (copied)
                break; /* the error shows on the next call */
            errno = in->error;
            return -1;
        }
        copied += direct;
        if (!direct && in->plain_off == in->plain_len)
            break; /* all fed: more ciphertext is needed */
    }
    in->decrypted += copied;
    return (ssize_t)copied;
}

uint8_t *gcm_inbox_space(struct gcm_inbox *in, size_t *room)
{
    if (!in->raw && !(in->raw = malloc(in->raw_cap))) {
        errno = ENOMEM;
        return NULL;
    }
    if (in->raw_off == in->raw_len)
        in->raw_off = in->raw_len = 0;
    *room = in->raw_cap - in->raw_len;
    return in->raw + in->raw_len;
}

void gcm_inbox_filled(struct gcm_inbox *in, size_t n)
{
    in->raw_len += n;
}

int gcm_inbox_push(struct gcm_inbox *in, const uint8_t *bytes, size_t n)
{
    size_t room = 0;
    uint8_t *at = gcm_inbox_space(in, &room);
    if (!at || n > room)
        return -1;
    memcpy(at, bytes, n);
    gcm_inbox_filled(in, n);
    return 0;
}

size_t gcm_inbox_pending(const struct gcm_inbox *in)
{
    return (in->plain_len - in->plain_off) + (in->raw_len - in->raw_off);
}

void gcm_inbox_trim(struct gcm_inbox *in)
{
    if (gcm_inbox_pending(in) == 0 && gcm_reader_idle(&in->reader)) {
        free(in->raw);
        in->raw = NULL;
        in->raw_off = in->raw_len = 0;
        free(in->reader.buf);
        in->reader.buf = NULL;
    }
}

void gcm_inbox_resize(struct gcm_inbox *in, size_t raw_cap)
{
    if (raw_cap == in->raw_cap || gcm_inbox_pending(in) != 0)
        return;
    free(in->raw);
    in->raw = NULL;
    in->raw_off = in->raw_len = 0;
    in->raw_cap = raw_cap;
}

size_t gcm_inbox_memory(const struct gcm_inbox *in)
{
    return (in->raw ? in->raw_cap : 0) + gcm_reader_memory(&in->reader);
}
