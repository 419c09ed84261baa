/* SPDX-License-Identifier: Apache-2.0 */
/* A small parser of the Prometheus text exposition format for tests (header-only):
 * checks the structure (every sample's family has one # HELP and one # TYPE before
 * its samples; values are numbers) and looks samples up by "name{labels}". */
#ifndef SHUFFLED_TEST_PROM_PARSE_H
#define SHUFFLED_TEST_PROM_PARSE_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Family of a sample name: histogram samples belong to the name without the suffix. */
static inline void prom_family(const char *sample, size_t n, char *fam, size_t famlen)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    snprintf(fam, famlen, "%.*s", (int)n, sample);
    for (size_t i = 0; i < 3; i++) {
        size_t fl = strlen(fam), sl = strlen(suffixes[i]);
        if (fl > sl && strcmp(fam + fl - sl, suffixes[i]) == 0) {
            fam[fl - sl] = '\0';
            return;
        }
    }
}

/* Validates the whole text; fails the current check test with the offending line. */
#define PROM_MAX_FAMILIES 512
static inline void prom_check_structure(const char *text)
{
    char typed[PROM_MAX_FAMILIES][128];
    int ntyped = 0;
    char helped[PROM_MAX_FAMILIES][128];
    int nhelped = 0;
    const char *line = text;
    ck_assert_msg(*text, "empty exposition");
    while (*line) {
        const char *eol = strchr(line, '\n');
        ck_assert_msg(eol != NULL, "last line not terminated: %s", line);
        size_t len = (size_t)(eol - line);
        char buf[512];
        ck_assert_uint_lt(len, sizeof(buf));
        memcpy(buf, line, len);
        buf[len] = '\0';
        char name[128], kind[32];
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            ck_assert_int_eq(sscanf(buf + 7, "%127s %31s", name, kind), 2);
            ck_assert_msg(strcmp(kind, "counter") == 0 || strcmp(kind, "gauge") == 0 ||
                              strcmp(kind, "histogram") == 0,
                          "bad type: %s", buf);
            for (int i = 0; i < ntyped; i++)
                ck_assert_msg(strcmp(typed[i], name) != 0, "TYPE twice: %s", buf);
            ck_assert_int_lt(ntyped, PROM_MAX_FAMILIES);
            strcpy(typed[ntyped++], name);
        } else if (strncmp(buf, "# HELP ", 7) == 0) {
            ck_assert_int_eq(sscanf(buf + 7, "%127s", name), 1);
            ck_assert_msg(strlen(buf) > 8 + strlen(name), "empty HELP: %s", buf);
            ck_assert_int_lt(nhelped, PROM_MAX_FAMILIES);
            strcpy(helped[nhelped++], name);
        } else {
            ck_assert_msg(buf[0] != '#' && buf[0] != '\0', "unexpected line: '%s'", buf);
            size_t n = strcspn(buf, "{ ");
            char fam[128];
            prom_family(buf, n, fam, sizeof(fam));
            bool t = false, h = false;
            for (int i = 0; i < ntyped; i++)
                t = t || strcmp(typed[i], fam) == 0;
            for (int i = 0; i < nhelped; i++)
                h = h || strcmp(helped[i], fam) == 0;
            ck_assert_msg(t && h, "sample without HELP/TYPE: %s", buf);
            const char *sp = strrchr(buf, ' ');
            ck_assert_msg(sp != NULL, "no value: %s", buf);
            char *end;
            strtod(sp + 1, &end);
            ck_assert_msg(*end == '\0' && end != sp + 1, "bad value: %s", buf);
        }
        line = eol + 1;
    }
}

/* Whether the sample "key" (exactly as written, e.g. x_bucket{le="+Inf"}) exists; its value
 * goes to *out. */
static inline bool prom_find(const char *text, const char *key, double *out)
{
    size_t klen = strlen(key);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            break;
        if ((size_t)(eol - line) > klen && strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            *out = strtod(line + klen + 1, NULL);
            return true;
        }
        line = eol + 1;
    }
    return false;
}

static inline double prom_value(const char *text, const char *key)
{
    double v = 0;
    ck_assert_msg(prom_find(text, key, &v), "metric %s not in exposition", key);
    return v;
}

#endif
