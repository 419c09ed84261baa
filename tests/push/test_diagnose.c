/* SPDX-License-Identifier: Apache-2.0 */
/* The checksum logic of DiagnoseCorruption (diagnose.h) on the files Spark 3.5 wrote
 * (vectors-35/data: ADLER32 checksum files of every map output, a CRC32 one for shuffle_0_1
 * whose reduce 0 entry is wrong on purpose): each of the five causes, in Spark's order, and
 * every read failure as UNKNOWN_ISSUE. CRC32C (Spark 4.0, java.util.zip.CRC32C) against
 * published check values and a block longer than one read buffer. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/spark_checksum.h"
#include "server/block/diagnose.h"
#include "../harness/fs.h"
#include "../harness/locate.h"
#include "../check_main.h"

static int open_data(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/vectors-35/data/%s", harness_shared_dir(), rel);
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "cannot open %s", path);
    return fd;
}

/* The value stored for reduce in a checksum file (big-endian i64). */
static int64_t stored(int fd, int reduce)
{
    uint8_t b[8];
    ck_assert_int_eq(pread(fd, b, 8, reduce * 8), 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

START_TEST(test_recorded_causes)
{
    int adler = open_data("blockmgr-0/1a/shuffle_0_0_0.checksum.ADLER32");
    int data = open_data("blockmgr-0/26/shuffle_0_0_0.data");
    /* shuffle_0_0_1: bytes [103, 171); the reader's value as the Spark 3.5 client sent it */
    ck_assert(stored(adler, 1) == 3767280562);
    ck_assert_int_eq(
        corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 1, data, 103, 68, 3767280562),
        CAUSE_CHECKSUM_VERIFY_PASS);
    ck_assert_int_eq(
        corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 1, data, 103, 68, 3767302632),
        CAUSE_NETWORK_ISSUE);
    /* every reduce of the map verifies against the file the writer left */
    const uint64_t off[] = {0, 103, 171, 319}, len[] = {103, 68, 148, 84};
    for (int r = 0; r < 4; r++)
        ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, r, data, off[r], len[r],
                                             stored(adler, r)),
                         CAUSE_CHECKSUM_VERIFY_PASS);
    /* the block on disk differs from what the writer checksummed */
    ck_assert_int_eq(
        corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 1, data, 104, 68, 3767280562),
        CAUSE_DISK_ISSUE);
    /* CRC32, and the entry Spark's harness made wrong (xor 1) */
    int crc = open_data("blockmgr-1/34/shuffle_0_1_0.checksum.CRC32");
    int data1 = open_data("blockmgr-1/2a/shuffle_0_1_0.data");
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32, crc, 0, data1, 0, 149, 1033405560),
                     CAUSE_DISK_ISSUE);
    ck_assert(stored(crc, 1) == 0xd6d45f22); /* shuffle_0_1_1's crc32 in the manifest */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32, crc, 1, data1, 149, 136, 0xd6d45f22),
                     CAUSE_CHECKSUM_VERIFY_PASS);
    /* an empty block: Java's empty Adler32 is 1, CRC32 0 */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32, crc, 3, data1, 328, 0, 0),
                     stored(crc, 3) == 0 ? CAUSE_CHECKSUM_VERIFY_PASS : CAUSE_DISK_ISSUE);
    close(crc);
    close(data1);
    close(adler);
    close(data);
}
END_TEST

