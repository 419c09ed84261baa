/* SPDX-License-Identifier: Apache-2.0 */
/* page_cache_warm: the first part of a chunk is in the page cache when it returns, read
 * without a copy to user space; ranges past the end and empty ranges are harmless. */
#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/stream/page_cache.h"
#include "../check_main.h"

#define FILE_BYTES (8u << 20)

static int fd = -1;

static void make_file(void)
{
    char path[] = "page-cache-test-XXXXXX"; /* in the build tree: a disk, not tmpfs */
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    char *block = malloc(1 << 16);
    for (unsigned i = 0; i < (1u << 16); i++)
        block[i] = (char)(i * 31u);
    for (unsigned done = 0; done < FILE_BYTES; done += 1 << 16)
        ck_assert_int_eq(write(fd, block, 1 << 16), 1 << 16);
    free(block);
    ck_assert_int_eq(fsync(fd), 0);
}

static void close_file(void)
{
    close(fd);
}

/* Pages of [offset, offset + len) that are in the page cache. */
static size_t resident_pages(uint64_t offset, uint64_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)offset);
    ck_assert_ptr_ne(map, MAP_FAILED);
    size_t pages = (len + (uint64_t)page - 1) / (uint64_t)page, n = 0;
    unsigned char *vec = malloc(pages);
    ck_assert_int_eq(mincore(map, len, vec), 0);
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    free(vec);
    munmap(map, len);
    return n;
}

/* Drops the file from the page cache; false when this filesystem keeps it (tmpfs). */
static bool evicted(void)
{
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    return resident_pages(0, FILE_BYTES) == 0;
}

START_TEST(first_part_is_cached_on_return)
{
    if (!evicted()) {
        fprintf(stderr, "page cache not droppable here (tmpfs?): nothing to observe\n");
        return;
    }
    uint64_t offset = 1u << 20, len = 6u << 20;
    ck_assert_uint_eq(page_cache_warm(fd, offset, len), PAGE_CACHE_WARM_BYTES);
    long page = sysconf(_SC_PAGESIZE);
    ck_assert_uint_eq(resident_pages(offset, PAGE_CACHE_WARM_BYTES),
                      PAGE_CACHE_WARM_BYTES / (uint64_t)page);
    /* and the bytes before the range were not read */
    ck_assert_uint_eq(resident_pages(0, offset), 0);
}
END_TEST

START_TEST(small_chunk_is_cached_whole)
{
    if (!evicted()) {
        fprintf(stderr, "page cache not droppable here (tmpfs?): nothing to observe\n");
        return;
    }
    ck_assert_uint_eq(page_cache_warm(fd, 3 * 4096, 3 * 4096), 3 * 4096);
    ck_assert_uint_eq(resident_pages(3 * 4096, 3 * 4096), 3);
}
END_TEST

START_TEST(range_past_the_end_stops_at_eof)
{
    ck_assert_uint_eq(page_cache_warm(fd, FILE_BYTES - 100, 1000), 100);
    ck_assert_uint_eq(page_cache_warm(fd, FILE_BYTES + 4096, 1000), 0);
    ck_assert_uint_eq(page_cache_warm(fd, 0, 0), 0);
}
END_TEST

START_TEST(bad_fd_is_harmless)
{
    ck_assert_uint_eq(page_cache_warm(-1, 0, 4096), 0);
}
END_TEST

CHECK_MAIN((.suite = "page_cache", .name = "warm", .setup = make_file, .teardown = close_file),
           first_part_is_cached_on_return, small_chunk_is_cached_whole,
           range_past_the_end_stops_at_eof, bad_fd_is_harmless)
