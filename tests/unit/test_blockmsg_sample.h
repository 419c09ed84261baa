/* SPDX-License-Identifier: Apache-2.0 */
/* Sample messages built from the message descriptions (src/proto/msgdesc.h),
 * for the table-walking unit tests and the fuzz targets: every field gets a
 * value of its kind, taken from a list of edge values in turn or from the bytes
 * of a fuzz input, so a new table row is exercised without new test code. */
#ifndef SHUFFLED_TEST_BLOCKMSG_SAMPLE_H
#define SHUFFLED_TEST_BLOCKMSG_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msgdesc.h"

struct sample_source {
    const uint8_t *data; /* NULL: edge values in turn, starting at turn */
    size_t len, pos;
    unsigned turn;
};

/* Fills every field of d present in layout. Owned fields are allocated (free
 * with msgdesc_free); views point into static text or into src->data. */
void sample_fill(const struct msgdesc *d, void *msg, int layout, struct sample_source *src);

/* The layouts a row can take: 1, or 2 for a row with a 3.1 and a 3.2 layout. */
int sample_layouts(const struct msgdesc *d);

#endif
