/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle: a client for Spark's External Shuffle Service protocol (and shuffled).
 *
 * A shuffle_client owns one event-loop thread. Every function here may be called
 * from any thread; every callback runs on the client's loop thread, so a callback
 * must not block (it may start new operations). Strings and arrays passed in are
 * copied before the call returns. See libshuffle(3).
 *
 * Errors: every call that can fail returns a status (enum shuffle_status);
 * shuffle_strerror() describes the status, shuffle_last_error() gives the details of
 * the calling thread's last failed call on a client. Asynchronous outcomes reach the
 * callbacks as (status, error text).
 *
 * ABI: every struct the caller passes in starts with struct_size, set by its _init
 * function (or to sizeof the struct). Fields are only ever appended, so a program
 * built against an older header keeps working: fields past its struct_size take
 * their defaults. Structs handed to callbacks carry struct_size the same way. */
#ifndef SHUFFLE_CLIENT_H
#define SHUFFLE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. SHUFFLE_EIO is the only one a retrying fetch retries (Spark
 * retries only IOExceptions: connect failures, closed connections, timeouts). */
enum shuffle_status {
    SHUFFLE_OK = 0,
    SHUFFLE_EIO = 1,       /* connect refused/timed out, connection closed, request timeout */
    SHUFFLE_ESERVER = 2,   /* the server answered with an error (RpcFailure, ChunkFetchFailure,
                              StreamFailure); the message holds the server's text */
    SHUFFLE_EPROTO = 3,    /* the server's reply could not be decoded */
    SHUFFLE_EINVAL = 4,    /* bad arguments (e.g. malformed block ids) */
    SHUFFLE_ECANCELED = 5, /* the client was destroyed before the operation finished */
    SHUFFLE_ELOCAL = 6,    /* a local failure: out of memory, temp file could not be written */
    SHUFFLE_EAUTH = 7,     /* authentication (spark.authenticate) was refused or failed; the
                              message holds the reason; never retried */
};
const char *shuffle_status_name(int status); /* "EIO", ... */
const char *shuffle_strerror(int status);    /* "I/O failure (retried)", ... */

typedef struct shuffle_client shuffle_client;

/* The details of the last call on c made by this thread that returned an error
 * (like errno, per thread, so concurrent callers never see each other's), e.g.
 * "cannot read the resolver configuration /x"; "" when there is none. c NULL: the
 * calling thread's last failed shuffle_client_new. Valid until this thread's next
 * call on c. */
const char *shuffle_last_error(const shuffle_client *c);

/* Client options. Version 1 (libshuffle.so.1). Layout rule for later versions: new
 * fields are appended, a group of them ending on an 8-byte boundary, so that the
 * struct_size of an older version never covers part of a newer field. */
struct shuffle_client_options {
    size_t struct_size;           /* sizeof(struct shuffle_client_options) of the caller */
    int connections_per_peer;     /* spark.shuffle.io.numConnectionsPerPeer, default 1 */
    int connect_timeout_ms;       /* default 120000 */
    int request_timeout_ms;       /* spark.network.timeout, default 120000; 0 disables */
    int max_retries;              /* spark.shuffle.io.maxRetries, default 3 */
    int retry_wait_ms;            /* spark.shuffle.io.retryWait, default 5000 */
    int registration_timeout_ms;  /* spark.shuffle.registration.timeout, default 5000 */
    int registration_attempts;    /* spark.shuffle.registration.maxAttempts, default 3 */
    int auth_timeout_ms;          /* per authentication round trip, spark.shuffle.sasl.timeout;
                                     default 30000 */
    bool use_old_fetch_protocol;  /* spark.shuffle.useOldFetchProtocol: always OpenBlocks */
    uint64_t fetch_to_file_bytes; /* blocks whose known size exceeds this are fetched with
                                     StreamRequest into a file; default UINT64_MAX (never).
                                     0: every block goes to a file, even of unknown size */
    uint64_t max_frame_bytes;     /* largest frame accepted from a server; 0: Java's limit */
    const char *tmp_dir;          /* where fetched-to-file blocks are written; default
                                     $TMPDIR or /tmp (copied) */
    const char *resolv_conf;      /* resolver configuration (resolv.conf format) for host
                                     names, read once by shuffle_client_new; default
                                     /etc/resolv.conf. Names in /etc/hosts are found
                                     without asking a nameserver */
    /* spark.authenticate (SASL DIGEST-MD5, QOP auth): with auth_secret set, every new
     * connection authenticates as auth_app_id before any request goes out. */
    const char *auth_app_id; /* the application id (spark.app.id); required with auth_secret */
    const char *auth_secret; /* spark.authenticate.secret; NULL (default): no authentication */
    /* Version 1.1: encryption on the wire; both need auth_app_id and auth_secret and exclude
     * each other. crypto (spark.network.crypto.enabled): one of enum shuffle_crypto, the AES
     * handshake the server speaks, then AES-CTR on every byte. sasl_encrypt
     * (spark.authenticate.enableSaslEncryption): nonzero: SASL DIGEST-MD5 with QOP auth-conf,
     * then every frame wrapped by SASL's security layer. */
    int crypto;       /* default SHUFFLE_CRYPTO_OFF */
    int sasl_encrypt; /* default 0 */
    /* Version 1.2: the channel cipher after an X25519 handshake
     * (spark.network.crypto.cipher, Spark 4.0+): one of enum shuffle_crypto_cipher. */
    int crypto_cipher; /* default SHUFFLE_CIPHER_CTR */
    int reserved_1_2;  /* 0 (keeps the struct free of trailing padding) */
    /* Version 1.3: spark.ssl.rpc. With tls set, every connection speaks TLS from its first
     * byte; the server's certificate is checked against tls_ca_file (or the system's CAs) and
     * the host name or address connected to. The files are read once by shuffle_client_new.
     * Excludes crypto and sasl_encrypt (SASL authentication inside TLS is allowed). */
    const char *tls_ca_file;   /* PEM CAs to trust; NULL: the system's (openssl's default) */
    const char *tls_cert_file; /* client certificate chain (PEM), for servers requiring one */
    const char *tls_key_file;  /* its unencrypted key (PEM); NULL: in tls_cert_file */
    int tls;                   /* nonzero: TLS; default 0 */
    int tls_insecure;          /* nonzero: check neither certificate nor name (tests only) */
};

