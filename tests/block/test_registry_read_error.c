/* SPDX-License-Identifier: Apache-2.0 */
/* Error paths of the registration store that used to lose registrations: a log that cannot
 * be read whole (an I/O error part-way) must make registry_store_open fail, not replay the
 * part it read and compact the rest away (read() is wrapped, -Wl,--wrap=read, this test only,
 * to fail on demand); a registration too large for one record is refused, not skipped later. */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <unistd.h>

#include "server/block/registry_store.h"
#include "test_util_block.h"
#include "../check_main.h"

ssize_t __real_read(int fd, void *buf, size_t n);
static bool fail_reads; /* when set, read() returns 16 bytes, then EIO */
static size_t served;

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (!fail_reads)
        return __real_read(fd, buf, n);
    if (served >= 16) {
        errno = EIO;
        return -1;
    }
    ssize_t k = __real_read(fd, buf, n < 16 - served ? n : 16 - served);
    if (k > 0)
        served += (size_t)k;
    return k;
}

static char *dirs[] = {"/data/d0"};

START_TEST(test_read_error_keeps_the_log)
{
    const char *top = harness_test_dir();
    char err[512];
    struct executor_info info = {dirs, 1, 8, "sort", NULL};
    struct resolver *r;
    struct registry_store *s = store_open(top, &r, NULL);
    ck_assert_int_eq(registry_store_put(s, "app-1", "0", &info, err, sizeof(err)), 0);
    ck_assert_int_eq(registry_store_put(s, "app-1", "1", &info, err, sizeof(err)), 0);
    store_close(s, r);

    r = resolver_create(1 << 16);
    fail_reads = true;
    served = 0;
    s = registry_store_open(top, r, NULL, err, sizeof(err));
    fail_reads = false;
    ck_assert_msg(s == NULL, "a log read only in part was accepted");
    ck_assert(strstr(err, "cannot read") != NULL);
    resolver_destroy(r);

    /* the log is intact: both registrations come back */
    struct registry_store_stats st;
    s = store_open(top, &r, &st);
    ck_assert_uint_eq(st.live, 2);
    store_close(s, r);
}
END_TEST

/* A registration too large for one log record is refused, never acknowledged and then
 * skipped at the next start. */
START_TEST(test_oversized_registration_refused)
{
    const char *top = harness_test_dir();
    enum { NDIRS = 300, DIRLEN = 4000 }; /* 1.2 MB of dirs */
    static char dirbuf[NDIRS][DIRLEN + 1];
    static char *big[NDIRS];
    for (int i = 0; i < NDIRS; i++) {
        memset(dirbuf[i], 'd', DIRLEN);
        dirbuf[i][0] = '/';
        big[i] = dirbuf[i];
    }
    struct executor_info info = {big, NDIRS, 8, "sort", NULL};
    struct resolver *r;
    struct registry_store *s = store_open(top, &r, NULL);
    char put_err[512] = "";
    int rc = registry_store_put(s, "app-1", "0", &info, put_err, sizeof(put_err));
    store_close(s, r);
    struct registry_store_stats st;
    s = store_open(top, &r, &st);
    ck_assert_msg(rc != 0 || st.live == 1,
                  "the registration was acknowledged but is gone after a restart");
    ck_assert(rc == 0 || strstr(put_err, "record limit") != NULL);
    store_close(s, r);
}
END_TEST

CHECK_MAIN((.suite = "registry_read_error", .name = "read_error"), test_read_error_keeps_the_log,
           test_oversized_registration_refused)
