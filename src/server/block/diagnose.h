/* SPDX-License-Identifier: Apache-2.0 */
/* DiagnoseCorruption (Spark 3.2+; docs/push.md "Corruption diagnosis"): a reader whose block
 * failed its checksum asks why. The map output's checksum file
 * shuffle_S_M_0.checksum.<ALGO> (one big-endian i64 per reduce partition, placed like the
 * index file) holds what the writer computed; the block is checksummed again from disk and
 * the three values decide the CorruptionCause, as Spark's ShuffleChecksumHelper does. Works
 * with push-based shuffle on or off. */
#ifndef SHUFFLED_SERVER_BLOCK_DIAGNOSE_H
#define SHUFFLED_SERVER_BLOCK_DIAGNOSE_H

#include <stdint.h>

#include "common/spark_checksum.h"

struct block_service;
struct blockmsg;
struct conn;
struct rpc_reply;

/* CorruptionCause's byte. */
enum corruption_cause {
    CAUSE_DISK_ISSUE = 0,
    CAUSE_NETWORK_ISSUE = 1,
    CAUSE_UNKNOWN_ISSUE = 2,
    CAUSE_CHECKSUM_VERIFY_PASS = 3,
    CAUSE_UNSUPPORTED_CHECKSUM_ALGORITHM = 4,
};

/* The cause, from open files (algo SPARK_CHECKSUM_UNSUPPORTED: a name Spark does not know,
 * UNSUPPORTED_CHECKSUM_ALGORITHM before any file is read): checksum_fd the checksum file (-1:
 * missing), data_fd the data file holding the block at [offset, offset + length) (-1: missing); the
 * reader's value. Any read failure is UNKNOWN_ISSUE. Blocking. */
enum corruption_cause corruption_cause_of(enum spark_checksum_algo algo, int checksum_fd,
                                          int32_t reduce_id, int data_fd, uint64_t offset,
                                          uint64_t length, int64_t checksum_by_reader);

/* The RPC: answers CorruptionCause (the block's file resolved as for a fetch), or RpcFailure
 * when the executor is not registered or the block cannot be located (as Spark fails there
 * too). Consumes reply; the work runs on the blocking pool. */
void block_diagnose_corruption(struct block_service *s, struct conn *c, struct rpc_reply *reply,
                               const struct blockmsg *m);

#endif
