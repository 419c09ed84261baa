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

/* The security rows (shuffle-fetch, shuffle-push), for a struct whose `sec` is its
 * struct secure_opts (tools/secure_opts.h) and whose `o` its shuffle_client_options. */
/* clang-format off */
#define OPT_SECURE_ROWS(type)                                                                      \
    {"auth-secret-file", 0, OPT_STR, offsetof(type, sec.secret_file), "FILE",                      \
     "authenticate (spark.authenticate, SASL DIGEST-MD5)\nas APP_ID with the secret in FILE"},     \
    {"crypto", 0, OPT_STR, offsetof(type, sec.crypto), "MODE",                                     \
     "spark.network.crypto: AES handshake pbkdf2 (Spark <= 3.1),\nx25519 (3.2+) or x25519-v2 "     \
     "(authEngineVersion 2),\nthen AES-CTR (needs --auth-secret-file)"},                           \
    {"crypto-cipher", 0, OPT_STR, offsetof(type, sec.crypto_cipher), "CIPHER",                     \
     "the channel after --crypto x25519*: ctr (default)\nor gcm (spark.network.crypto.cipher="     \
     "AES/GCM/NoPadding,\nSpark 4.0+)"},                                                           \
    {"sasl-encrypt", 0, OPT_FLAG, offsetof(type, sec.sasl_encrypt), NULL,                          \
     "SASL with QOP auth-conf: every frame encrypted\n(needs --auth-secret-file)"},                \
    {"auth-timeout", 0, OPT_INT, offsetof(type, o.auth_timeout_ms), "MS",                          \
     "per handshake round trip (default 30000)"},                                                  \
    {"tls", 0, OPT_ON, offsetof(type, o.tls), NULL,                                                \
     "speak TLS (spark.ssl.rpc), checking the server's\ncertificate and host name"},               \
    {"tls-ca", 0, OPT_STR, offsetof(type, o.tls_ca_file), "FILE",                                  \
     "trust the CAs in FILE (PEM; default: the system's)"},                                        \
    {"tls-cert", 0, OPT_STR, offsetof(type, o.tls_cert_file), "FILE",                              \
     "client certificate (PEM) for servers requiring one"},                                        \
    {"tls-key", 0, OPT_STR, offsetof(type, o.tls_key_file), "FILE",                                \
     "its key (PEM; default: in --tls-cert's file)"},                                              \
    {"tls-insecure", 0, OPT_ON, offsetof(type, o.tls_insecure), NULL,                              \
     "check neither certificate nor name (tests only)"}
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
