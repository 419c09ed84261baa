/* SPDX-License-Identifier: Apache-2.0 */
/* File bodies larger than one window (chunk_window.h): every byte arrives in order, every
 * window after the first goes through the page-cache check (queued at once when cached, read
 * on the blocking pool first when not), and the chunk-in-flight accounting ends at zero. The
 * real daemon (test build) over loopback. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "tclient.h"
#include "texpect.h"
#include "../check_main.h"

#define WINDOW (1u << 20)
#define FILE_SIZE (4u * WINDOW + 4321)

static struct harness_daemon daemon_;
static char path[600];
static uint8_t *bytes;

static void setup(void)
{
    ck_assert_int_eq(tdaemon_start(&daemon_, NULL), 0);
    snprintf(path, sizeof path, "%s/windows.bin", daemon_.dir);
    bytes = harness_write_random_file(path, FILE_SIZE, 0x9e3779b97f4a7c15ULL);
    ck_assert_ptr_nonnull(bytes);
}

static void teardown(void)
{
    /* 0 also means: no leak under LeakSanitizer */
    ck_assert_int_eq(harness_daemon_stop(&daemon_), 0);
    free(bytes);
}

struct windows {
    int64_t cached, warmed;
};

static struct windows windows_so_far(int fd)
{
    uint8_t *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(tc_rpc(fd, "P", 1, &out, &n), 0);
    ck_assert_uint_eq(n, 16);
    int64_t v[2] = {0, 0};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 8; i++)
            v[k] = (v[k] << 8) | out[8 * k + i];
    free(out);
    return (struct windows){v[0], v[1]};
}

/* Windows after the first in a body of len bytes. */
static int64_t later_windows(int64_t len)
{
    return len <= WINDOW ? 0 : (len + WINDOW - 1) / WINDOW - 1;
}

/* Bodies of 1 window + 1 byte, and of 4 windows + a tail at an odd offset, by ChunkFetch and by
 * Stream, pipelined with a small chunk behind them that must come out after them. */
START_TEST(bodies_arrive_whole_and_each_later_window_is_checked_once)
{
    int fd = tc_connect(daemon_.port);
    ck_assert_int_ge(fd, 0);
    const int64_t off_a = 3, len_a = WINDOW + 1;
    const int64_t off_b = 777, len_b = FILE_SIZE - 777 - 11;
    struct tc_chunk ch[3] = {
        {.kind = 0, .path = path, .offset = off_a, .length = len_a},
        {.kind = 0, .path = path, .offset = off_b, .length = len_b},
        {.kind = 0, .path = path, .offset = 5, .length = 100},
    };
    int64_t sid = tc_register(fd, ch, 3);
    int64_t sid2 = tc_register(fd, ch, 3);
    ck_assert_int_ge(sid, 0);
    ck_assert_int_ge(sid2, 0);
    struct windows before = windows_so_far(fd);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tc_send_fetch(fd, sid, i), 0);
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%lld_%d", (long long)sid2, i);
        ck_assert_int_eq(tc_send_stream(fd, name), 0);
    }
    expect_fetch_ok(fd, sid, 0, bytes + off_a, (size_t)len_a);
    expect_fetch_ok(fd, sid, 1, bytes + off_b, (size_t)len_b);
    expect_fetch_ok(fd, sid, 2, bytes + 5, 100);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%lld_%d", (long long)sid2, i);
        expect_stream_ok(fd, name, bytes + ch[i].offset, (size_t)ch[i].length);
    }
    /* each later window was checked once: found cached (this file was just written) or read
     * on the pool; a body sent whole, or a window checked twice, breaks the count */
    struct windows after = windows_so_far(fd);
    ck_assert_int_eq((after.cached - before.cached) + (after.warmed - before.warmed),
                     2 * (later_windows(len_a) + later_windows(len_b)));
    close(fd);
}
END_TEST

/* The same file dropped from the page cache first: later windows the first one's readahead did
 * not bring in are read on the pool; the bytes are the same. */
