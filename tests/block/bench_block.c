/* SPDX-License-Identifier: Apache-2.0 */
/* Load generator for scripts/bench-block (figures only, never assertions):
 * CONNS threads each loop FetchShuffleBlocks(all reduces of one map) and then
 * pipeline one ChunkFetchRequest per block, counting blocks and bytes, while
 * the main thread times RegisterExecutor and OpenBlocks round trips on their
 * own connection.
 *   bench_block PORT DIR0 DIR1 MAPS REDUCES SECONDS CONNS */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/blockmsg.h"
#include "proto/frame.h"
#include "proto/message.h"

static int port, maps, reduces;
static double seconds;
static char *dirs[2];
static atomic_long blocks, bytes;
static atomic_int stop;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct conn {
    int fd;
    struct frame_decoder dec;
    uint8_t buf[1 << 16];
    const uint8_t *pos;
    size_t have;
};

static int dial(struct conn *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    frame_decoder_init(&c->dec, 0);
    return connect(c->fd, (struct sockaddr *)&a, sizeof(a));
}

static int send_all(struct conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Next frame; returns its type and content (valid until the next call), -1 on error. */
static int next_frame(struct conn *c, const uint8_t **content, size_t *len)
{
    struct frame_out out;
    for (;;) {
        if (c->pos) {
            enum frame_event ev = frame_decoder_next(&c->dec, &c->pos, &c->have, &out);
            if (ev == FRAME_MESSAGE) {
                *content = out.content;
                *len = out.content_len;
                return out.type;
            }
            if (ev == FRAME_ERROR)
                return -1;
        }
        ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);
        if (n <= 0)
            return -1;
        c->pos = c->buf;
        c->have = (size_t)n;
    }
}

static int64_t rpc(struct conn *c, const struct blockmsg *m, struct proto_msg *reply)
{
    struct proto_writer body, w;
    proto_writer_init(&body);
    proto_writer_init(&w);
    blockmsg_encode(&body, m);
    struct proto_msg q = {.type = PROTO_RPC_REQUEST};
    q.u.rpc.request_id = 1;
    q.u.rpc.body = (struct proto_view){body.buf, (uint32_t)body.len};
    proto_msg_encode(&w, &q);
    int rc = send_all(c, w.buf, w.len);
    proto_writer_free(&body);
    proto_writer_free(&w);
    const uint8_t *content;
    size_t len;
    char err[128];
    int t = rc < 0 ? -1 : next_frame(c, &content, &len);
    if (t != PROTO_RPC_RESPONSE || proto_msg_decode(t, content, len, reply, err, sizeof(err)) < 0)
        return -1;
    return 0;
}

