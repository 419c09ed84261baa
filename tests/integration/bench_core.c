/* SPDX-License-Identifier: Apache-2.0 */
/* Load generator for scripts/bench-core (figures, not assertions).
 *   bench_core fetch PORT FILE FILE_SIZE CHUNK_SIZE SECONDS CONNS
 *       pipelined ChunkFetch of CHUNK_SIZE chunks over the test service; prints MB/s, chunks/s
 *   bench_core idle PORT N
 *       opens N connections (one echo RPC each), prints "ready", holds them until stdin closes */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tclient.h"

#define WINDOW 256

static int port;
static const char *file;
static int64_t file_size, chunk_size;
static double seconds;

struct result {
    uint64_t bytes, chunks;
    int failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int discard(int fd, uint64_t n)
{
    static __thread uint8_t buf[1 << 18];
    while (n > 0) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (tc_read_exact(fd, buf, k) != 0)
            return -1;
        n -= k;
    }
    return 0;
}

static void *fetch_thread(void *arg)
{
    struct result *res = arg;
    int fd = tc_connect(port);
    if (fd < 0) {
        res->failed = 1;
        return NULL;
    }
    struct tc_chunk ch[WINDOW];
    int64_t per_file = file_size / chunk_size;
    int64_t next = 0;
    double end = now_s() + seconds;
    struct proto_writer w;
    proto_writer_init(&w);
    while (now_s() < end) {
        for (int i = 0; i < WINDOW; i++) {
            ch[i] = (struct tc_chunk){.kind = 0,
                                      .path = file,
                                      .offset = (next++ % per_file) * chunk_size,
                                      .length = chunk_size};
        }
        int64_t sid = tc_register(fd, ch, WINDOW);
        if (sid < 0) {
            res->failed = 1;
            break;
        }
        proto_writer_reset(&w);
        tc_append_fetches(&w, sid, WINDOW);
        if (tc_send_all(fd, w.buf, w.len) != 0) {
            res->failed = 1;
            break;
        }
        for (int i = 0; i < WINDOW; i++) {
            uint8_t hdr[9];
            if (tc_read_exact(fd, hdr, 9) != 0 || hdr[8] != PROTO_CHUNK_FETCH_SUCCESS ||
                discard(fd, proto_load_u64(hdr) - 9) != 0) {
                res->failed = 1;
                goto out;
            }
            res->bytes += (uint64_t)chunk_size;
            res->chunks++;
        }
    }
out:
    proto_writer_free(&w);
    close(fd);
    return NULL;
}

static int run_fetch(int conns)
{
    pthread_t t[64];
    struct result r[64];
    memset(r, 0, sizeof r);
    double start = now_s();
    for (int i = 0; i < conns; i++)
        pthread_create(&t[i], NULL, fetch_thread, &r[i]);
    uint64_t bytes = 0, chunks = 0;
    int failed = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(t[i], NULL);
        bytes += r[i].bytes;
        chunks += r[i].chunks;
        failed |= r[i].failed;
    }
    double el = now_s() - start;
    printf("chunk %lld B x %d conn(s): %.1f MB/s, %.0f chunks/s over %.1f s%s\n",
           (long long)chunk_size, conns, (double)bytes / el / 1e6, (double)chunks / el, el,
           failed ? " (ERRORS)" : "");
    return failed;
}

static int run_idle(int n)
{
    int *fds = calloc((size_t)n, sizeof *fds);
    for (int i = 0; i < n; i++) {
        fds[i] = tc_connect(port);
        uint8_t *out;
        size_t len;
        if (fds[i] < 0 || tc_rpc(fds[i], "Ex", 2, &out, &len) != 0) {
            fprintf(stderr, "connection %d failed: %s\n", i, tc_last_error());
            return 1;
        }
        free(out);
    }
    printf("ready %d\n", n);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "fetch") == 0) {
        port = atoi(argv[2]);
        file = argv[3];
        file_size = atoll(argv[4]);
        chunk_size = atoll(argv[5]);
        seconds = atof(argv[6]);
        int conns = atoi(argv[7]);
        return run_fetch(conns < 1 ? 1 : conns > 64 ? 64 : conns);
    }
    if (argc == 4 && strcmp(argv[1], "idle") == 0) {
        port = atoi(argv[2]);
        return run_idle(atoi(argv[3]));
    }
    fprintf(stderr, "usage: bench_core fetch PORT FILE FILE_SIZE CHUNK_SIZE SECONDS CONNS\n"
                    "       bench_core idle PORT N\n");
    return 2;
}