START_TEST(bodies_of_an_evicted_file)
{
    int f = open(path, O_RDONLY);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq(fdatasync(f), 0);
    posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
    unsigned char vec[(FILE_SIZE + 4095) / 4096];
    void *map = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, f, 0);
    ck_assert_ptr_ne(map, MAP_FAILED);
    ck_assert_int_eq(mincore(map, FILE_SIZE, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < sizeof vec; i++)
        resident += vec[i] & 1;
    munmap(map, FILE_SIZE);
    close(f);
    int fd = tc_connect(daemon_.port);
    ck_assert_int_ge(fd, 0);
    struct tc_chunk ch = {.kind = 0, .path = path, .offset = 1, .length = FILE_SIZE - 1};
    int64_t sid = tc_register(fd, &ch, 1);
    ck_assert_int_ge(sid, 0);
    struct windows before = windows_so_far(fd);
    ck_assert_int_eq(tc_send_fetch(fd, sid, 0), 0);
    expect_fetch_ok(fd, sid, 0, bytes + 1, FILE_SIZE - 1);
    struct windows after = windows_so_far(fd);
    ck_assert_int_eq((after.cached - before.cached) + (after.warmed - before.warmed),
                     later_windows(FILE_SIZE - 1));
    /* which way each window went depends on the disk and the kernel's readahead: shown only */
    fprintf(stderr,
            "evicted file (%zu of %zu pages still cached): %lld window(s) cached, %lld "
            "warmed on the pool\n",
            resident, sizeof vec, (long long)(after.cached - before.cached),
            (long long)(after.warmed - before.warmed));
    close(fd);
}
END_TEST

/* Several connections, each with several windowed bodies queued: all arrive, and the
 * chunks-in-flight count returns to zero (a windowed answer is counted once, when complete). */
START_TEST(pipelined_windowed_bodies_on_several_connections)
{
    enum { CONNS = 4, PER_CONN = 3 };
    int fds[CONNS];
    int64_t sids[CONNS];
    const int64_t off = 12345, len = 3 * WINDOW + 17;
    struct tc_chunk ch[PER_CONN];
    for (int i = 0; i < PER_CONN; i++)
        ch[i] = (struct tc_chunk){.kind = 0, .path = path, .offset = off + i, .length = len};
    for (int c = 0; c < CONNS; c++) {
        fds[c] = tc_connect(daemon_.port);
        ck_assert_int_ge(fds[c], 0);
        sids[c] = tc_register(fds[c], ch, PER_CONN);
        ck_assert_int_ge(sids[c], 0);
        for (int i = 0; i < PER_CONN; i++)
            ck_assert_int_eq(tc_send_fetch(fds[c], sids[c], i), 0);
    }
    for (int c = 0; c < CONNS; c++)
        for (int i = 0; i < PER_CONN; i++)
            expect_fetch_ok(fds[c], sids[c], i, bytes + off + i, (size_t)len);
    int64_t streams = -1, chunks = -1;
    ck_assert_int_eq(tc_live(fds[0], &streams, &chunks), 0);
    ck_assert_int_eq(chunks, 0);
    for (int c = 0; c < CONNS; c++)
        close(fds[c]);
    ck_assert_int_eq(tc_wait_no_streams(daemon_.port), 0);
}
END_TEST

/* A client that closes while windows are queued or being warmed: the daemon frees them (the
 * teardown's clean exit checks for leaks) and serves the next client. */
START_TEST(close_while_windows_are_pending)
{
    for (int round = 0; round < 20; round++) {
        int fd = tc_connect(daemon_.port);
        ck_assert_int_ge(fd, 0);
        struct tc_chunk ch[2] = {{.kind = 0, .path = path, .offset = 1, .length = FILE_SIZE - 1},
                                 {.kind = 0, .path = path, .offset = 0, .length = FILE_SIZE}};
        int64_t sid = tc_register(fd, ch, 2);
        ck_assert_int_ge(sid, 0);
        ck_assert_int_eq(tc_send_fetch(fd, sid, 0), 0);
        ck_assert_int_eq(tc_send_fetch(fd, sid, 1), 0);
        uint8_t buf[4096];
        ck_assert_int_eq(tc_read_exact(fd, buf, (size_t)(round % 2 ? sizeof buf : 21)), 0);
        close(fd);
    }
    ck_assert_int_eq(tc_wait_no_streams(daemon_.port), 0);
    int fd = tc_connect(daemon_.port);
    expect_echo(fd);
    int64_t streams = -1, chunks = -1;
    ck_assert_int_eq(tc_live(fd, &streams, &chunks), 0);
    ck_assert_int_eq(chunks, 0);
    close(fd);
}
END_TEST

CHECK_MAIN((.suite = "server_windows", .name = "windows", .timeout_s = 120, .setup = setup,
            .teardown = teardown),
           bodies_arrive_whole_and_each_later_window_is_checked_once, bodies_of_an_evicted_file,
           pipelined_windowed_bodies_on_several_connections, close_while_windows_are_pending)
