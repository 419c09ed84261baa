/* SPDX-License-Identifier: Apache-2.0 */
/* Spark's shuffle checksum algorithms by their names (spark.shuffle.checksum.algorithm, the
 * extension of the checksum file shuffle_S_M_0.checksum.<ALGO>): ADLER32 and CRC32 (zlib,
 * Spark 3.2+) and CRC32C (Intel ISA-L's crc32_iscsi, Spark 4.0+). Values are what Java's
 * Checksum.getValue() returns: the unsigned 32-bit checksum. Incremental, so a block can be
 * checksummed buffer by buffer. */
#ifndef SHUFFLED_COMMON_SPARK_CHECKSUM_H
#define SHUFFLED_COMMON_SPARK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

enum spark_checksum_algo {
    SPARK_CHECKSUM_ADLER32,
    SPARK_CHECKSUM_CRC32,
    SPARK_CHECKSUM_CRC32C,
    SPARK_CHECKSUM_UNSUPPORTED,
};

/* The algorithm Spark names exactly so (case-sensitive), else SPARK_CHECKSUM_UNSUPPORTED. */
enum spark_checksum_algo spark_checksum_algo_of(const char *name);

/* The running value of a new checksum (Adler32: 1; CRC32, CRC32C: 0). */
uint32_t spark_checksum_start(enum spark_checksum_algo algo);
/* sum extended by data[0 .. len - 1]; update(update(s, a), b) == update(s, a ++ b). */
uint32_t spark_checksum_update(enum spark_checksum_algo algo, uint32_t sum, const void *data,
                               size_t len);

#endif
