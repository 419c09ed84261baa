/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's JSON configuration (jansson): keys, defaults, validation.
 * Unknown keys and bad values are errors reported as "FILE:LINE:COLUMN: key 'K': reason". */
#ifndef SHUFFLED_SERVER_CONFIG_H
#define SHUFFLED_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shuffled_config {
    /* core */
    char **listen; /* "listen": array of numeric addresses; default ["127.0.0.1"] */
    size_t listen_count;
    int port;                           /* "port": 0..65535, default 7337; 0 = ephemeral */
    int listen_backlog;                 /* "listen_backlog": listen(2) backlog, 4096 */
    int io_threads;                     /* "io_threads": default 0 = online CPUs */
    uint32_t max_connections;           /* "max_connections": default 16384 */
    uint64_t max_frame_bytes;           /* "max_frame_bytes": incoming frames, default 16 MiB */
    uint64_t max_chunks_in_flight;      /* "max_chunks_in_flight": 0 = automatic (default):
                                      half the open-file limit */
    uint32_t max_chunks_per_connection; /* "max_chunks_per_connection": default 256 (bounds fds) */
    uint64_t write_high_water;          /* "write_high_water_bytes": default 8 MiB */
    uint64_t write_low_water;           /* "write_low_water_bytes": default 2 MiB */
    uint64_t idle_timeout_ms;           /* "idle_timeout_ms": default 120000; 0 disables */
    /* Memory clients can drive, each bounded per connection and in total (docs: budgets) */
    uint64_t frame_timeout_ms;     /* "frame_timeout_ms": a started frame completes in it; 30000 */
    uint64_t handshake_timeout_ms; /* "handshake_timeout_ms": SASL auth completes in it; 30000 */
    uint64_t max_stream_bytes_per_connection; /* "max_stream_bytes_per_connection": 16 MiB */
    uint64_t max_stream_bytes;                /* "max_stream_bytes": open streams, 64 MiB */
    uint64_t max_input_bytes;   /* "max_input_bytes": partial frames of all connections, 64 MiB */
    uint64_t max_output_bytes;  /* "max_output_bytes": queued answers in memory, 64 MiB */
    uint64_t shutdown_grace_ms; /* "shutdown_grace_ms": default 10000 */
    char *log_level;            /* "log_level": error|warn|info|debug, default "info" */
    /* block service (parsed here so the service does not edit config.c) */
    uint64_t index_cache_bytes;     /* "index_cache_bytes": default 104857600 */
    bool fetch_rdd_enabled;         /* "fetch_rdd_enabled": default false */
    char **allowed_local_dir_roots; /* "allowed_local_dir_roots": absolute paths; empty = any */
    size_t allowed_local_dir_roots_count;
    char *state_dir;                /* "state_dir": default $localstatedir/lib/shuffled */
    bool state_sync;                /* "state_sync": fdatasync each registration; default false */
    int blocking_threads;           /* "blocking_threads": default 8 */
    uint64_t max_executors_per_app; /* "max_executors_per_app": default 10000 */
    uint64_t max_executors;         /* "max_executors": default 1000000 */
    /* operations (admin_http.h) */
    char *admin_listen;     /* "admin_listen": numeric address, default "127.0.0.1" */
    int admin_port;         /* "admin_port": 0..65535, default 7338; 0 = ephemeral */
    char *admin_token_file; /* "admin_token_file": bearer token of the /admin/ endpoints; default ""
                             */
    /* authentication (auth.h): spark.authenticate with SASL DIGEST-MD5 */
    bool auth_enabled;         /* "auth_enabled": default false */
    bool auth_sasl_encryption; /* deprecated alias of sasl_encryption (true: allowed) */
    bool crypto_enabled;       /* "crypto_enabled": spark.network.crypto (AES); default false */
    bool crypto_sasl_fallback; /* "crypto_sasl_fallback": SASL still accepted; default true */
    char *auth_secret_file; /* "auth_secret_file": the shared secret, mode 0600/0400; default "" */
    char *auth_app_secrets_dir; /* "auth_app_secrets_dir": per-app secret files; default "" */
    /* idle applications (block/app_expiry.h) */
    uint64_t app_ttl_ms;             /* "app_ttl_ms": remove an app idle this long; 0 = never */
    bool app_ttl_cleanup_local_dirs; /* "app_ttl_cleanup_local_dirs": and delete its dirs */
    /* issues 16 and 20 (docs/auth.md, docs/crypto.md) */
    int sasl_encryption; /* "sasl_encryption": enum sasl_encryption; default "allowed" */
    int crypto_cipher;   /* "crypto_cipher": enum crypto_cipher; default "auto" */
    /* push-based shuffle, the merge manager (docs/push.md): "push_enabled" (default false),
     * "push_min_chunk_bytes" (merged chunk size, 2 MiB), "push_max_deferred_bytes" (pushes
     * buffered while their partition is busy, 64 MiB), "push_max_open_files" (files of merge
     * partitions open at once, 4096; the least recently used idle ones are closed beyond it),
     * "push_max_partitions" (partitions being merged, 65536, 0 = no limit),
     * "push_max_app_merge_bytes" (merged bytes per app, 0 = no limit) */
    bool push_enabled;
    uint64_t push_min_chunk_bytes;
    uint64_t push_max_deferred_bytes;
    uint64_t push_max_open_files;
    uint64_t push_max_partitions;
    uint64_t push_max_app_merge_bytes;
    /* TLS (spark.ssl.rpc; docs/tls.md): PEM files, reloaded on SIGHUP */
    bool tls_enabled;             /* "tls_enabled": the port speaks TLS only; default false */
    int tls_port;                 /* "tls_port": TLS on a second port beside plain; 0 = none */
    char *tls_cert_file;          /* "tls_cert_file": certificate chain (PEM) */
    char *tls_key_file;           /* "tls_key_file": private key (PEM, PKCS#8 or traditional) */
    char *tls_key_password_file;  /* "tls_key_password_file": the key's passphrase; "" = none */
    char *tls_ca_file;            /* "tls_ca_file": CAs that sign client certificates */
    bool tls_require_client_cert; /* "tls_require_client_cert": default false */
    char *tls_protocols;          /* "tls_protocols": "TLSv1.2,TLSv1.3" (default) */
    char *tls_ciphers;            /* "tls_ciphers": OpenSSL names, TLS_* are 1.3 suites; "" */
    /* TLS handshakes admitted (tls_conn.c, docs/tls.md) */
    uint32_t tls_max_handshakes_in_progress; /* begun and not ended, all loops; 1024; 0 = any */
    uint32_t tls_max_handshakes_per_second;  /* begun per second; default 0 = no cap */
};

