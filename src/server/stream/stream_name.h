/* SPDX-License-Identifier: Apache-2.0 */
/* Stream names of StreamRequest: "<streamId>_<chunkIndex>", parsed as Spark's Java does. */
#ifndef SHUFFLED_SERVER_STREAM_STREAM_NAME_H
#define SHUFFLED_SERVER_STREAM_STREAM_NAME_H

#include <stddef.h>
#include <stdint.h>

/* Splits name[0, len) as Java's split("_") then parseLong/parseInt do (trailing empty parts
 * dropped; extra parts ignored). 0, or -1 with Java's exception text in err. */
int stream_name_parse(const char *name, size_t len, int64_t *sid, int32_t *idx, char *err,
                      size_t errlen);

#endif