/* spark.network.crypto.cipher: nothing in the handshake announces it, so it must match the
 * server's. */
enum shuffle_crypto_cipher {
    SHUFFLE_CIPHER_CTR = 0, /* AES/CTR/NoPadding, every release */
    SHUFFLE_CIPHER_GCM = 1, /* AES/GCM/NoPadding (4.0+; X25519 modes only) */
};

/* The AES handshakes of spark.network.crypto (docs/crypto.md). */
enum shuffle_crypto {
    SHUFFLE_CRYPTO_OFF = 0,       /* SASL (with auth_secret) or nothing */
    SHUFFLE_CRYPTO_PBKDF2 = 1,    /* Spark 2.2-3.1 servers: ClientChallenge, PBKDF2 keys */
    SHUFFLE_CRYPTO_X25519 = 2,    /* Spark 3.2+ (authEngineVersion 1, 3.5's default) */
    SHUFFLE_CRYPTO_X25519_V2 = 3, /* Spark 3.2+ with authEngineVersion 2 */
};

/* Fills the first struct_size bytes of o with the defaults above and sets
 * o->struct_size. Use shuffle_client_options_init, which passes your sizeof. */
void shuffle_client_options_init_sized(struct shuffle_client_options *o, size_t struct_size);
static inline void shuffle_client_options_init(struct shuffle_client_options *o)
{
    shuffle_client_options_init_sized(o, sizeof(*o));
}

/* Starts the loop thread: SHUFFLE_OK and *out set, or an error status (*out NULL;
 * details: shuffle_last_error(NULL)). opts may be NULL (all defaults). */
int shuffle_client_new(const struct shuffle_client_options *opts, shuffle_client **out);
/* Closes every connection, fails every unfinished operation with SHUFFLE_ECANCELED
 * (callbacks run, on the loop thread, before this returns), stops the thread and
 * frees everything. Must not be called from a callback. */
void shuffle_client_free(shuffle_client *c);

/* ---- Fetching blocks (Spark's OneForOneBlockFetcher + RetryingBlockFetcher) ---- */

/* One delivered block: exactly one per requested id, to success or failure. */
struct shuffle_block {
    size_t struct_size;   /* of the library's version: fields beyond it are absent */
    size_t index;         /* position in the request's block_ids */
    const char *block_id; /* as requested */
    int status;           /* SHUFFLE_OK or an error */
    const char *error;    /* on failure: "<op> of block <id> from <peer> failed: <reason>" */
    /* On success, either in memory ... */
    const uint8_t *data; /* valid only during the callback */
    uint64_t len;        /* the block's size, in memory or in the file */
    /* ... or in a file (fetch-to-file): path is set, data is NULL. The callback may
     * rename the file; whatever is left at path is removed after the callback. */
    const char *path;
};

typedef void (*shuffle_block_fn)(void *arg, const struct shuffle_block *b);
/* Runs once after the last block: failed = how many blocks failed. */
typedef void (*shuffle_fetch_done_fn)(void *arg, size_t delivered, size_t failed);

