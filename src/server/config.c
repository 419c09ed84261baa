/* JSON config -> struct shuffled_config. jansson gives positions only for syntax errors, so
 * errors about a key's value are located by finding the key's text in the file. Every error
 * in a file is reported (one line each), as `shuffled -t` promises. */
#include "server/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth_secret.h"
#include "server/log.h"

enum key_type { K_INT, K_U32, K_U64, K_BOOL, K_STRING, K_STRINGS };

struct key_desc {
    const char *name;
    enum key_type type;
    size_t offset;       /* into struct shuffled_config */
    size_t count_offset; /* K_STRINGS: where the count goes */
    uint64_t min, max;   /* numeric range */
};

#define OFF(f) offsetof(struct shuffled_config, f)
static const struct key_desc keys[] = {
    {"listen", K_STRINGS, OFF(listen), OFF(listen_count), 0, 0},
    {"port", K_INT, OFF(port), 0, 0, 65535},
    {"io_threads", K_INT, OFF(io_threads), 0, 0, 1024},
    {"max_connections", K_U32, OFF(max_connections), 0, 1, 10000000},
    {"max_frame_bytes", K_U64, OFF(max_frame_bytes), 0, 64, 2147483647ULL},
    {"max_chunks_in_flight", K_U64, OFF(max_chunks_in_flight), 0, 0, UINT64_MAX >> 1},
    {"max_chunks_per_connection", K_U32, OFF(max_chunks_per_connection), 0, 1, 1000000},
    {"write_high_water_bytes", K_U64, OFF(write_high_water), 0, 1, UINT64_MAX >> 1},
    {"write_low_water_bytes", K_U64, OFF(write_low_water), 0, 0, UINT64_MAX >> 1},
    {"idle_timeout_ms", K_U64, OFF(idle_timeout_ms), 0, 0, 86400000ULL * 365},
    {"shutdown_grace_ms", K_U64, OFF(shutdown_grace_ms), 0, 0, 3600000ULL},
    {"log_level", K_STRING, OFF(log_level), 0, 0, 0},
    {"index_cache_bytes", K_U64, OFF(index_cache_bytes), 0, 0, UINT64_MAX >> 1},
    {"fetch_rdd_enabled", K_BOOL, OFF(fetch_rdd_enabled), 0, 0, 0},
    {"allowed_local_dir_roots", K_STRINGS, OFF(allowed_local_dir_roots),
     OFF(allowed_local_dir_roots_count), 0, 0},
    {"state_dir", K_STRING, OFF(state_dir), 0, 0, 0},
    {"blocking_threads", K_INT, OFF(blocking_threads), 0, 1, 1024},
    {"admin_listen", K_STRING, OFF(admin_listen), 0, 0, 0},
    {"admin_port", K_INT, OFF(admin_port), 0, 0, 65535},
    {"auth_enabled", K_BOOL, OFF(auth_enabled), 0, 0, 0},
    {"auth_secret_file", K_STRING, OFF(auth_secret_file), 0, 0, 0},
    {"auth_app_secrets_dir", K_STRING, OFF(auth_app_secrets_dir), 0, 0, 0},
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
    free(cfg->auth_secret_file);
    free(cfg->auth_app_secrets_dir);
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
    cfg->io_threads = 0;
    cfg->max_connections = 16384;
    cfg->max_frame_bytes = 16u << 20;
    cfg->max_chunks_in_flight = 0;
    cfg->max_chunks_per_connection = 256;
    cfg->write_high_water = 8u << 20;
    cfg->write_low_water = 2u << 20;
    cfg->idle_timeout_ms = 120000;
    cfg->shutdown_grace_ms = 10000;
    cfg->log_level = strdup("info");
    cfg->index_cache_bytes = 104857600;
    cfg->fetch_rdd_enabled = false;
    cfg->state_dir = strdup("/var/lib/shuffled");
    cfg->blocking_threads = 8;
    cfg->admin_listen = strdup("127.0.0.1");
    cfg->admin_port = 7338;
    cfg->auth_secret_file = strdup("");
    cfg->auth_app_secrets_dir = strdup("");
    if (!cfg->listen || !cfg->listen[0] || !cfg->log_level || !cfg->state_dir ||
        !cfg->admin_listen || !cfg->auth_secret_file || !cfg->auth_app_secrets_dir) {
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

static int key_error(const char *text, const char *name, const char *key, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int key_error(const char *text, const char *name, const char *key, char *err, size_t errlen,
                     const char *fmt, ...)
{
    int line, col;
    locate_key(text, key, &line, &col);
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t used = strnlen(err, errlen);
    if (used + 1 < errlen) /* append: each error on its own line */
        snprintf(err + used, errlen - used, "%s%s:%d:%d: key '%s': %s", used ? "\n" : "", name,
                 line, col, key, why);
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

/* Cross-key checks, after every key was applied; each failure is appended to err. */
static int validate(const char *text, const char *name, struct shuffled_config *cfg, char *err,
                    size_t errlen)
{
    int rc = 0;
    if (cfg->listen_count == 0)
        rc = key_error(text, name, "listen", err, errlen, "needs at least one address");
    if (cfg->write_low_water > cfg->write_high_water)
        rc = key_error(text, name, "write_low_water_bytes", err, errlen,
                       "must not exceed write_high_water_bytes (%llu)",
                       (unsigned long long)cfg->write_high_water);
    if (strcmp(cfg->log_level, "error") && strcmp(cfg->log_level, "warn") &&
        strcmp(cfg->log_level, "info") && strcmp(cfg->log_level, "debug"))
        rc = key_error(text, name, "log_level", err, errlen,
                       "'%s' is not one of error, warn, info, debug", cfg->log_level);
    for (size_t i = 0; i < cfg->allowed_local_dir_roots_count; i++) {
        if (cfg->allowed_local_dir_roots[i][0] != '/') {
            rc = key_error(text, name, "allowed_local_dir_roots", err, errlen,
                           "'%s' is not an absolute path", cfg->allowed_local_dir_roots[i]);
            break;
        }
    }
    if (cfg->state_dir[0] == '\0')
        rc = key_error(text, name, "state_dir", err, errlen, "must not be empty");
    if (cfg->admin_listen[0] == '\0')
        rc = key_error(text, name, "admin_listen", err, errlen, "must not be empty");
    char why[300];
    const char *file = cfg->auth_secret_file, *dir = cfg->auth_app_secrets_dir;
    if (cfg->auth_enabled && !file[0] && !dir[0])
        rc = key_error(text, name, "auth_enabled", err, errlen,
                       "needs auth_secret_file or auth_app_secrets_dir");
    if (file[0] && dir[0])
        rc = key_error(text, name, "auth_app_secrets_dir", err, errlen,
                       "cannot be combined with auth_secret_file (choose one secret source)");
    else if (file[0] && auth_secret_check(file, why, sizeof why))
        rc = key_error(text, name, "auth_secret_file", err, errlen, "%s", why);
    else if (dir[0] && auth_secret_dir_check(dir, why, sizeof why))
        rc = key_error(text, name, "auth_app_secrets_dir", err, errlen, "%s", why);
    return rc;
}

int config_parse(const char *text, const char *name, struct shuffled_config *cfg, char *err,
                 size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (config_defaults(cfg) != 0) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
        config_free(cfg);
        return -1;
    }
    int rc = 0;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s:1:1: the configuration must be a JSON object", name);
        rc = -1;
    }
    const char *key;
    json_t *v;
    if (rc == 0) {
        json_object_foreach(root, key, v)
        {
            const struct key_desc *k = NULL;
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                if (strcmp(keys[i].name, key) == 0)
                    k = &keys[i];
            }
            char why[200];
            if (!k)
                rc = key_error(text, name, key, err, errlen, "unknown key");
            else if (apply_key(k, v, cfg, why, sizeof why) != 0)
                rc = key_error(text, name, key, err, errlen, "%s", why);
        }
        if (validate(text, name, cfg, err, errlen) != 0)
            rc = -1;
    }
    json_decref(root);
    if (rc != 0)
        config_free(cfg);
    return rc;
}

int config_load(const char *path, struct shuffled_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            if (cap > (64u << 20)) {
                snprintf(err, errlen, "%s: file is larger than 64 MiB", path);
                free(text);
                fclose(f);
                return -1;
            }
            char *bigger = realloc(text, cap * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
    }
    int read_error = ferror(f);
    fclose(f);
    if (!text || read_error) {
        snprintf(err, errlen, "%s: cannot read: %s", path, text ? "I/O error" : "out of memory");
        free(text);
        return -1;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        snprintf(err, errlen, "%s: file contains a NUL byte", path);
        free(text);
        return -1;
    }
    int rc = config_parse(text, path, cfg, err, errlen);
    free(text);
    return rc;
}
