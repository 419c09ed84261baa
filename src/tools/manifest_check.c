/* Dataset manifest and checksum verification for the client tools: see
 * manifest_check.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/manifest_check.h"

/* ---- checksums ---- */

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* racy but idempotent: every thread computes the same table */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5],
             g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->total = 0;
    s->have = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->total += len;
    while (len) {
        size_t take = 64 - s->have < len ? 64 - s->have : len;
        memcpy(s->buf + s->have, p, take);
        s->have += take;
        p += take;
        len -= take;
        if (s->have == 64) {
            sha256_block(s, s->buf);
            s->have = 0;
        }
    }
}

void sha256_final(struct sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->total * 8;
    uint8_t pad = 0x80;
    sha256_update(s, &pad, 1);
    uint8_t zero = 0;
    while (s->have != 56)
        sha256_update(s, &zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

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

static void part_begin(struct verifier *v)
{
    v->crc = 0;
    sha256_init(&v->sha);
    v->left = v->cur < v->nparts ? v->parts[v->cur]->size : 0;
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
        snprintf(v->why, sizeof(v->why), "cannot read %s: %s", path, strerror(errno));
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