/* QOP auth-conf (spark.authenticate.enableSaslEncryption): not offered, offered beside auth,
 * or the only QOP offered. The order is the key's choices. */
enum sasl_encryption { SASL_ENCRYPTION_OFF, SASL_ENCRYPTION_ALLOWED, SASL_ENCRYPTION_REQUIRED };
/* The channel cipher after an AES handshake (spark.network.crypto.cipher): told apart by the
 * client's first bytes, or only one of them. */
enum crypto_cipher { CRYPTO_CIPHER_AUTO, CRYPTO_CIPHER_CTR, CRYPTO_CIPHER_GCM };

/* Fills cfg with the defaults (allocates; release with config_free). Returns 0 or -1 (ENOMEM). */
int config_defaults(struct shuffled_config *cfg);
struct config_files;

/* Loads path, then each drop-in of dropin_dir (NULL: none; see config_files.h) over the
 * defaults: a key's last value wins, an array as a whole. Cross-key checks run on the result
 * and name the file that set the key. read (optional) receives the files applied (release
 * with config_files_free). Returns 0, or -1 with err holding every error of every file, one
 * per line ("path:line:col: key 'K': reason"), cfg left freed and read untouched. */
int config_load_layered(const char *path, const char *dropin_dir, struct shuffled_config *cfg,
                        struct config_files *read, char *err, size_t errlen);
/* Loads path alone over the defaults. Returns 0, or -1 with err holding every error found, one per
 * line ("path:line:col: key 'K': reason"), and cfg left freed (nothing to release). */
int config_load(const char *path, struct shuffled_config *cfg, char *err, size_t errlen);
/* Parses a JSON text (name is used in messages only); same contract as config_load. */
int config_parse(const char *text, const char *name, struct shuffled_config *cfg, char *err,
                 size_t errlen);
void config_free(struct shuffled_config *cfg);

#endif