struct shuffle_fetch_request {
    size_t struct_size; /* shuffle_fetch_request_init, or sizeof(struct shuffle_fetch_request) */
    const char *host;
    int port;
    const char *app_id;
    const char *exec_id;
    const char *const *block_ids; /* shuffle_S_M_R, shuffle_S_M_START_END (batch), rdd_R_S */
    size_t num_blocks;
    const uint64_t *sizes; /* optional expected sizes, for the fetch-to-file decision */
    shuffle_block_fn on_block;
    shuffle_fetch_done_fn on_done; /* optional */
    void *arg;
};

/* Zeroes *r and sets r->struct_size. */
static inline void shuffle_fetch_request_init(struct shuffle_fetch_request *r)
{
    memset(r, 0, sizeof(*r));
    r->struct_size = sizeof(*r);
}

/* Starts a fetch. Returns SHUFFLE_OK (then every block is reported through on_block,
 * and on_done runs last), or an error status (then no callback runs). */
int shuffle_fetch_blocks(shuffle_client *c, const struct shuffle_fetch_request *r);

/* ---- Other shuffle operations (each callback runs exactly once) ---- */

typedef void (*shuffle_status_fn)(void *arg, int status, const char *error);

/* What RegisterExecutor registers (Spark's ExecutorShuffleInfo, with its ids). */
struct shuffle_executor_info {
    size_t struct_size; /* shuffle_executor_info_init, or sizeof(struct shuffle_executor_info) */
    int sub_dirs_per_local_dir; /* spark.diskStore.subDirectories, usually 64 */
    const char *app_id;
    const char *exec_id;
    const char *const *local_dirs;
    size_t num_dirs;
    const char *shuffle_manager; /* e.g. "org.apache.spark.shuffle.sort.SortShuffleManager" */
};

/* Zeroes *info and sets info->struct_size. */
static inline void shuffle_executor_info_init(struct shuffle_executor_info *info)
{
    memset(info, 0, sizeof(*info));
    info->struct_size = sizeof(*info);
}

/* RegisterExecutor on a connection of its own, closed after each attempt; waits
 * registration_timeout_ms per attempt, up to registration_attempts, retry_wait_ms apart. */
int shuffle_register_executor(shuffle_client *c, const char *host, int port,
                              const struct shuffle_executor_info *info, shuffle_status_fn cb,
                              void *arg);

typedef void (*shuffle_removed_fn)(void *arg, int status, const char *error, int num_removed);
int shuffle_remove_blocks(shuffle_client *c, const char *host, int port, const char *app_id,
                          const char *exec_id, const char *const *block_ids, size_t num_blocks,
                          shuffle_removed_fn cb, void *arg);

/* The reply of GetLocalDirsForExecutors: dirs[i] lists the local dirs of exec_ids[i]. */
struct shuffle_local_dirs {
    size_t struct_size; /* of the library's version: fields beyond it are absent */
    size_t num_execs;
    const char *const *exec_ids;
    const size_t *num_dirs;
    const char *const *const *dirs;
};
typedef void (*shuffle_local_dirs_fn)(void *arg, int status, const char *error,
                                      const struct shuffle_local_dirs *dirs);
int shuffle_get_local_dirs(shuffle_client *c, const char *host, int port, const char *app_id,
                           const char *const *exec_ids, size_t num_execs, shuffle_local_dirs_fn cb,
                           void *arg);

/* ---- Transport level: raw RPC, one-way message, stream ---- */

/* body: the reply payload, valid during the callback. */
typedef void (*shuffle_rpc_fn)(void *arg, int status, const char *error, const uint8_t *body,
                               size_t len);
int shuffle_rpc(shuffle_client *c, const char *host, int port, const void *body, size_t len,
                shuffle_rpc_fn cb, void *arg);
/* OneWayMessage: queued on a pooled connection; no reply, no callback. */
int shuffle_send_oneway(shuffle_client *c, const char *host, int port, const void *body,
                        size_t len);

/* StreamRequest: on_data receives the StreamResponse bytes as they arrive (return
 * nonzero to abort: the connection is closed); on_done runs once at the end. */
struct shuffle_stream_handler {
    size_t struct_size; /* shuffle_stream_handler_init, or sizeof(struct shuffle_stream_handler) */
    void (*on_start)(void *arg, uint64_t byte_count); /* optional */
    int (*on_data)(void *arg, const uint8_t *data, size_t len);
    shuffle_status_fn on_done;
    void *arg;
};
/* Zeroes *h and sets h->struct_size. */
static inline void shuffle_stream_handler_init(struct shuffle_stream_handler *h)
{
    memset(h, 0, sizeof(*h));
    h->struct_size = sizeof(*h);
}
int shuffle_fetch_stream(shuffle_client *c, const char *host, int port, const char *stream_id,
                         const struct shuffle_stream_handler *h);

#ifdef __cplusplus
}
#endif

#endif
