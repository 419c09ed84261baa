/* SPDX-License-Identifier: Apache-2.0 */
/* JSON config -> struct shuffled_config. The main file and then each drop-in are applied over
 * the defaults; a key's last value wins, whole (an array replaces the array). jansson gives
 * positions only for syntax errors, so errors about a key's value are located by finding the
 * key's text in the file that set it. Every error in every file is reported (one line each),
 * as `shuffled -t` promises. */
#include <config.h>

#include "server/ops/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/auth_secret.h"
#include "server/ops/config_files.h"
#include "server/net/tls_protocols.h"
#include "common/log.h"

enum key_type { K_INT, K_U32, K_U64, K_BOOL, K_STRING, K_STRINGS, K_CHOICE };

struct key_desc {
    const char *name;
    enum key_type type;
    size_t offset;       /* into struct shuffled_config */
    size_t count_offset; /* K_STRINGS: where the count goes */
    uint64_t min, max;   /* numeric range */
};

/* K_CHOICE keys: the allowed strings, NULL-ended; the int stored is the index. */
static const char *const sasl_encryption_choices[] = {"off", "allowed", "required", NULL};
static const char *const crypto_cipher_choices[] = {"auto", "ctr", "gcm", NULL};
static const char *const *choices_of(const char *key)
{
    return strcmp(key, "sasl_encryption") == 0 ? sasl_encryption_choices : crypto_cipher_choices;
}

