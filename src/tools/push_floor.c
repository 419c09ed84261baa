/* SPDX-License-Identifier: Apache-2.0 */
/* push-floor (issue 17): the physical floor of the push workload on this machine, as
 * ../shared/tools/sendfile-floor.c is for fetches. Takes a gen-shuffle-data manifest (the same
 * blocks scripts/bench-push-libshuffle pushes), forks a minimal server (push_floor_server.c)
 * and pushes every non-empty block to it over loopback TCP from a minimal client: pread from
 * the page-cached shuffle file + one send of header and body, IN_FLIGHT blocks in flight over
 * CONNS connections, one ack read per block. Each side's CPU (CLOCK_PROCESS_CPUTIME_ID: the
 * schedstat run time, ns) per block, min and median of REPEAT runs per server mode; with
 * --verify every block's bytes are read back from the server's files and compared.
 *
 *   push-floor -m MANIFEST [-d DIR] [-c CONNS] [-i IN_FLIGHT] [-r REPEAT] [-n BLOCKS]
 *              [-M recv+pwrite,splice,recv-only,overwrite] [--verify]
 *              [--daemon-run US --client-run US]   (bench-push-libshuffle's medians) */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools/push_floor_report.h"
#include "tools/push_floor_server.h"
#include "tools/push_floor_setup.h"

static int64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct client_conn {
    int fd;
    int in_flight;
    uint8_t ack_buf[sizeof(struct floor_ack) * 64];
    size_t ack_fill;
};

/* Sends block i on c: its header and body in one sendmsg, the body pread into the buffer
 * right after the header (or, from memory, pointed at where it is kept). */
static int push_one(const struct floor_workload *w, struct client_conn *c, uint8_t *buf, uint64_t i)
{
    const struct floor_block *b = &w->blocks[i];
    struct floor_header h = {.body_len = b->len, .partition = b->partition, .block = i};
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)},
                           {.iov_base = buf, .iov_len = b->len}};
    if (w->bodies)
        iov[1].iov_base = w->bodies[i];
    else if (pread(w->files[b->file], buf, b->len, (off_t)b->src_off) != (ssize_t)b->len) {
        fprintf(stderr, "push-floor: pread block %llu: %s\n", (unsigned long long)i,
                strerror(errno));
        return -1;
    }
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    while (msg.msg_iovlen > 0) {
        ssize_t n = sendmsg(c->fd, &msg, 0);
        if (n <= 0) {
            fprintf(stderr, "push-floor: send: %s\n", strerror(errno));
            return -1;
        }
        /* a blocking socket sends all but may be interrupted: step past what went */
        while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
            n -= (ssize_t)msg.msg_iov->iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + n;
            msg.msg_iov->iov_len -= (size_t)n;
        }
    }
    c->in_flight++;
    return 0;
}

/* Reads the acks waiting on c; each frees one slot of the window. */
static int read_acks(struct floor_workload *w, int ep, struct client_conn *c, uint64_t *acked)
{
    ssize_t n =
        recv(c->fd, c->ack_buf + c->ack_fill, sizeof(c->ack_buf) - c->ack_fill, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n == 0 && c->in_flight == 0 && c->ack_fill == 0) {
        /* the server closes once every block is in: fine where nothing is owed */
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        return 0;
    }
    if (n <= 0) {
        fprintf(stderr, "push-floor: reading acks: %s\n", n ? strerror(errno) : "server closed");
        return -1;
    }
    c->ack_fill += (size_t)n;
    size_t used = 0;
    for (; c->ack_fill - used >= sizeof(struct floor_ack); used += sizeof(struct floor_ack)) {
        struct floor_ack a;
        memcpy(&a, c->ack_buf + used, sizeof(a));
        if (a.block >= w->count) {
            fprintf(stderr, "push-floor: ack for unknown block %llu\n",
                    (unsigned long long)a.block);
            return -1;
        }
        w->blocks[a.block].dest_off = a.offset;
        c->in_flight--;
        (*acked)++;
    }
    memmove(c->ack_buf, c->ack_buf + used, c->ack_fill - used);
    c->ack_fill -= used;
    return 0;
}

