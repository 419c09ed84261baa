/* SPDX-License-Identifier: Apache-2.0 */
/* See merge_journal_attempt.h. */
#include <config.h>

#include "server/push/merge_journal_attempt.h"

#include <stdlib.h>
#include <string.h>

void merge_journal_attempt_encode(struct proto_writer *w, const struct merge_dirs *d)
{
    proto_write_i32(w, d->sub_dirs);
    proto_write_i32(w, (int32_t)d->n_dirs);
    for (uint32_t i = 0; i < d->n_dirs; i++)
        proto_write_str(w, d->dirs[i]);
}

bool merge_journal_attempt_decode(struct proto_reader *rd, struct merge_dirs *out)
{
    struct proto_string_array dirs = {0};
    memset(out, 0, sizeof *out);
    if (!proto_read_i32(rd, &out->sub_dirs) || !proto_read_string_array(rd, &dirs))
        return false;
    bool ok = dirs.count > 0 && out->sub_dirs > 0 &&
              (out->dirs = calloc(dirs.count, sizeof *out->dirs)) != NULL;
    for (uint32_t i = 0; ok && i < dirs.count; i++) {
        struct proto_bytes *b = &dirs.items[i];
        /* absolute, no NUL inside: as merged_layout made it */
        ok = b->data && b->len > 0 && strlen(b->data) == b->len && b->data[0] == '/';
        if (ok) {
            out->dirs[i] = b->data; /* taken over */
            b->data = NULL;
            out->n_dirs = i + 1;
        }
    }
    proto_string_array_free(&dirs);
    if (!ok)
        merge_dirs_free(out);
    return ok;
}

size_t merge_journal_attempt_bytes(const char *app, const struct merge_dirs *d)
{
    size_t n = 12 + 1 + 4 + strlen(app) + 3 * 4 + 4 + 4;
    for (uint32_t i = 0; i < d->n_dirs; i++)
        n += 4 + strlen(d->dirs[i]);
    return n;
}
