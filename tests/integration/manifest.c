/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: see manifest.h. */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static char *remap(const char *p, const char *from, const char *to)
{
    size_t fl = strlen(from);
    char *out;
    if (strncmp(p, from, fl) == 0) {
        if (asprintf(&out, "%s%s", to, p + fl) < 0)
            return NULL;
        return out;
    }
    return strdup(p);
}

int manifest_load(struct manifest *m, const char *path, const char *recorded_root,
                  const char *data_root)
{
    memset(m, 0, sizeof(*m));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "#localDirs\t", 11) == 0) {
            char *save = NULL;
            for (char *tok = strtok_r(line + 11, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                m->local_dirs = realloc(m->local_dirs, (m->num_dirs + 1) * sizeof(char *));
                m->local_dirs[m->num_dirs++] = remap(tok, recorded_root, data_root);
            }
            continue;
        }
        if (line[0] == '#' || !line[0])
            continue;
        char *cols[6] = {0};
        int nc = 0;
        char *save = NULL;
        for (char *tok = strtok_r(line, "\t", &save); tok && nc < 6;
             tok = strtok_r(NULL, "\t", &save))
            cols[nc++] = tok;
        if (nc < 6)
            continue;
        m->e = realloc(m->e, (m->n + 1) * sizeof(*m->e));
        struct manifest_entry *e = &m->e[m->n++];
        e->id = strdup(cols[0]);
        e->size = strtoull(cols[1], NULL, 10);
        e->crc32 = (uint32_t)strtoul(cols[2], NULL, 16);
        e->file = remap(cols[4], recorded_root, data_root);
        e->offset = strtoull(cols[5], NULL, 10);
    }
    fclose(f);
    return m->n ? 0 : -1;
}

void manifest_free(struct manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].id);
        free(m->e[i].file);
    }
    for (size_t i = 0; i < m->num_dirs; i++)
        free(m->local_dirs[i]);
    free(m->local_dirs);
    free(m->e);
    memset(m, 0, sizeof(*m));
}

const struct manifest_entry *manifest_find(const struct manifest *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].id, id) == 0)
            return &m->e[i];
    return NULL;
}

bool manifest_resolve(const struct manifest *m, const char *id, const char **file, uint64_t *offset,
                      uint64_t *len)
{
    const struct manifest_entry *e = manifest_find(m, id);
    if (e) {
        *file = e->file;
        *offset = e->offset;
        *len = e->size;
        return true;
    }
    long s, mp, a, b;
    char tail;
    if (sscanf(id, "shuffle_%ld_%ld_%ld_%ld%c", &s, &mp, &a, &b, &tail) != 4 || a >= b)
        return false;
    uint64_t total = 0;
    for (long r = a; r < b; r++) {
        char sub[96];
        snprintf(sub, sizeof(sub), "shuffle_%ld_%ld_%ld", s, mp, r);
        const struct manifest_entry *x = manifest_find(m, sub);
        if (!x)
            return false;
        if (r == a) {
            *file = x->file;
            *offset = x->offset;
        }
        total += x->size;
    }
    *len = total;
    return true;
}

uint8_t *manifest_read(const struct manifest *m, const char *id, uint64_t *len)
{
    const char *file;
    uint64_t off;
    if (!manifest_resolve(m, id, &file, &off, len))
        return NULL;
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(*len + 1);
    if (fseek(f, (long)off, SEEK_SET) != 0 || fread(buf, 1, *len, f) != *len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}