#define OFF(f) offsetof(struct shuffled_config, f)
static const struct key_desc keys[] = {
    {"listen", K_STRINGS, OFF(listen), OFF(listen_count), 0, 0},
    {"port", K_INT, OFF(port), 0, 0, 65535},
    {"listen_backlog", K_INT, OFF(listen_backlog), 0, 1, 65535},
    {"io_threads", K_INT, OFF(io_threads), 0, 0, 1024},
    {"max_connections", K_U32, OFF(max_connections), 0, 1, 10000000},
    {"max_frame_bytes", K_U64, OFF(max_frame_bytes), 0, 64, 2147483647ULL},
    {"max_chunks_in_flight", K_U64, OFF(max_chunks_in_flight), 0, 0, UINT64_MAX >> 1},
    {"max_chunks_per_connection", K_U32, OFF(max_chunks_per_connection), 0, 1, 1000000},
    {"write_high_water_bytes", K_U64, OFF(write_high_water), 0, 1, UINT64_MAX >> 1},
    {"write_low_water_bytes", K_U64, OFF(write_low_water), 0, 0, UINT64_MAX >> 1},
    {"idle_timeout_ms", K_U64, OFF(idle_timeout_ms), 0, 0, 86400000ULL * 365},
    {"frame_timeout_ms", K_U64, OFF(frame_timeout_ms), 0, 0, 86400000ULL},
    {"handshake_timeout_ms", K_U64, OFF(handshake_timeout_ms), 0, 0, 86400000ULL},
    {"max_stream_bytes_per_connection", K_U64, OFF(max_stream_bytes_per_connection), 0, 4096,
     UINT64_MAX >> 1},
    {"max_stream_bytes", K_U64, OFF(max_stream_bytes), 0, 4096, UINT64_MAX >> 1},
    {"max_input_bytes", K_U64, OFF(max_input_bytes), 0, 65536, UINT64_MAX >> 1},
    {"max_output_bytes", K_U64, OFF(max_output_bytes), 0, 65536, UINT64_MAX >> 1},
    {"shutdown_grace_ms", K_U64, OFF(shutdown_grace_ms), 0, 0, 3600000ULL},
    {"log_level", K_STRING, OFF(log_level), 0, 0, 0},
    {"index_cache_bytes", K_U64, OFF(index_cache_bytes), 0, 0, UINT64_MAX >> 1},
    {"fetch_rdd_enabled", K_BOOL, OFF(fetch_rdd_enabled), 0, 0, 0},
    {"allowed_local_dir_roots", K_STRINGS, OFF(allowed_local_dir_roots),
     OFF(allowed_local_dir_roots_count), 0, 0},
    {"state_dir", K_STRING, OFF(state_dir), 0, 0, 0},
    {"state_sync", K_BOOL, OFF(state_sync), 0, 0, 0},
    {"blocking_threads", K_INT, OFF(blocking_threads), 0, 1, 1024},
    {"max_executors_per_app", K_U64, OFF(max_executors_per_app), 0, 1, UINT64_MAX >> 1},
    {"max_executors", K_U64, OFF(max_executors), 0, 1, UINT64_MAX >> 1},
    {"admin_listen", K_STRING, OFF(admin_listen), 0, 0, 0},
    {"admin_port", K_INT, OFF(admin_port), 0, 0, 65535},
    {"admin_token_file", K_STRING, OFF(admin_token_file), 0, 0, 0},
    {"auth_enabled", K_BOOL, OFF(auth_enabled), 0, 0, 0},
    {"auth_sasl_encryption", K_BOOL, OFF(auth_sasl_encryption), 0, 0, 0},
    {"crypto_enabled", K_BOOL, OFF(crypto_enabled), 0, 0, 0},
    {"crypto_sasl_fallback", K_BOOL, OFF(crypto_sasl_fallback), 0, 0, 0},
    {"auth_secret_file", K_STRING, OFF(auth_secret_file), 0, 0, 0},
    {"auth_app_secrets_dir", K_STRING, OFF(auth_app_secrets_dir), 0, 0, 0},
    {"app_ttl_ms", K_U64, OFF(app_ttl_ms), 0, 0, 86400000ULL * 365},
    {"app_ttl_cleanup_local_dirs", K_BOOL, OFF(app_ttl_cleanup_local_dirs), 0, 0, 0},
    {"sasl_encryption", K_CHOICE, OFF(sasl_encryption), 0, 0, 0},
    {"crypto_cipher", K_CHOICE, OFF(crypto_cipher), 0, 0, 0},
    {"push_enabled", K_BOOL, OFF(push_enabled), 0, 0, 0},
    {"push_min_chunk_bytes", K_U64, OFF(push_min_chunk_bytes), 0, 1, UINT64_MAX >> 1},
    {"push_max_deferred_bytes", K_U64, OFF(push_max_deferred_bytes), 0, 0, UINT64_MAX >> 1},
    {"push_max_open_files", K_U64, OFF(push_max_open_files), 0, 1, 1000000},
    {"push_max_partitions", K_U64, OFF(push_max_partitions), 0, 0, UINT64_MAX >> 1},
    {"push_max_app_merge_bytes", K_U64, OFF(push_max_app_merge_bytes), 0, 0, UINT64_MAX >> 1},
    {"tls_enabled", K_BOOL, OFF(tls_enabled), 0, 0, 0},
    {"tls_port", K_INT, OFF(tls_port), 0, 0, 65535},
    {"tls_cert_file", K_STRING, OFF(tls_cert_file), 0, 0, 0},
    {"tls_key_file", K_STRING, OFF(tls_key_file), 0, 0, 0},
    {"tls_key_password_file", K_STRING, OFF(tls_key_password_file), 0, 0, 0},
    {"tls_ca_file", K_STRING, OFF(tls_ca_file), 0, 0, 0},
    {"tls_require_client_cert", K_BOOL, OFF(tls_require_client_cert), 0, 0, 0},
    {"tls_protocols", K_STRING, OFF(tls_protocols), 0, 0, 0},
    {"tls_ciphers", K_STRING, OFF(tls_ciphers), 0, 0, 0},
    {"tls_max_handshakes_in_progress", K_U32, OFF(tls_max_handshakes_in_progress), 0, 0, 10000000},
    {"tls_max_handshakes_per_second", K_U32, OFF(tls_max_handshakes_per_second), 0, 0, 10000000},
};
#undef OFF

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void config_free(struct shuffled_config *cfg)
{
    free_strings(cfg->listen, cfg->listen_count);
    free_strings(cfg->allowed_local_dir_roots, cfg->allowed_local_dir_roots_count);
    free(cfg->log_level);
    free(cfg->state_dir);
    free(cfg->admin_listen);
    free(cfg->admin_token_file);
    free(cfg->auth_secret_file);
    free(cfg->auth_app_secrets_dir);
    free(cfg->tls_cert_file);
    free(cfg->tls_key_file);
    free(cfg->tls_key_password_file);
    free(cfg->tls_ca_file);
    free(cfg->tls_protocols);
    free(cfg->tls_ciphers);
    memset(cfg, 0, sizeof *cfg);
}

