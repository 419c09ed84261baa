/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's shuffle checksums; see spark_checksum.h. */
#include <config.h>

#include "common/spark_checksum.h"

#include <isa-l/crc.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

enum spark_checksum_algo spark_checksum_algo_of(const char *name)
{
    if (strcmp(name, "ADLER32") == 0)
        return SPARK_CHECKSUM_ADLER32;
    if (strcmp(name, "CRC32") == 0)
        return SPARK_CHECKSUM_CRC32;
    if (strcmp(name, "CRC32C") == 0)
        return SPARK_CHECKSUM_CRC32C;
    return SPARK_CHECKSUM_UNSUPPORTED;
}

uint32_t spark_checksum_start(enum spark_checksum_algo algo)
{
    return algo == SPARK_CHECKSUM_ADLER32 ? 1 : 0;
}

uint32_t spark_checksum_update(enum spark_checksum_algo algo, uint32_t sum, const void *data,
                               size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        /* zlib takes uInt lengths, ISA-L int ones */
        size_t n = len < (size_t)INT_MAX ? len : (size_t)INT_MAX;
        switch (algo) {
        case SPARK_CHECKSUM_ADLER32:
            sum = (uint32_t)adler32(sum, p, (uInt)n);
            break;
        case SPARK_CHECKSUM_CRC32:
            sum = (uint32_t)crc32(sum, p, (uInt)n);
            break;
        case SPARK_CHECKSUM_CRC32C:
            /* crc32_iscsi keeps the register un-inverted: the value in and out is inverted
             * here, so that 0 starts a checksum and "123456789" gives 0xE3069283 */
            sum = ~crc32_iscsi((unsigned char *)(uintptr_t)p, (int)n, ~sum);
            break;
        case SPARK_CHECKSUM_UNSUPPORTED:
            return sum;
        }
        p += n;
        len -= n;
    }
    return sum;
}
