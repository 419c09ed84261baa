/* SPDX-License-Identifier: Apache-2.0 */
/* The payload helper: fields with a big-endian u32 length each (shuffle/rpc.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "shuffle/client.h"
#include "shuffle/rpc.h"

int shuffle_rpc_fields_add(struct shuffle_rpc_fields *f, const void *field, size_t len)
{
    if (len > UINT32_MAX || len > SIZE_MAX - 4 - f->len)
        return SHUFFLE_EINVAL;
    if (f->len + 4 + len > f->cap) {
        size_t cap = f->cap ? f->cap : 64;
        while (cap < f->len + 4 + len)
            cap *= 2;
        uint8_t *data = realloc(f->data, cap);
        if (!data)
            return SHUFFLE_ELOCAL;
        f->data = data;
        f->cap = cap;
    }
    proto_store_u32(f->data + f->len, (uint32_t)len);
    if (len)
        memcpy(f->data + f->len + 4, field, len);
    f->len += 4 + len;
    return SHUFFLE_OK;
}

bool shuffle_rpc_fields_next(const uint8_t *payload, size_t payload_len, size_t *pos,
                             const uint8_t **field, size_t *len)
{
    if (*pos > payload_len || payload_len - *pos < 4)
        return false;
    size_t n = proto_load_u32(payload + *pos);
    if (payload_len - *pos - 4 < n)
        return false;
    *field = payload + *pos + 4;
    *len = n;
    *pos += 4 + n;
    return true;
}