int config_defaults(struct shuffled_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = calloc(1, sizeof(char *));
    if (cfg->listen)
        cfg->listen[0] = strdup("127.0.0.1");
    cfg->listen_count = 1;
    cfg->port = 7337;
    cfg->listen_backlog = 4096; /* as shuffled.socket's Backlog= */
    cfg->io_threads = 0;
    cfg->max_connections = 16384;
    cfg->max_frame_bytes = 16u << 20;
    cfg->max_chunks_in_flight = 0;
    cfg->max_chunks_per_connection = 256;
    cfg->write_high_water = 8u << 20;
    cfg->write_low_water = 2u << 20;
    cfg->idle_timeout_ms = 120000;
    cfg->frame_timeout_ms = 30000;
    cfg->crypto_sasl_fallback = true;
    cfg->handshake_timeout_ms = 30000;
    cfg->tls_max_handshakes_in_progress = 1024;
    cfg->max_stream_bytes_per_connection = 16u << 20;
    cfg->max_stream_bytes = 64u << 20;
    cfg->max_input_bytes = 64u << 20;
    cfg->max_output_bytes = 64u << 20;
    cfg->shutdown_grace_ms = 10000;
    cfg->log_level = strdup("info");
    cfg->index_cache_bytes = 104857600;
    cfg->fetch_rdd_enabled = false;
    cfg->state_dir = strdup(SHUFFLED_STATE_DIR);
    cfg->blocking_threads = 8;
    cfg->max_executors_per_app = 10000;
    cfg->max_executors = 1000000;
    cfg->admin_listen = strdup("127.0.0.1");
    cfg->admin_port = 7338;
    cfg->admin_token_file = strdup("");
    cfg->auth_secret_file = strdup("");
    cfg->auth_app_secrets_dir = strdup("");
    cfg->sasl_encryption = SASL_ENCRYPTION_ALLOWED;
    cfg->crypto_cipher = CRYPTO_CIPHER_AUTO;
    cfg->push_enabled = false; /* as Spark's service: merging is opt-in */
    cfg->push_min_chunk_bytes = 2u << 20;
    cfg->push_max_deferred_bytes = 64u << 20;
    cfg->push_max_open_files = 4096;
    cfg->push_max_partitions = 65536;
    cfg->push_max_app_merge_bytes = 0;
    char **tls_strings[] = {&cfg->tls_cert_file, &cfg->tls_key_file, &cfg->tls_key_password_file,
                            &cfg->tls_ca_file, &cfg->tls_ciphers};
    bool tls_oom = false;
    for (size_t i = 0; i < sizeof tls_strings / sizeof *tls_strings; i++)
        tls_oom |= !(*tls_strings[i] = strdup(""));
    cfg->tls_protocols = strdup("TLSv1.2,TLSv1.3");
    if (tls_oom || !cfg->tls_protocols) {
        config_free(cfg);
        return -1;
    }
    if (!cfg->listen || !cfg->listen[0] || !cfg->log_level || !cfg->state_dir ||
        !cfg->admin_listen || !cfg->admin_token_file || !cfg->auth_secret_file ||
        !cfg->auth_app_secrets_dir) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

/* Line and column (1-based) of the first occurrence of "key" in text, or 0/0. */
static void locate_key(const char *text, const char *key, int *line, int *col)
{
    *line = 0;
    *col = 0;
    size_t klen = strlen(key);
    for (const char *p = text; (p = strchr(p, '"')) != NULL; p++) {
        if (strncmp(p + 1, key, klen) == 0 && p[1 + klen] == '"') {
            int l = 1, c = 1;
            for (const char *q = text; q < p; q++) {
                if (*q == '\n') {
                    l++;
                    c = 1;
                } else {
                    c++;
                }
            }
            *line = l;
            *col = c;
            return;
        }
    }
}

/* One file's text, as applied. */
struct config_source {
    const char *name;
    const char *text;
};

static void append_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append_error(char *err, size_t errlen, const char *fmt, ...)
{
    size_t used = strnlen(err, errlen);
    if (used + 2 >= errlen)
        return;
    if (used)
        err[used++] = '\n'; /* each error on its own line */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
}

static int key_error(const struct config_source *src, const char *key, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int key_error(const struct config_source *src, const char *key, char *err, size_t errlen,
                     const char *fmt, ...)
{
    int line, col;
    locate_key(src->text, key, &line, &col);
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    append_error(err, errlen, "%s:%d:%d: key '%s': %s", src->name, line, col, key, why);
    return -1;
}

static int set_strings(json_t *v, char ***out, size_t *count, const char **why)
{
    if (!json_is_array(v)) {
        *why = "expected an array of strings";
        return -1;
    }
    size_t n = json_array_size(v);
    char **items = calloc(n ? n : 1, sizeof(char *));
    if (!items) {
        *why = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            strlen(json_string_value(s)) != json_string_length(s)) {
            free_strings(items, i);
            *why = "expected an array of non-empty strings";
            return -1;
        }
        items[i] = strdup(json_string_value(s));
        if (!items[i]) {
            free_strings(items, i);
            *why = "out of memory";
            return -1;
        }
    }
    free_strings(*out, *count);
    *out = items;
    *count = n;
    return 0;
}

static int apply_key(const struct key_desc *k, json_t *v, struct shuffled_config *cfg, char *why,
                     size_t whylen)
{
    char *base = (char *)cfg;
    switch (k->type) {
    case K_INT:
    case K_U32:
    case K_U64: {
        if (!json_is_integer(v)) {
            snprintf(why, whylen, "expected an integer");
            return -1;
        }
        json_int_t n = json_integer_value(v);
        if (n < 0 || (uint64_t)n < k->min || (uint64_t)n > k->max) {
            snprintf(why, whylen, "%lld is out of range [%llu, %llu]", (long long)n,
                     (unsigned long long)k->min, (unsigned long long)k->max);
            return -1;
        }
        if (k->type == K_INT)
            *(int *)(base + k->offset) = (int)n;
        else if (k->type == K_U32)
            *(uint32_t *)(base + k->offset) = (uint32_t)n;
        else
            *(uint64_t *)(base + k->offset) = (uint64_t)n;
        return 0;
    }
    case K_BOOL:
        if (!json_is_boolean(v)) {
            snprintf(why, whylen, "expected true or false");
            return -1;
        }
        *(bool *)(base + k->offset) = json_is_true(v);
        return 0;
    case K_STRING: {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
            snprintf(why, whylen, "expected a string");
            return -1;
        }
        char *s = strdup(json_string_value(v));
        if (!s) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        char **slot = (char **)(base + k->offset);
        free(*slot);
        *slot = s;
        return 0;
    }
    case K_CHOICE: {
        const char *const *choices = choices_of(k->name);
        for (int i = 0; json_is_string(v) && choices[i]; i++)
            if (strcmp(json_string_value(v), choices[i]) == 0) {
                *(int *)(base + k->offset) = i;
                return 0;
            }
        snprintf(why, whylen, "expected one of %s", choices[0]);
        for (int i = 1; choices[i]; i++)
            snprintf(why + strlen(why), whylen - strlen(why), ", %s", choices[i]);
        return -1;
    }
    case K_STRINGS: {
        const char *w = NULL;
        if (set_strings(v, (char ***)(base + k->offset), (size_t *)(base + k->count_offset), &w) !=
            0) {
            snprintf(why, whylen, "%s", w);
            return -1;
        }
        return 0;
    }
    }
    return -1;
}