static void *fetcher(void *arg)
{
    struct conn c;
    long id = (long)arg;
    if (dial(&c) < 0)
        return NULL;
    int32_t *rids = malloc(sizeof(int32_t) * (size_t)reduces);
    for (int r = 0; r < reduces; r++)
        rids[r] = r;
    struct proto_writer reqs;
    proto_writer_init(&reqs);
    for (long round = id; !atomic_load(&stop); round++) {
        int64_t map = round % maps;
        struct blockmsg m = {.type = BLOCKMSG_FETCH_SHUFFLE_BLOCKS};
        struct proto_int_array row = {rids, (uint32_t)reduces};
        m.u.fetch_shuffle_blocks.app_id = (struct proto_bytes){"app-b", 5};
        m.u.fetch_shuffle_blocks.exec_id = (struct proto_bytes){"0", 1};
        m.u.fetch_shuffle_blocks.map_ids = (struct proto_long_array){&map, 1};
        m.u.fetch_shuffle_blocks.reduce_ids = (struct proto_int_matrix){&row, 1};
        struct proto_msg reply;
        if (rpc(&c, &m, &reply) < 0 || reply.u.rpc.body.len != 13)
            break;
        int64_t sid = (int64_t)proto_load_u64(reply.u.rpc.body.data + 1);
        proto_writer_reset(&reqs);
        for (int r = 0; r < reduces; r++) {
            struct proto_msg q = {.type = PROTO_CHUNK_FETCH_REQUEST};
            q.u.chunk_fetch_request.stream_id = sid;
            q.u.chunk_fetch_request.chunk_index = r;
            proto_msg_encode(&reqs, &q);
        }
        if (send_all(&c, reqs.buf, reqs.len) < 0)
            break;
        for (int r = 0; r < reduces; r++) {
            const uint8_t *content;
            size_t len;
            if (next_frame(&c, &content, &len) != PROTO_CHUNK_FETCH_SUCCESS)
                goto out;
            atomic_fetch_add(&blocks, 1);
            atomic_fetch_add(&bytes, (long)len - 12);
        }
    }
out:
    proto_writer_free(&reqs);
    free(rids);
    close(c.fd);
    frame_decoder_free(&c.dec);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
    if (n == 0)
        return;
    qsort(v, (size_t)n, sizeof(double), cmp);
    printf("%s: %d round trips, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, n, v[n / 2] * 1e3,
           v[(int)(n * 0.99)] * 1e3, v[n - 1] * 1e3);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_block PORT DIR0 DIR1 MAPS REDUCES SECONDS CONNS\n");
        return 2;
    }
    port = atoi(argv[1]);
    dirs[0] = argv[2];
    dirs[1] = argv[3];
    maps = atoi(argv[4]);
    reduces = atoi(argv[5]);
    seconds = atof(argv[6]);
    int conns = atoi(argv[7]);
    struct conn c;
    if (dial(&c) < 0) {
        perror("connect");
        return 1;
    }
    struct proto_bytes d[2] = {{dirs[0], (uint32_t)strlen(dirs[0])},
                               {dirs[1], (uint32_t)strlen(dirs[1])}};
    struct blockmsg reg = {.type = BLOCKMSG_REGISTER_EXECUTOR};
    reg.u.register_executor.app_id = (struct proto_bytes){"app-b", 5};
    reg.u.register_executor.exec_id = (struct proto_bytes){"0", 1};
    reg.u.register_executor.info.local_dirs = (struct proto_string_array){d, 2};
    reg.u.register_executor.info.sub_dirs_per_local_dir = 64;
    reg.u.register_executor.info.shuffle_manager = (struct proto_bytes){"m", 1};
    struct proto_msg reply;
    if (rpc(&c, &reg, &reply) < 0) {
        fprintf(stderr, "RegisterExecutor failed\n");
        return 1;
    }
    pthread_t *t = calloc((size_t)conns, sizeof(pthread_t));
    double start = now();
    for (long i = 0; i < conns; i++)
        pthread_create(&t[i], NULL, fetcher, (void *)i);
    static double reg_lat[100000], open_lat[100000];
    int nreg = 0, nopen = 0;
    char exec[32];
    struct proto_bytes ids[1] = {{"shuffle_0_0_0", 13}};
    struct blockmsg open = {.type = BLOCKMSG_OPEN_BLOCKS};
    open.u.open_blocks.app_id = (struct proto_bytes){"app-b", 5};
    open.u.open_blocks.exec_id = (struct proto_bytes){"0", 1};
    open.u.open_blocks.block_ids = (struct proto_string_array){ids, 1};
    while (now() - start < seconds && nreg < 100000) {
        snprintf(exec, sizeof(exec), "lat-%d", nreg);
        reg.u.register_executor.exec_id = (struct proto_bytes){exec, (uint32_t)strlen(exec)};
        double t0 = now();
        if (rpc(&c, &reg, &reply) < 0)
            break;
        double t1 = now();
        if (rpc(&c, &open, &reply) < 0)
            break;
        reg_lat[nreg++] = t1 - t0;
        open_lat[nopen++] = now() - t1;
        usleep(5000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < conns; i++)
        pthread_join(t[i], NULL);
    double el = now() - start;
    printf("block fetch: %d conns, %d reduces per request: %.0f blocks/s, %.1f MB/s\n", conns,
           reduces, atomic_load(&blocks) / el, atomic_load(&bytes) / el / 1e6);
    report("RegisterExecutor under load (incl. the log write)", reg_lat, nreg);
    report("OpenBlocks under load", open_lat, nopen);
    free(t);
    close(c.fd);
    frame_decoder_free(&c.dec);
    return 0;
}