/* The client's side of one run; its CPU in *cpu_ns. */
static int client_push(struct floor_workload *w, const struct floor_opts *o,
                       const struct sockaddr_in *addr, int64_t *cpu_ns)
{
    struct client_conn *conns = calloc((size_t)o->conns, sizeof(*conns));
    uint8_t *buf = malloc(FLOOR_MAX_BODY);
    int ep = epoll_create1(EPOLL_CLOEXEC), rc = -1;
    if (!conns || !buf || ep < 0)
        goto out;
    for (int i = 0; i < o->conns; i++) {
        conns[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (conns[i].fd < 0 || connect(conns[i].fd, (const void *)addr, sizeof(*addr)) != 0) {
            fprintf(stderr, "push-floor: connect: %s\n", strerror(errno));
            goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }
    int window = o->in_flight / o->conns > 0 ? o->in_flight / o->conns : 1;
    uint64_t next = 0, acked = 0;
    int64_t t0 = cpu_now_ns();
    for (int i = 0; i < o->conns; i++)
        while (conns[i].in_flight < window && next < w->count)
            if (push_one(w, &conns[i], buf, next++) != 0)
                goto out;
    while (acked < w->count) {
        struct epoll_event evs[16];
        int n = epoll_wait(ep, evs, 16, 30000);
        if (n <= 0) {
            fprintf(stderr, "push-floor: no ack for 30 s\n");
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct client_conn *c = evs[i].data.ptr;
            if (read_acks(w, ep, c, &acked) != 0)
                goto out;
            while (c->in_flight < window && next < w->count)
                if (push_one(w, c, buf, next++) != 0)
                    goto out;
        }
    }
    *cpu_ns = cpu_now_ns() - t0;
    rc = 0;
out:
    for (int i = 0; conns && i < o->conns; i++)
        if (conns[i].fd > 0)
            close(conns[i].fd);
    if (ep >= 0)
        close(ep);
    free(conns);
    free(buf);
    return rc;
}

/* One pass: fork the server, push everything, collect both sides' figures. */
static int run_once(struct floor_workload *w, const struct floor_opts *o, enum floor_mode mode,
                    struct floor_sample *out)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(addr);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), report[2] = {-1, -1};
    if (ls < 0 || bind(ls, (void *)&addr, sizeof(addr)) != 0 || listen(ls, o->conns) != 0 ||
        getsockname(ls, (void *)&addr, &alen) != 0 || pipe(report) != 0) {
        fprintf(stderr, "push-floor: listening on 127.0.0.1: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct floor_server_args a = {.listen_fd = ls,
                                      .conns = o->conns,
                                      .blocks = w->count,
                                      .partitions = w->partitions,
                                      .dir = o->dir,
                                      .coalesce_acks = o->coalesce_acks,
                                      .mode = mode};
        struct floor_server_result r = floor_serve(&a);
        _exit(write(report[1], &r, sizeof(r)) == (ssize_t)sizeof(r) && !r.failed ? 0 : 1);
    }
    close(ls);
    close(report[1]);
    double t0 = wall_now();
    int rc = pid > 0 ? client_push(w, o, &addr, &out->client_ns) : -1;
    out->wall_s = wall_now() - t0;
    struct floor_server_result r = {.failed = 1};
    if (read(report[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
        r.failed = 1;
    close(report[0]);
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (rc != 0 || r.failed || status != 0 || r.blocks != w->count || r.bytes != w->bytes) {
        fprintf(stderr, "push-floor: %s run failed (%llu of %llu blocks, %llu of %llu bytes)\n",
                floor_mode_name(mode), (unsigned long long)r.blocks, (unsigned long long)w->count,
                (unsigned long long)r.bytes, (unsigned long long)w->bytes);
        return -1;
    }
    out->server_ns = r.cpu_ns;
    out->socket_reads = r.socket_reads;
    out->waits = r.waits;
    return 0;
}

int main(int argc, char **argv)
{
    struct floor_opts o;
    if (floor_parse_opts(&o, argc, argv) != 0)
        return 2;
    struct floor_workload w;
    if (floor_load_workload(&w, &o) != 0)
        return 1;
    floor_print_header(&w, &o);
    struct floor_sample *samples = calloc((size_t)o.repeat * FLOOR_MODES, sizeof(*samples));
    int rc = samples ? 0 : 1;
    for (int r = 0; r < o.repeat && rc == 0; r++) {
        for (int m = 0; m < FLOOR_MODES && rc == 0; m++) {
            if (!o.modes[m])
                continue;
            struct floor_sample warm, *s = &samples[m * o.repeat + r];
            /* overwrite's pass writes the same ranges as a fresh pass run just before it */
            if (m == FLOOR_OVERWRITE && run_once(&w, &o, FLOOR_RECV_PWRITE, &warm) != 0)
                rc = 1;
            else if (run_once(&w, &o, (enum floor_mode)m, s) != 0)
                rc = 1;
            else if (o.verify && floor_verify(&w, &o, (enum floor_mode)m) != 0)
                rc = 1;
            else
                floor_print_run(&w, (enum floor_mode)m, r, s);
        }
    }
    if (rc == 0)
        floor_print_summary(&w, &o, samples);
    floor_remove_files(&w, &o);
    free(samples);
    floor_free_workload(&w);
    return rc;
}