#define NKEYS (sizeof keys / sizeof keys[0])

/* The files applied, in order, and for each key the index of the last one that set it. */
struct layers {
    const struct config_source *src;
    int origin[NKEYS]; /* -1: the default */
};

static size_t key_index(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return i;
    return NKEYS;
}

/* The file an error about key belongs to: the one that set it, else the main file. */
static const struct config_source *origin_of(const struct layers *l, const char *key)
{
    int o = l->origin[key_index(key)];
    return &l->src[o >= 0 ? o : 0];
}

/* auth_sasl_encryption (a boolean, before sasl_encryption existed) still works where the new key
 * is not set: true offered auth-conf beside auth, which is "allowed"; false is "off". */
static void deprecated_sasl_encryption(const struct layers *l, struct shuffled_config *cfg)
{
    static bool warned;
    if (l->origin[key_index("auth_sasl_encryption")] < 0)
        return;
    if (!warned)
        log_warn("config: auth_sasl_encryption is deprecated; use \"sasl_encryption\": \"%s\"",
                 cfg->auth_sasl_encryption ? "allowed" : "off");
    warned = true;
    if (l->origin[key_index("sasl_encryption")] < 0)
        cfg->sasl_encryption =
            cfg->auth_sasl_encryption ? SASL_ENCRYPTION_ALLOWED : SASL_ENCRYPTION_OFF;
}

