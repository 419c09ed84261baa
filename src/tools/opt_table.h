/* SPDX-License-Identifier: Apache-2.0 */
/* The client tools' command lines as tables: each option (name, short name, kind, the
 * field it sets, argument, help) is one row, from which getopt's tables, the usage text and
 * the value checks are made. */
#ifndef SHUFFLE_TOOLS_OPT_TABLE_H
#define SHUFFLE_TOOLS_OPT_TABLE_H

#include <stddef.h>
#include <stdio.h>

enum opt_kind { OPT_FLAG, OPT_INT, OPT_U64, OPT_STR, OPT_ON /* an int flag set to 1 */ };
struct opt_spec {
    const char *name;
    char short_name; /* 0: long only */
    enum opt_kind kind;
    size_t offset; /* of the field (bool, int, uint64_t, const char *; OPT_ON: int) */
    const char *arg;
    const char *help; /* lines after the first are indented by the usage text */
};

/* The rows every client tool has, for a struct whose `o` is its shuffle_client_options. */
/* clang-format off */
#define OPT_CLIENT_ROWS(type)                                                                      \
    {"retries", 0, OPT_INT, offsetof(type, o.max_retries), "N",                                    \
     "retries of I/O failures (default 3)"},                                                       \
    {"retry-wait", 0, OPT_INT, offsetof(type, o.retry_wait_ms), "MS",                              \
     "wait between retries (default 5000)"},                                                       \
    {"timeout", 0, OPT_INT, offsetof(type, o.request_timeout_ms), "MS",                            \
     "request timeout (default 120000)"},                                                          \
    {"connect-timeout", 0, OPT_INT, offsetof(type, o.connect_timeout_ms), "MS",                    \
     "connect timeout (default 120000)"}
/* clang-format on */

struct opt_table {
    const char *tool;     /* "shuffle-fetch" */
    const char *synopsis; /* the usage lines before the options */
    const struct opt_spec *specs;
    size_t count;
};

void opt_table_usage(const struct opt_table *t, FILE *f);
/* Sets the fields of dst from argv. 0 to go on (operands from optind), -1: --help or
 * --version was answered (exit 0), 2: a bad option, named on stderr. */
int opt_table_parse(const struct opt_table *t, int argc, char **argv, void *dst);

#endif
