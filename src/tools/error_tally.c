/* SPDX-License-Identifier: Apache-2.0 */
/* See error_tally.h. */
#include <config.h>

#include "tools/error_tally.h"

#include <stdlib.h>
#include <string.h>

/* "key=123" -> "key=N", in place. */
static void mask_numbers(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (r > s && r[-1] == '=' && *r >= '0' && *r <= '9') {
            while (*r >= '0' && *r <= '9')
                r++;
            *w++ = 'N';
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

void error_tally_add(struct error_tally *t, const char *msg, const char *block_id)
{
    char text[sizeof t->kinds[0].text];
    size_t n = strcspn(msg, "\n");
    const char *at = block_id && *block_id ? strstr(msg, block_id) : NULL;
    if (at && (size_t)(at - msg) < n)
        snprintf(text, sizeof text, "%.*s<block>%.*s", (int)(at - msg), msg,
                 (int)(n - (size_t)(at - msg) - strlen(block_id)), at + strlen(block_id));
    else
        snprintf(text, sizeof text, "%.*s", (int)n, msg);
    mask_numbers(text);
    for (int i = 0; i < t->nkinds; i++) {
        if (strcmp(t->kinds[i].text, text) == 0) {
            t->kinds[i].count++;
            return;
        }
    }
    if (t->nkinds == ERROR_TALLY_KINDS) {
        t->other++;
        return;
    }
    memcpy(t->kinds[t->nkinds].text, text, sizeof text);
    t->kinds[t->nkinds++].count = 1;
}

static int by_count_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

void error_tally_print(const struct error_tally *t, const char *prefix, FILE *out)
{
    struct {
        uint64_t count;
        int kind;
    } order[ERROR_TALLY_KINDS];
    for (int i = 0; i < t->nkinds; i++) {
        order[i].count = t->kinds[i].count;
        order[i].kind = i;
    }
    qsort(order, (size_t)t->nkinds, sizeof order[0], by_count_desc);
    for (int i = 0; i < t->nkinds; i++)
        fprintf(out, "%s: %llu x %s\n", prefix, (unsigned long long)order[i].count,
                t->kinds[order[i].kind].text);
    if (t->other)
        fprintf(out, "%s: %llu x other errors\n", prefix, (unsigned long long)t->other);
}