/* The TLS keys: files named when TLS serves a port, protocols known. The files themselves are
 * read (and their errors reported) when the TLS context is built (tls_context.h). */
static int tls_config_check(const struct layers *l, const struct shuffled_config *cfg, char *err,
                            size_t errlen)
{
    int rc = 0;
    if (cfg->tls_enabled || cfg->tls_port) {
        const char *key = cfg->tls_enabled ? "tls_enabled" : "tls_port";
        if (!cfg->tls_cert_file[0] || !cfg->tls_key_file[0])
            rc = key_error(origin_of(l, key), key, err, errlen,
                           "needs tls_cert_file and tls_key_file");
    }
    if (cfg->tls_require_client_cert && !cfg->tls_ca_file[0])
        rc = key_error(origin_of(l, "tls_require_client_cert"), "tls_require_client_cert", err,
                       errlen, "needs tls_ca_file (the CAs that sign client certificates)");
    if (cfg->tls_enabled && cfg->tls_port)
        rc = key_error(origin_of(l, "tls_port"), "tls_port", err, errlen,
                       "cannot be combined with tls_enabled (the main port already speaks TLS)");
    char why[160];
    if (tls_protocols_parse(cfg->tls_protocols, NULL, NULL, why, sizeof why) != 0)
        rc = key_error(origin_of(l, "tls_protocols"), "tls_protocols", err, errlen, "%s", why);
    return rc;
}

/* Cross-key checks, after every key was applied; each failure is appended to err. */
static int validate(const struct layers *l, struct shuffled_config *cfg, char *err, size_t errlen)
{
    int rc = 0;
    if (cfg->listen_count == 0)
        rc = key_error(origin_of(l, "listen"), "listen", err, errlen, "needs at least one address");
    if (cfg->write_low_water > cfg->write_high_water)
        rc = key_error(origin_of(l, "write_low_water_bytes"), "write_low_water_bytes", err, errlen,
                       "must not exceed write_high_water_bytes (%llu)",
                       (unsigned long long)cfg->write_high_water);
    if (strcmp(cfg->log_level, "error") && strcmp(cfg->log_level, "warn") &&
        strcmp(cfg->log_level, "info") && strcmp(cfg->log_level, "debug"))
        rc = key_error(origin_of(l, "log_level"), "log_level", err, errlen,
                       "'%s' is not one of error, warn, info, debug", cfg->log_level);
    for (size_t i = 0; i < cfg->allowed_local_dir_roots_count; i++) {
        if (cfg->allowed_local_dir_roots[i][0] != '/') {
            rc = key_error(origin_of(l, "allowed_local_dir_roots"), "allowed_local_dir_roots", err,
                           errlen, "'%s' is not an absolute path", cfg->allowed_local_dir_roots[i]);
            break;
        }
    }
    if (cfg->state_dir[0] == '\0')
        rc = key_error(origin_of(l, "state_dir"), "state_dir", err, errlen, "must not be empty");
    if (cfg->admin_listen[0] == '\0')
        rc = key_error(origin_of(l, "admin_listen"), "admin_listen", err, errlen,
                       "must not be empty");
    char why[300];
    if (cfg->admin_token_file[0] && auth_secret_check(cfg->admin_token_file, why, sizeof why))
        rc =
            key_error(origin_of(l, "admin_token_file"), "admin_token_file", err, errlen, "%s", why);
    const char *file = cfg->auth_secret_file, *dir = cfg->auth_app_secrets_dir;
    deprecated_sasl_encryption(l, cfg);
    if (cfg->crypto_enabled && !cfg->auth_enabled)
        rc = key_error(origin_of(l, "crypto_enabled"), "crypto_enabled", err, errlen,
                       "needs auth_enabled (the AES protocol authenticates with its secrets)");
    if (cfg->auth_enabled && !file[0] && !dir[0])
        rc = key_error(origin_of(l, "auth_enabled"), "auth_enabled", err, errlen,
                       "needs auth_secret_file or auth_app_secrets_dir");
    if (file[0] && dir[0])
        rc = key_error(origin_of(l, "auth_app_secrets_dir"), "auth_app_secrets_dir", err, errlen,
                       "cannot be combined with auth_secret_file (choose one secret source)");
    else if (file[0] && auth_secret_check(file, why, sizeof why))
        rc =
            key_error(origin_of(l, "auth_secret_file"), "auth_secret_file", err, errlen, "%s", why);
    else if (dir[0] && auth_secret_dir_check(dir, why, sizeof why))
        rc = key_error(origin_of(l, "auth_app_secrets_dir"), "auth_app_secrets_dir", err, errlen,
                       "%s", why);
    if (tls_config_check(l, cfg, err, errlen) != 0)
        rc = -1;
    return rc;
}

