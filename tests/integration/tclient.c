/* SPDX-License-Identifier: Apache-2.0 */
#include <config.h>

#include "tclient.h"

#include "../harness/wait.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static __thread char last_error[256];

const char *tc_last_error(void)
{
    return last_error;
}

int tdaemon_start(struct harness_daemon *d, const char *extra_json)
{
    struct harness_daemon_opts o = {.exe = "tests/integration/shuffled-test",
                                    .extra_json = extra_json};
    return harness_daemon_start(d, &o);
}

static int connect_to(int family, int port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    struct sockaddr_in6 a6 = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    a6.sin6_addr = in6addr_loopback;
    int rc = family == AF_INET ? connect(fd, (struct sockaddr *)&a, sizeof a)
                               : connect(fd, (struct sockaddr *)&a6, sizeof a6);
    if (rc != 0) {
        snprintf(last_error, sizeof last_error, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

int tc_connect(int port)
{
    return connect_to(AF_INET, port);
}

int tc_connect6(int port)
{
    return connect_to(AF_INET6, port);
}

int tc_send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(last_error, sizeof last_error, "send: %s", strerror(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void tc_append_msg(struct proto_writer *w, const struct proto_msg *m)
{
    proto_msg_encode(w, m);
}

void tc_append_fetches(struct proto_writer *w, int64_t stream_id, int32_t count)
{
    for (int32_t i = 0; i < count; i++) {
        struct proto_msg m = {.type = PROTO_CHUNK_FETCH_REQUEST};
        m.u.chunk_fetch_request.stream_id = stream_id;
        m.u.chunk_fetch_request.chunk_index = i;
        proto_msg_encode(w, &m);
    }
}

int tc_send_msg(int fd, const struct proto_msg *m)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_msg_encode(&w, m);
    int rc = w.failed ? -1 : tc_send_all(fd, w.buf, w.len);
    proto_writer_free(&w);
    return rc;
}

int tc_send_rpc(int fd, int64_t request_id, const void *body, size_t len)
{
    struct proto_msg m = {.type = PROTO_RPC_REQUEST};
    m.u.rpc.request_id = request_id;
    m.u.rpc.body.data = body;
    m.u.rpc.body.len = (uint32_t)len;
    return tc_send_msg(fd, &m);
}

int tc_send_fetch(int fd, int64_t stream_id, int32_t index)
{
    struct proto_msg m = {.type = PROTO_CHUNK_FETCH_REQUEST};
    m.u.chunk_fetch_request.stream_id = stream_id;
    m.u.chunk_fetch_request.chunk_index = index;
    return tc_send_msg(fd, &m);
}

int tc_send_stream(int fd, const char *name)
{
    struct proto_msg m = {.type = PROTO_STREAM_REQUEST};
    m.u.stream_request.stream_id.data = (const uint8_t *)name;
    m.u.stream_request.stream_id.len = (uint32_t)strlen(name);
    return tc_send_msg(fd, &m);
}

uint64_t tc_hash(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int tc_read_exact(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(last_error, sizeof last_error, "recv: %s",
                     k == 0 ? "connection closed" : strerror(errno));
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int hash_bytes(int fd, uint64_t n, uint64_t *hash)
{
    static __thread uint8_t buf[1 << 16];
    uint64_t h = TC_HASH_INIT;
    while (n > 0) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (tc_read_exact(fd, buf, k) != 0)
            return -1;
        h = tc_hash(h, buf, k);
        n -= k;
    }
    *hash = h;
    return 0;
}

int tc_recv(int fd, struct tc_resp *r)
{
    memset(r, 0, sizeof *r);
    uint8_t hdr[9];
    if (tc_read_exact(fd, hdr, sizeof hdr) != 0)
        return -1;
    uint64_t flen = proto_load_u64(hdr);
    uint8_t type = hdr[8];
    if (flen < 9 || flen - 9 > (1ULL << 31)) {
        snprintf(last_error, sizeof last_error, "bad frame length %llu", (unsigned long long)flen);
        return -1;
    }
    uint64_t clen = flen - 9;
    size_t keep = type == PROTO_CHUNK_FETCH_SUCCESS && clen >= 12 ? 12 : (size_t)clen;
    if (keep > (64u << 20)) {
        snprintf(last_error, sizeof last_error, "frame too large for the test client");
        return -1;
    }
    r->content = malloc(keep ? keep : 1);
    if (!r->content || tc_read_exact(fd, r->content, keep) != 0)
        return -1;
    char err[256];
    if (proto_msg_decode(type, r->content, keep, &r->m, err, sizeof err) != 0) {
        snprintf(last_error, sizeof last_error, "decode: %.200s", err);
        return -1;
    }
    uint64_t body = 0;
    if (type == PROTO_CHUNK_FETCH_SUCCESS)
        body = clen - keep;
    else if (type == PROTO_STREAM_RESPONSE)
        body = (uint64_t)r->m.u.stream_response.byte_count;
    r->body_len = body;
    r->body_hash = TC_HASH_INIT;
    if (body > 0 && hash_bytes(fd, body, &r->body_hash) != 0)
        return -1;
    return 0;
}

void tc_resp_free(struct tc_resp *r)
{
    free(r->content);
    r->content = NULL;
}

bool tc_wait_closed(int fd)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k == 0 || (k < 0 && (errno == ECONNRESET || errno == EPIPE)))
            return true;
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return false; /* timeout */
    }
}

static int64_t next_request_id = 1000;

int tc_rpc(int fd, const void *body, size_t len, uint8_t **out, size_t *outlen)
{
    int64_t id = __atomic_add_fetch(&next_request_id, 1, __ATOMIC_RELAXED);
    *out = NULL;
    *outlen = 0;
    if (tc_send_rpc(fd, id, body, len) != 0)
        return -1;
    struct tc_resp r;
    if (tc_recv(fd, &r) != 0) {
        tc_resp_free(&r);
        return -1;
    }
    int rc = -1;
    const struct proto_view *v = NULL;
    if (r.m.type == PROTO_RPC_RESPONSE && r.m.u.rpc.request_id == id) {
        rc = 0;
        v = &r.m.u.rpc.body;
    } else if (r.m.type == PROTO_RPC_FAILURE && r.m.u.rpc_failure.request_id == id) {
        rc = 1;
        v = &r.m.u.rpc_failure.error;
    } else {
        snprintf(last_error, sizeof last_error, "unexpected reply type %d", r.m.type);
    }
    if (v) {
        *out = malloc(v->len + 1);
        if (*out) {
            memcpy(*out, v->data, v->len);
            (*out)[v->len] = 0;
            *outlen = v->len;
        }
    }
    tc_resp_free(&r);
    return rc;
}

int64_t tc_register(int fd, const struct tc_chunk *chunks, int n)
{
    struct proto_writer w;
    proto_writer_init(&w);
    proto_write_u8(&w, 'R');
    proto_write_i32(&w, n);
    for (int i = 0; i < n; i++) {
        proto_write_u8(&w, (uint8_t)chunks[i].kind);
        if (chunks[i].kind == 0) {
            proto_write_str(&w, chunks[i].path);
            proto_write_i64(&w, chunks[i].offset);
            proto_write_i64(&w, chunks[i].length);
        } else if (chunks[i].kind == 1) {
            proto_write_bytes(&w, chunks[i].data, chunks[i].data_len);
        } else if (chunks[i].kind == 3) {
            proto_write_str(&w, chunks[i].text);
        }
    }
    uint8_t *out;
    size_t outlen;
    int rc = tc_rpc(fd, w.buf, w.len, &out, &outlen);
    proto_writer_free(&w);
    int64_t id = -1;
    if (rc == 0 && outlen == 12)
        id = (int64_t)proto_load_u64(out);
    free(out);
    return id;
}

int tc_live(int fd, int64_t *streams, int64_t *chunks)
{
    uint8_t *out;
    size_t outlen;
    int rc = tc_rpc(fd, "L", 1, &out, &outlen);
    if (rc == 0 && outlen == 16) {
        *streams = (int64_t)proto_load_u64(out);
        *chunks = (int64_t)proto_load_u64(out + 8);
    } else {
        rc = -1;
    }
    free(out);
    return rc;
}

struct live_probe {
    int port;
    int64_t streams, chunks;
    bool failed;
};

/* Done when the daemon reports nothing live, or cannot be asked. */
static bool nothing_live(void *arg)
{
    struct live_probe *p = arg;
    int fd = tc_connect(p->port);
    p->failed = fd < 0 || tc_live(fd, &p->streams, &p->chunks) != 0;
    if (fd >= 0)
        close(fd);
    /* the probe connection's own close is not counted: it has no streams */
    return p->failed || (p->streams == 0 && p->chunks == 0);
}

int64_t tc_wait_no_streams(int port)
{
    struct live_probe p = {port, -1, -1, false};
    bool done = harness_wait_until(nothing_live, &p, 5000, 10);
    if (p.failed)
        return -1;
    return done ? 0 : p.streams;
}
