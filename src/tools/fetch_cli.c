/* SPDX-License-Identifier: Apache-2.0 */
/* shuffle-fetch's options: see fetch_cli.h. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "tools/fetch_cli.h"

/* The options: each sets one field of struct fetch_cli. */
enum opt_kind { OPT_FLAG, OPT_INT, OPT_U64, OPT_STR, OPT_ON /* an int flag set to 1 */ };
struct opt_spec {
    const char *name;
    char short_name; /* 0: long only */
    enum opt_kind kind;
    size_t offset; /* of the field in struct fetch_cli */
    const char *arg;
    const char *help; /* lines after the first are indented by usage() */
};
#define AT(field) offsetof(struct fetch_cli, field)
static const struct opt_spec opt_specs[] = {
    {"output", 'o', OPT_STR, AT(outdir), "DIR",
     "write each block to DIR/<block id> (default: stdout)"},
    {"verify", 'm', OPT_STR, AT(manifest), "MANIFEST",
     "check sizes and checksums against a manifest; with no\nblock ids, fetch every block it "
     "lists"},
    {"blocks-file", 'f', OPT_STR, AT(blocks_file), "FILE",
     "read block ids from FILE, one per line"},
    {"old-protocol", 0, OPT_FLAG, AT(o.use_old_fetch_protocol), NULL,
     "always use OpenBlocks (spark.shuffle.useOldFetchProtocol)"},
    {"batch", 0, OPT_FLAG, AT(batch), NULL, "merge runs of reduce ids of one map into batch ids"},
    {"retries", 0, OPT_INT, AT(o.max_retries), "N", "retries of I/O failures (default 3)"},
    {"retry-wait", 0, OPT_INT, AT(o.retry_wait_ms), "MS", "wait between retries (default 5000)"},
    {"timeout", 0, OPT_INT, AT(o.request_timeout_ms), "MS", "request timeout (default 120000)"},
    {"connect-timeout", 0, OPT_INT, AT(o.connect_timeout_ms), "MS",
     "connect timeout (default 120000)"},
    {"to-file-threshold", 0, OPT_U64, AT(o.fetch_to_file_bytes), "BYTES",
     "blocks larger than this (size from the manifest)\nare streamed to a file (default: never)"},
    {"tmp-dir", 0, OPT_STR, AT(o.tmp_dir), "DIR", "where streamed blocks are written first"},
    {"max-blocks", 0, OPT_INT, AT(max_blocks), "N", "blocks per request (default 512)"},
    {"parallel", 0, OPT_INT, AT(parallel), "N", "requests in flight (default 4)"},
    {"connections", 0, OPT_INT, AT(o.connections_per_peer), "N",
     "connections to the server (default 1)"},
    {"auth-secret-file", 0, OPT_STR, AT(secret_file), "FILE",
     "authenticate (spark.authenticate, SASL DIGEST-MD5)\nas APP_ID with the secret in FILE"},
    {"crypto", 0, OPT_STR, AT(crypto), "MODE",
     "spark.network.crypto: AES handshake pbkdf2 (Spark <= 3.1),\nx25519 (3.2+) or x25519-v2 "
     "(authEngineVersion 2),\nthen AES-CTR (needs --auth-secret-file)"},
    {"crypto-cipher", 0, OPT_STR, AT(crypto_cipher), "CIPHER",
     "the channel after --crypto x25519*: ctr (default)\nor gcm (spark.network.crypto.cipher="
     "AES/GCM/NoPadding,\nSpark 4.0+)"},
    {"sasl-encrypt", 0, OPT_FLAG, AT(sasl_encrypt), NULL,
     "SASL with QOP auth-conf: every frame encrypted\n(needs --auth-secret-file)"},
    {"auth-timeout", 0, OPT_INT, AT(o.auth_timeout_ms), "MS",
     "per handshake round trip (default 30000)"},
    {"tls", 0, OPT_ON, AT(o.tls), NULL,
     "speak TLS (spark.ssl.rpc), checking the server's\ncertificate and host name"},
    {"tls-ca", 0, OPT_STR, AT(o.tls_ca_file), "FILE",
     "trust the CAs in FILE (PEM; default: the system's)"},
    {"tls-cert", 0, OPT_STR, AT(o.tls_cert_file), "FILE",
     "client certificate (PEM) for servers requiring one"},
    {"tls-key", 0, OPT_STR, AT(o.tls_key_file), "FILE",
     "its key (PEM; default: in --tls-cert's file)"},
    {"tls-insecure", 0, OPT_ON, AT(o.tls_insecure), NULL,
     "check neither certificate nor name (tests only)"},
    {"register", 0, OPT_FLAG, AT(reg), NULL,
     "register the executor first, with the manifest's\n#localDirs and #subDirsPerLocalDir"},
    {"verbose", 'v', OPT_FLAG, AT(verbose), NULL, "one line per block"},
    {"quiet", 'q', OPT_FLAG, AT(quiet), NULL, "errors only"},
};
#define NUM_OPT_SPECS (sizeof(opt_specs) / sizeof(opt_specs[0]))
#define OPT_LONG_ONLY 256 /* + index: getopt's value for an option without a short name */