START_TEST(test_failures_and_order)
{
    int adler = open_data("blockmgr-0/1a/shuffle_0_0_0.checksum.ADLER32");
    int data = open_data("blockmgr-0/26/shuffle_0_0_0.data");
    /* the algorithm is checked before any file */
    ck_assert_int_eq(spark_checksum_algo_of("ADLER32"), SPARK_CHECKSUM_ADLER32);
    ck_assert_int_eq(spark_checksum_algo_of("CRC32"), SPARK_CHECKSUM_CRC32);
    ck_assert_int_eq(spark_checksum_algo_of("CRC32C"), SPARK_CHECKSUM_CRC32C);
    const char *unsupported[] = {"MD5", "adler32", "crc32c", "CRC32C ", "", "CRC32 ", "CRC64"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        ck_assert_int_eq(spark_checksum_algo_of(unsupported[i]), SPARK_CHECKSUM_UNSUPPORTED);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_UNSUPPORTED, -1, 0, -1, 0, 0, 12345),
                     CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM);
    /* no checksum file, a reduce past its end or negative, no data, data past its end */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32, -1, 0, data, 0, 103, 1),
                     CAUSE_UNKNOWN_ISSUE);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 4, data, 0, 103, 1),
                     CAUSE_UNKNOWN_ISSUE);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, -1, data, 0, 103, 1),
                     CAUSE_UNKNOWN_ISSUE);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 1, -1, 103, 68, 3767280562),
                     CAUSE_UNKNOWN_ISSUE);
    /* a block starting past the data file's end: Spark's skipFully fails, UNKNOWN_ISSUE */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 3, data, 404, 1, 1),
                     CAUSE_UNKNOWN_ISSUE);
    /* one running past it: Spark's LimitedInputStream just ends at the end of the file, so the
     * bytes there are checksummed (here the whole real block: it verifies against the file,
     * the reader's 1 does not) */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 3, data, 319, 85, 1),
                     CAUSE_NETWORK_ISSUE);
    ck_assert_int_eq(
        corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 3, data, 319, 85, stored(adler, 3)),
        CAUSE_CHECKSUM_VERIFY_PASS);
    /* a data file cut inside the block: what is left is checksummed, DISK_ISSUE */
    {
        char cut_path[1024], cmd[2400];
        snprintf(cut_path, sizeof cut_path, "%s/cut.data", harness_test_dir());
        snprintf(cmd, sizeof cmd,
                 "head -c 350 '%s/vectors-35/data/blockmgr-0/26/shuffle_0_0_0.data' > '%s'",
                 harness_shared_dir(), cut_path);
        ck_assert_int_eq(system(cmd), 0);
        int cut_data = open(cut_path, O_RDONLY);
        ck_assert(cut_data >= 0);
        ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 3, cut_data, 319, 84,
                                             stored(adler, 3)),
                         CAUSE_DISK_ISSUE);
        /* cut exactly at the block's start: the empty rest is checksummed (Adler32 1) */
        int w = open(cut_path, O_WRONLY);
        ck_assert(w >= 0 && ftruncate(w, 319) == 0);
        close(w);
        ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, adler, 3, cut_data, 319, 84,
                                             stored(adler, 3)),
                         CAUSE_DISK_ISSUE);
        close(cut_data);
    }
    /* a checksum file cut inside an entry */
    char path[1024];
    snprintf(path, sizeof path, "%s/short.checksum", harness_test_dir());
    ck_assert_int_eq(harness_write_file(path, "\0\0\0\0\0\0\0\1\0\0", 10), 0);
    int cut = open(path, O_RDONLY);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, cut, 1, data, 0, 0, 1),
                     CAUSE_UNKNOWN_ISSUE);
    /* entry 0 holds 1 = Adler32 of nothing */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_ADLER32, cut, 0, data, 0, 0, 1),
                     CAUSE_CHECKSUM_VERIFY_PASS);
    close(cut);
    close(adler);
    close(data);
}
END_TEST

static uint32_t one_shot(enum spark_checksum_algo algo, const void *data, size_t len)
{
    return spark_checksum_update(algo, spark_checksum_start(algo), data, len);
}

/* CRC32C is Java's CRC32C.getValue(): the check value of "123456789" and RFC 3720's (iSCSI)
 * B.4 vectors; fed in pieces, the same value as at once. */
