/* SPDX-License-Identifier: Apache-2.0 */
/* Session streams and the engine-version pick; see aes_session.h. */
#include <config.h>

#include "crypto/aes_session.h"

#include "proto/codec.h"
#include "proto/message.h"

int aes_session_streams(const struct aes_session *s, struct ctr_stream *read,
                        struct ctr_stream *write)
{
    if (ctr_stream_init(read, s->key, s->key_len, s->read_iv) != 0)
        return -1;
    if (ctr_stream_init(write, s->key, s->key_len, s->write_iv) != 0) {
        ctr_stream_free(read);
        return -1;
    }
    return 0;
}

bool aes_frame_header_sane(const uint8_t hdr[AES_PICK_BYTES])
{
    uint64_t len = proto_load_u64(hdr);
    if (len <= PROTO_FRAME_HEADER_LEN || len - 8 > PROTO_MAX_FRAME_CONTENT)
        return false;
    switch (hdr[8]) {
    case PROTO_CHUNK_FETCH_REQUEST:
    case PROTO_RPC_REQUEST:
    case PROTO_STREAM_REQUEST:
    case PROTO_ONE_WAY_MESSAGE:
    case PROTO_UPLOAD_STREAM:
    case PROTO_MERGED_BLOCK_META_REQUEST:
        return true;
    default:
        return false;
    }
}

bool aes_tls_record_header_sane(const uint8_t hdr[AES_PICK_BYTES])
{
    unsigned len = (unsigned)hdr[3] << 8 | hdr[4];
    /* alert, handshake (TLS 1.2 renegotiation is off, but a 1.2 alert may come) or data */
    bool type = hdr[0] >= 21 && hdr[0] <= 23;
    return type && hdr[1] == 3 && hdr[2] == 3 && len >= 1 && len <= 16384 + 2048;
}

int aes_session_pick(const struct aes_session *cand, int n, const uint8_t first[AES_PICK_BYTES])
{
    return aes_session_pick_with(cand, n, first, aes_frame_header_sane);
}

int aes_session_pick_with(const struct aes_session *cand, int n,
                          const uint8_t first[AES_PICK_BYTES],
                          bool (*sane)(const uint8_t hdr[AES_PICK_BYTES]))
{
    for (int i = 0; i < n; i++) {
        struct ctr_stream rd;
        uint8_t plain[AES_PICK_BYTES];
        if (ctr_stream_init(&rd, cand[i].key, cand[i].key_len, cand[i].read_iv) != 0)
            continue;
        int rc = ctr_stream_apply(&rd, first, plain, AES_PICK_BYTES);
        ctr_stream_free(&rd);
        if (rc == 0 && sane(plain))
            return i;
    }
    return -1;
}