/* Applies one file's keys to cfg, recording which source set each key. Returns 0, -1 after
 * errors about keys, or UNPARSED when the file could not be read or is not a JSON object. */
#define UNPARSED (-2)
static int apply_source(struct layers *l, size_t index, struct shuffled_config *cfg, char *err,
                        size_t errlen)
{
    const struct config_source *src = &l->src[index];
    if (!src->text)
        return UNPARSED; /* unreadable: already reported */
    json_error_t jerr;
    json_t *root = json_loads(src->text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        append_error(err, errlen, "%s:%d:%d: %s", src->name, jerr.line, jerr.column, jerr.text);
        return UNPARSED;
    }
    if (!json_is_object(root)) {
        append_error(err, errlen, "%s:1:1: the configuration must be a JSON object", src->name);
        json_decref(root);
        return UNPARSED;
    }
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        size_t k = key_index(key);
        char why[200];
        if (k == NKEYS) {
            rc = key_error(src, key, err, errlen, "unknown key");
        } else if (apply_key(&keys[k], v, cfg, why, sizeof why) != 0) {
            rc = key_error(src, key, err, errlen, "%s", why);
        } else {
            l->origin[k] = (int)index;
        }
    }
    json_decref(root);
    return rc;
}

static int parse_sources(const struct config_source *src, size_t n, struct shuffled_config *cfg,
                         char *err, size_t errlen)
{
    if (config_defaults(cfg) != 0) {
        append_error(err, errlen, "%s: out of memory", src[0].name);
        return -1;
    }
    struct layers l = {.src = src};
    for (size_t k = 0; k < NKEYS; k++)
        l.origin[k] = -1;
    int rc = 0, unparsed = 0;
    for (size_t i = 0; i < n; i++) {
        int one = apply_source(&l, i, cfg, err, errlen);
        rc = one ? -1 : rc;
        unparsed |= one == UNPARSED;
    }
    /* Cross-key checks also run after errors about single keys (every error is reported),
     * but not when a whole file is missing from the picture. */
    if (!unparsed && validate(&l, cfg, err, errlen) != 0)
        rc = -1;
    if (rc != 0)
        config_free(cfg);
    return rc;
}

int config_parse(const char *text, const char *name, struct shuffled_config *cfg, char *err,
                 size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    struct config_source src = {.name = name, .text = text};
    return parse_sources(&src, 1, cfg, err, errlen);
}

int config_load_layered(const char *path, const char *dropin_dir, struct shuffled_config *cfg,
                        struct config_files *read, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    if (errlen)
        err[0] = '\0';
    struct config_files files = {0};
    int rc = config_files_add(&files, path);
    if (rc != 0)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (dropin_dir)
        rc = config_list_dropins(dropin_dir, &files, err, errlen);
    struct config_source *src = rc == 0 ? calloc(files.count, sizeof *src) : NULL;
    if (rc == 0 && !src) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    /* Every file is read, so one run of -t reports every unreadable one. */
    for (size_t i = 0; src && i < files.count; i++) {
        char one[512];
        src[i].name = files.paths[i];
        if (config_read_text(files.paths[i], (char **)&src[i].text, one, sizeof one) != 0) {
            append_error(err, errlen, "%s", one);
            rc = -1;
        }
    }
    if (src && parse_sources(src, files.count, cfg, err, errlen) != 0)
        rc = -1;
    for (size_t i = 0; src && i < files.count; i++)
        free((char *)src[i].text);
    free(src);
    if (rc == 0 && read) {
        *read = files;
        return 0;
    }
    config_files_free(&files);
    return rc;
}

int config_load(const char *path, struct shuffled_config *cfg, char *err, size_t errlen)
{
    return config_load_layered(path, NULL, cfg, NULL, err, errlen);
}