START_TEST(test_crc32c_values)
{
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32C, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32C, "", 0), 0); /* a new CRC32C's value */
    uint8_t zeros[32] = {0}, ones[32], ascending[32];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++)
        ascending[i] = (uint8_t)i;
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32C, zeros, 32), 0x8A9136AAu);
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32C, ones, 32), 0x62A8AB43u);
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32C, ascending, 32), 0x46DD794Eu);
    /* every split of "123456789", and byte by byte */
    static const char check[] = "123456789";
    for (size_t cut = 0; cut <= 9; cut++) {
        uint32_t sum = spark_checksum_start(SPARK_CHECKSUM_CRC32C);
        sum = spark_checksum_update(SPARK_CHECKSUM_CRC32C, sum, check, cut);
        sum = spark_checksum_update(SPARK_CHECKSUM_CRC32C, sum, &check[cut], 9 - cut);
        ck_assert_uint_eq(sum, 0xE3069283u);
    }
    uint32_t sum = spark_checksum_start(SPARK_CHECKSUM_CRC32C);
    for (int i = 0; i < 32; i++)
        sum = spark_checksum_update(SPARK_CHECKSUM_CRC32C, sum, &ascending[i], 1);
    ck_assert_uint_eq(sum, 0x46DD794Eu);
    /* the other two keep Java's values through the same interface */
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_CRC32, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_ADLER32, "123456789", 9), 0x091E01DEu);
    ck_assert_uint_eq(one_shot(SPARK_CHECKSUM_ADLER32, "", 0), 1);
}
END_TEST

/* A CRC32C checksum file and a block of 200003 bytes (more than three of diagnose's 64 KiB
 * reads, the last one partial): the value an independent bitwise CRC32C gave, 0x53A09A65,
 * verifies; one byte changed on disk is DISK_ISSUE; the reader's different value
 * NETWORK_ISSUE. */
START_TEST(test_crc32c_causes)
{
    enum { LEN = 200003 };
    static uint8_t block[LEN];
    for (size_t i = 0; i < LEN; i++)
        block[i] = (uint8_t)(i * 7 + 3);
    char data_path[1024], sum_path[1024];
    snprintf(data_path, sizeof data_path, "%s/shuffle_0_0_0.data", harness_test_dir());
    snprintf(sum_path, sizeof sum_path, "%s/shuffle_0_0_0.checksum.CRC32C", harness_test_dir());
    /* reduce 0 is empty, reduce 1 the block */
    const uint8_t file_sums[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0xA0, 0x9A, 0x65};
    ck_assert_int_eq(harness_write_file(sum_path, (const char *)file_sums, 16), 0);
    ck_assert_int_eq(harness_write_file(data_path, (const char *)block, LEN), 0);
    int sums = open(sum_path, O_RDONLY), data = open(data_path, O_RDONLY);
    ck_assert(sums >= 0 && data >= 0);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32C, sums, 1, data, 0, LEN, 0x53A09A65),
                     CAUSE_CHECKSUM_VERIFY_PASS);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32C, sums, 0, data, 0, 0, 0),
                     CAUSE_CHECKSUM_VERIFY_PASS);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32C, sums, 1, data, 0, LEN, 0x53A09A64),
                     CAUSE_NETWORK_ISSUE);
    /* the same bytes checksummed as CRC32 do not match a CRC32C file */
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32, sums, 1, data, 0, LEN, 0x53A09A65),
                     CAUSE_DISK_ISSUE);
    block[150000] ^= 0x40; /* in the third read buffer */
    ck_assert_int_eq(harness_write_file(data_path, (const char *)block, LEN), 0);
    ck_assert_int_eq(corruption_cause_of(SPARK_CHECKSUM_CRC32C, sums, 1, data, 0, LEN, 0x53A09A65),
                     CAUSE_DISK_ISSUE);
    close(sums);
    close(data);
}
END_TEST

CHECK_MAIN((.suite = "diagnose", .name = "checksums", .needs_shared_vectors = true),
           test_recorded_causes, test_failures_and_order, test_crc32c_values, test_crc32c_causes)
