/* SPDX-License-Identifier: Apache-2.0 */
/* Dataset manifest and checksum verification for the client tools: see
 * manifest_check.h. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/manifest_check.h"

/* ---- manifest ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

int mlist_load(struct mlist *m, const char *path, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open manifest %s: %s", path, strerror(errno));
        return -1;
    }
    char line[8192];
    size_t cap = 0;
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        char *save = NULL;
        if (!strncmp(line, "#localDirs\t", 11)) {
            for (char *t = strtok_r(line + 11, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                m->local_dirs = realloc(m->local_dirs, (m->num_dirs + 1) * sizeof(char *));
                m->local_dirs[m->num_dirs++] = strdup(t);
            }
            continue;
        }
        if (!strncmp(line, "#subDirsPerLocalDir\t", 20)) {
            m->sub_dirs = atoi(line + 20);
            continue;
        }
        if (line[0] == '#' || !line[0])
            continue;
        char *cols[8];
        int nc = 0;
        for (char *t = strtok_r(line, "\t", &save); t && nc < 8; t = strtok_r(NULL, "\t", &save))
            cols[nc++] = t;
        if (nc < 2) {
            snprintf(err, errlen, "%s:%d: expected 'blockId<TAB>size[<TAB>crc32...]'", path,
                     lineno);
            fclose(f);
            mlist_free(m);
            return -1;
        }
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            m->b = realloc(m->b, cap * sizeof(*m->b));
        }
        struct mblock *b = &m->b[m->n++];
        memset(b, 0, sizeof(*b));
        b->id = strdup(cols[0]);
        b->size = strtoull(cols[1], NULL, 10);
        for (int i = 2; i < nc; i++) {
            uint8_t crc[4];
            if (!b->has_crc && parse_hex(cols[i], crc, 4)) {
                b->has_crc = true;
                b->crc32 = (uint32_t)crc[0] << 24 | (uint32_t)crc[1] << 16 | (uint32_t)crc[2] << 8 |
                           crc[3];
            } else if (!b->has_sha && parse_hex(cols[i], b->sha256, 32)) {
                b->has_sha = true;
            }
        }
    }
    fclose(f);
    m->cap = 16;
    while (m->cap < 2 * m->n)
        m->cap *= 2;
    m->slots = malloc(m->cap * sizeof(size_t));
    for (size_t i = 0; i < m->cap; i++)
        m->slots[i] = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++) {
        size_t k = hash_str(m->b[i].id) & (m->cap - 1);
        while (m->slots[k] != SIZE_MAX)
            k = (k + 1) & (m->cap - 1);
        m->slots[k] = i;
    }
    return 0;
}

void mlist_free(struct mlist *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->b[i].id);
    for (size_t i = 0; i < m->num_dirs; i++)
        free(m->local_dirs[i]);
    free(m->local_dirs);
    free(m->b);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

const struct mblock *mlist_find(const struct mlist *m, const char *id)
{
    if (!m->cap)
        return NULL;
    for (size_t k = hash_str(id) & (m->cap - 1); m->slots[k] != SIZE_MAX;
         k = (k + 1) & (m->cap - 1))
        if (!strcmp(m->b[m->slots[k]].id, id))
            return &m->b[m->slots[k]];
    return NULL;
}

/* Splits a batch id into the manifest entries it covers. */
static size_t expand(const struct mlist *m, const char *id, const struct mblock **out, size_t max)
{
    const struct mblock *b = mlist_find(m, id);
    if (b) {
        out[0] = b;
        return 1;
    }
    long long s, mp, a, e;
    char tail;
    if (sscanf(id, "shuffle_%lld_%lld_%lld_%lld%c", &s, &mp, &a, &e, &tail) != 4 || a >= e ||
        e - a > (long long)max)
        return 0;
    size_t n = 0;
    for (long long r = a; r < e; r++) {
        char sub[128];
        snprintf(sub, sizeof(sub), "shuffle_%lld_%lld_%lld", s, mp, r);
        if (!(out[n++] = mlist_find(m, sub)))
            return 0;
    }
    return n;
}

bool mlist_size(const struct mlist *m, const char *id, uint64_t *size)
{
    const struct mblock *parts[4096];
    size_t n = expand(m, id, parts, 4096);
    *size = 0;
    for (size_t i = 0; i < n; i++)
        *size += parts[i]->size;
    return n > 0;
}