static void usage(FILE *f)
{
    fprintf(f, "usage: shuffle-fetch [options] HOST:PORT APP_ID EXEC_ID [BLOCK_ID...]\n"
               "       shuffle-fetch --help | --version\n");
    for (size_t i = 0; i < NUM_OPT_SPECS; i++) {
        const struct opt_spec *sp = &opt_specs[i];
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

/* Applies one option's argument to its field of cli; 0, or -1 after saying which option's
 * value is wrong. Numbers are whole, non-negative and in range. */
static int set_option(struct fetch_cli *cli, const struct opt_spec *sp, const char *arg)
{
    char *field = (char *)cli + sp->offset, *end = NULL;
    unsigned long long v = 0;
    if (sp->kind == OPT_INT || sp->kind == OPT_U64) {
        errno = 0;
        v = strtoull(arg, &end, 10);
        if (!*arg || *end || arg[strspn(arg, " ")] == '-' || errno ||
            (sp->kind == OPT_INT && v > INT_MAX)) {
            fprintf(stderr, "shuffle-fetch: --%s: '%s' is not a whole number from 0 to %s\n",
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

int fetch_cli_parse(int argc, char **argv, struct fetch_cli *cli)
{
    struct option longopts[NUM_OPT_SPECS + 3] = {{0}};
    char shortopts[2 * NUM_OPT_SPECS + 2] = "h", *so = shortopts + 1;
    for (size_t i = 0; i < NUM_OPT_SPECS; i++) {
        const struct opt_spec *sp = &opt_specs[i];
        int has_arg = sp->kind == OPT_FLAG || sp->kind == OPT_ON ? no_argument : required_argument;
        longopts[i] = (struct option){sp->name, has_arg, NULL,
                                      sp->short_name ? sp->short_name : OPT_LONG_ONLY + (int)i};
        if (sp->short_name) {
            *so++ = sp->short_name;
            if (has_arg)
                *so++ = ':';
        }
    }
    longopts[NUM_OPT_SPECS] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[NUM_OPT_SPECS + 1] = (struct option){"version", no_argument, NULL, 'V'};
    int ch;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct opt_spec *sp = NULL;
        for (size_t i = 0; i < NUM_OPT_SPECS && !sp; i++)
            if (longopts[i].val == ch)
                sp = &opt_specs[i];
        if (ch == 'h') {
            usage(stdout);
            return -1;
        }
        if (ch == 'V') {
            print_version("shuffle-fetch");
            return -1;
        }
        if (!sp) { /* getopt has named the unknown option or the missing argument */
            usage(stderr);
            return 2;
        }
        if (set_option(cli, sp, optarg) != 0)
            return 2;
    }
    if (cli->max_blocks < 1 || cli->parallel < 1) {
        fprintf(stderr, "shuffle-fetch: --%s must be at least 1\n",
                cli->max_blocks < 1 ? "max-blocks" : "parallel");
        return 2;
    }
    if (argc - optind < 3) {
        fprintf(stderr, "shuffle-fetch: HOST:PORT, APP_ID and EXEC_ID are needed\n");
        usage(stderr);
        return 2;
    }
    return 0;
}
