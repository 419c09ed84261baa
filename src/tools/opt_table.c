/* SPDX-License-Identifier: Apache-2.0 */
/* Command lines from option tables: see opt_table.h. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "tools/opt_table.h"

#define OPT_LONG_ONLY 256 /* + index: getopt's value for an option without a short name */
#define MAX_SPECS 64

void opt_table_usage(const struct opt_table *t, FILE *f)
{
    fputs(t->synopsis, f);
    for (size_t i = 0; i < t->count; i++) {
        const struct opt_spec *sp = &t->specs[i];
        char left[64];
        snprintf(left, sizeof(left), "%c%c%c --%s%s%s", sp->short_name ? '-' : ' ',
                 sp->short_name ? sp->short_name : ' ', sp->short_name ? ',' : ' ', sp->name,
                 sp->arg ? " " : "", sp->arg ? sp->arg : "");
        fprintf(f, "  %-26s%s", left, strlen(left) >= 26 ? "  " : "");
        for (const char *h = sp->help;; h++) {
            size_t n = strcspn(h, "\n");
            fprintf(f, "%.*s\n", (int)n, h);
            if (!h[n])
                break;
            h += n;
            fprintf(f, "%28s", "");
        }
    }
}

/* Applies one option's argument to its field; 0, or -1 after saying which option's value
 * is wrong. Numbers are whole, non-negative and in range. */
static int set_option(const struct opt_table *t, void *dst, const struct opt_spec *sp,
                      const char *arg)
{
    char *field = (char *)dst + sp->offset, *end = NULL;
    unsigned long long v = 0;
    if (sp->kind == OPT_INT || sp->kind == OPT_U64) {
        errno = 0;
        v = strtoull(arg, &end, 10);
        if (!*arg || *end || arg[strspn(arg, " ")] == '-' || errno ||
            (sp->kind == OPT_INT && v > INT_MAX)) {
            fprintf(stderr, "%s: --%s: '%s' is not a whole number from 0 to %s\n", t->tool,
                    sp->name, arg, sp->kind == OPT_INT ? "2147483647" : "2^64-1");
            return -1;
        }
    }
    switch (sp->kind) {
    case OPT_FLAG:
        *(bool *)field = true;
        break;
    case OPT_ON:
        *(int *)field = 1;
        break;
    case OPT_INT:
        *(int *)field = (int)v;
        break;
    case OPT_U64:
        *(uint64_t *)field = v;
        break;
    case OPT_STR:
        *(const char **)field = arg;
        break;
    }
    return 0;
}

int opt_table_parse(const struct opt_table *t, int argc, char **argv, void *dst)
{
    struct option longopts[MAX_SPECS + 3] = {{0}};
    char shortopts[2 * MAX_SPECS + 2] = "h", *so = shortopts + 1;
    size_t count = t->count < MAX_SPECS ? t->count : MAX_SPECS;
    for (size_t i = 0; i < count; i++) {
        const struct opt_spec *sp = &t->specs[i];
        int has_arg = sp->kind == OPT_FLAG || sp->kind == OPT_ON ? no_argument : required_argument;
        longopts[i] = (struct option){sp->name, has_arg, NULL,
                                      sp->short_name ? sp->short_name : OPT_LONG_ONLY + (int)i};
        if (sp->short_name) {
            *so++ = sp->short_name;
            if (has_arg)
                *so++ = ':';
        }
    }
    longopts[count] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[count + 1] = (struct option){"version", no_argument, NULL, 'V'};
    int ch;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct opt_spec *sp = NULL;
        for (size_t i = 0; i < count && !sp; i++)
            if (longopts[i].val == ch)
                sp = &t->specs[i];
        if (ch == 'h') {
            opt_table_usage(t, stdout);
            return -1;
        }
        if (ch == 'V') {
            print_version(t->tool);
            return -1;
        }
        if (!sp) { /* getopt has named the unknown option or the missing argument */
            opt_table_usage(t, stderr);
            return 2;
        }
        if (set_option(t, dst, sp, optarg) != 0)
            return 2;
    }
    return 0;
}