/* A digest context is live from a part's begin to its end: none after the last part, and
 * verifier_finish releases one left by bytes that stopped short. */
static void part_begin(struct verifier *v)
{
    v->crc = 0;
    v->left = 0;
    if (v->cur < v->nparts) {
        sha256_init(&v->sha);
        v->left = v->parts[v->cur]->size;
    }
}

static void part_end(struct verifier *v)
{
    const struct mblock *b = v->parts[v->cur];
    uint8_t sha[32];
    sha256_final(&v->sha, sha);
    if (!v->bad && b->has_crc && v->crc != b->crc32) {
        v->bad = true;
        snprintf(v->why, sizeof(v->why), "%s: crc32 %08x, manifest says %08x", b->id, v->crc,
                 b->crc32);
    } else if (!v->bad && b->has_sha && memcmp(sha, b->sha256, 32) != 0) {
        v->bad = true;
        snprintf(v->why, sizeof(v->why), "%s: sha256 differs from the manifest", b->id);
    }
    v->cur++;
    part_begin(v);
}

bool verifier_start(struct verifier *v, const struct mlist *m, const char *id)
{
    memset(v, 0, sizeof(*v));
    v->m = m;
    v->nparts = expand(m, id, v->parts, sizeof(v->parts) / sizeof(v->parts[0]));
    if (!v->nparts) {
        v->bad = true;
        snprintf(v->why, sizeof(v->why), "%s is not in the manifest", id);
        return false;
    }
    part_begin(v);
    while (v->cur < v->nparts && v->left == 0)
        part_end(v);
    return true;
}

void verifier_feed(struct verifier *v, const uint8_t *data, size_t len)
{
    while (len && !v->bad) {
        if (v->cur >= v->nparts) {
            v->bad = true;
            snprintf(v->why, sizeof(v->why), "longer than the manifest says");
            return;
        }
        size_t take = v->left < len ? (size_t)v->left : len;
        v->crc = crc32_update(v->crc, data, take);
        sha256_update(&v->sha, data, take);
        v->left -= take;
        data += take;
        len -= take;
        while (v->cur < v->nparts && v->left == 0)
            part_end(v);
    }
}

bool verifier_finish(struct verifier *v)
{
    sha256_discard(&v->sha);
    if (!v->bad && v->cur < v->nparts) {
        v->bad = true;
        snprintf(v->why, sizeof(v->why), "shorter than the manifest says (%s incomplete)",
                 v->parts[v->cur]->id);
    }
    return !v->bad;
}

bool verify_bytes(const struct mlist *m, const char *id, const uint8_t *data, size_t len, char *why,
                  size_t whylen)
{
    struct verifier *v = malloc(sizeof(*v));
    bool ok = v && verifier_start(v, m, id);
    if (ok) {
        verifier_feed(v, data, len);
        ok = verifier_finish(v);
    }
    snprintf(why, whylen, "%s", v ? v->why : "out of memory");
    free(v);
    return ok;
}

bool verify_file(const struct mlist *m, const char *id, const char *path, char *why, size_t whylen)
{
    struct verifier *v = malloc(sizeof(*v));
    bool ok = v && verifier_start(v, m, id);
    FILE *f = ok ? fopen(path, "rb") : NULL;
    if (ok && !f) {
        int e = errno;
        verifier_finish(v); /* releases the digest */
        snprintf(v->why, sizeof(v->why), "cannot read %s: %s", path, strerror(e));
        ok = false;
    }
    if (ok) {
        static __thread uint8_t buf[65536];
        size_t r;
        while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
            verifier_feed(v, buf, r);
        ok = verifier_finish(v);
    }
    if (f)
        fclose(f);
    snprintf(why, whylen, "%s", v ? v->why : "out of memory");
    free(v);
    return ok;
}

void mlist_executor_info(const struct mlist *m, const char *app, const char *exec,
                         struct shuffle_executor_info *info)
{
    shuffle_executor_info_init(info);
    info->app_id = app;
    info->exec_id = exec;
    info->local_dirs = (const char *const *)m->local_dirs;
    info->num_dirs = m->num_dirs;
    info->sub_dirs_per_local_dir = m->sub_dirs ? m->sub_dirs : 64;
    info->shuffle_manager = "org.apache.spark.shuffle.sort.SortShuffleManager";
}
