/* SPDX-License-Identifier: Apache-2.0 */
/* libshuffle's RPC environment: named endpoints on a node, reached by reference from the same
 * process or another one, with one-way messages (send) and requests (ask), over Spark's
 * transport frames (RpcRequest, OneWayMessage, RpcResponse, RpcFailure). The model is Spark's
 * RpcEnv; the wire envelope and the threading are described in docs/rpc.md. Payloads are
 * opaque bytes: JVM endpoints cannot be called (their payloads are Java-serialized).
 *
 * Threads: an env owns one event loop (its own thread, or the caller's event_base) that does
 * all network work, and a pool of dispatcher threads that run endpoint callbacks. Every
 * function may be called from any thread, except shuffle_rpc_ask_sync on the env's loop
 * thread and shuffle_rpc_env_free from a callback. Ask callbacks run on the loop thread and
 * must not block. Endpoint callbacks run on dispatcher threads, one message at a time per
 * endpoint unless it is thread_safe, or on the loop thread if it is run_on_loop.
 *
 * ABI: as libshuffle's (shuffle/client.h): structs passed in start with struct_size. */
#ifndef SHUFFLE_RPC_H
#define SHUFFLE_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses beyond shuffle/client.h's (SHUFFLE_OK, SHUFFLE_EINVAL, SHUFFLE_ELOCAL (no memory),
 * SHUFFLE_EAUTH are used as there). */
enum shuffle_rpc_status {
    SHUFFLE_RPC_ETIMEDOUT = 20,    /* no answer within the ask's timeout */
    SHUFFLE_RPC_EREMOTE = 21,      /* the endpoint answered with an error; the text is its own */
    SHUFFLE_RPC_ENOENDPOINT = 22,  /* no endpoint of that name on the env addressed */
    SHUFFLE_RPC_ECONNLOST = 23,    /* the connection closed before the answer */
    SHUFFLE_RPC_EUNREACHABLE = 24, /* the peer could not be connected to */
    SHUFFLE_RPC_EOVERFLOW = 25,    /* an inbox, an outbox or the asks in flight are full */
    SHUFFLE_RPC_ESHUTDOWN = 26,    /* the env is stopping (or the endpoint was unregistered) */
    SHUFFLE_RPC_EREPLIED = 27,     /* a reply context answered a second time */
};
/* "ETIMEDOUT", ... also for shuffle/client.h's statuses. */
const char *shuffle_rpc_status_name(int status);
const char *shuffle_rpc_strerror(int status);

typedef struct shuffle_rpc_env shuffle_rpc_env;
typedef struct shuffle_rpc_ref shuffle_rpc_ref;
typedef struct shuffle_rpc_reply shuffle_rpc_reply;
struct event_base;

struct shuffle_rpc_env_options {
    size_t struct_size;
    /* Server mode: listen on listen_host:port (port 0: any free one, see
     * shuffle_rpc_env_port). NULL (default): client-only, nothing listens. */
    const char *listen_host;
    int port;
    int worker_threads;     /* dispatcher threads, default 2 */
    int inbox_capacity;     /* messages waiting per endpoint, default 65536 */
    int outbox_capacity;    /* messages queued per peer while not connected, default 65536 */
    int max_asks_in_flight; /* asks awaiting answers in the whole env, default 65536 */
    int connect_timeout_ms; /* default 10000 */
    int ask_timeout_ms;     /* used when an ask passes 0; default 120000 */
    /* NULL (default): the env runs its own loop thread. Otherwise the caller's base, which
     * the caller runs (and keeps running until shuffle_rpc_env_free returns); libevent's
     * pthreads support must be on (evthread_use_pthreads). */
    struct event_base *event_base;
    /* spark.authenticate (SASL DIGEST-MD5): with auth_secret set, connections this env makes
     * authenticate as auth_app_id, and connections it accepts may authenticate with the same
     * secret; endpoints with require_auth take messages only from those. */
    const char *auth_app_id;
    const char *auth_secret;
    /* Largest frame read from a peer (frame header included); a larger one closes the
     * connection before anything of its size is allocated. Default 64 MiB; 0: Java's limit. */
    uint64_t max_frame_bytes;
    /* spark.network.crypto instead of SASL (needs auth_secret): SHUFFLE_CRYPTO_PBKDF2,
     * _X25519 or _X25519_V2 of shuffle/client.h, then every byte under crypto_cipher
     * (SHUFFLE_CIPHER_CTR, or _GCM with an X25519 mode). Connections this env makes run that
     * handshake; connections it accepts must run the same one (SASL ones are refused).
     * Default SHUFFLE_CRYPTO_OFF (0): SASL. docs/rpc.md. */
    int crypto;
    int crypto_cipher;
    /* Read back-pressure (docs/rpc.md): a connection whose messages find an endpoint's inbox
     * full stops being read until the inbox is half empty, so one-way messages wait in the
     * socket buffers (and the sender's outbox) instead of being refused. If the endpoint takes
     * no message for this long, the messages waiting are refused (one-way counted, asks
     * answered SHUFFLE_RPC_EOVERFLOW) and reading resumes. Default 10000. */
    int inbox_stall_timeout_ms;
};
void shuffle_rpc_env_options_init_sized(struct shuffle_rpc_env_options *o, size_t struct_size);
static inline void shuffle_rpc_env_options_init(struct shuffle_rpc_env_options *o)
{
    shuffle_rpc_env_options_init_sized(o, sizeof(*o));
}

/* Creates the env (and starts listening in server mode). On failure *out is NULL and, when
 * err is not NULL, it holds the reason. */
int shuffle_rpc_env_new(const struct shuffle_rpc_env_options *o, shuffle_rpc_env **out, char *err,
                        size_t errlen);
/* The port bound in server mode, 0 in client-only mode. */
int shuffle_rpc_env_port(const shuffle_rpc_env *env);
/* Stops every endpoint (on_stop after its last message), fails every unanswered ask with
 * SHUFFLE_RPC_ESHUTDOWN, closes every connection and frees the env. References to it become
 * invalid: free them first or after, but use none. */
void shuffle_rpc_env_free(shuffle_rpc_env *env);

/* A message as an endpoint receives it: valid during the callback only. */
struct shuffle_rpc_message {
    size_t struct_size;
    const char *sender_host; /* the sender env's listening address; NULL if it has none */
    int sender_port;
    const char *remote; /* the connection's peer "host:port"; NULL for a local sender */
    bool authenticated; /* the connection authenticated (always true for a local sender) */
    const uint8_t *payload;
    size_t len;
};

struct shuffle_rpc_endpoint {
    size_t struct_size;
    void *arg; /* the first argument of every callback */
    /* Messages of a thread-safe endpoint may be processed concurrently by several
     * dispatcher threads (still after on_start and before on_stop). */
    bool thread_safe;
    /* Only messages over authenticated connections (and local ones) are delivered; others
     * are answered with SHUFFLE_EAUTH's error. */
    bool require_auth;
    void (*on_start)(void *arg);
    void (*receive)(void *arg, const struct shuffle_rpc_message *m);
    /* Answer through r exactly once, now or later, from any thread. */
    void (*receive_and_reply)(void *arg, const struct shuffle_rpc_message *m, shuffle_rpc_reply *r);
    /* A message this endpoint could not take (no callback for its kind). */
    void (*on_error)(void *arg, int status, const char *error);
    void (*on_connected)(void *arg, const char *remote);
    void (*on_disconnected)(void *arg, const char *remote);
    void (*on_stop)(void *arg);
    /* The callbacks never block (no waiting on locks held long, I/O or ask_sync): they run on
     * the env's loop thread, one message at a time, instead of on a dispatcher thread, and a
     * reply given during receive_and_reply goes out at once. Saves two thread wake-ups per
     * ask; a callback that blocks stalls every connection of the env. thread_safe is then
     * ignored. */
    bool run_on_loop;
};
void shuffle_rpc_endpoint_init_sized(struct shuffle_rpc_endpoint *e, size_t struct_size);
static inline void shuffle_rpc_endpoint_init(struct shuffle_rpc_endpoint *e)
{
    shuffle_rpc_endpoint_init_sized(e, sizeof(*e));
}

/* Registers ep under name (at most 255 bytes): on_start is its first message. A name taken
 * is SHUFFLE_EINVAL. *ref (if not NULL) gets a local reference to it. */
int shuffle_rpc_register(shuffle_rpc_env *env, const char *name,
                         const struct shuffle_rpc_endpoint *ep, shuffle_rpc_ref **ref);
/* Messages already in the inbox are processed, then on_stop; later ones are refused
 * (asks with SHUFFLE_RPC_ESHUTDOWN). Returns when on_stop has run (not from that endpoint's
 * own callbacks: then it returns at once and on_stop follows). */
int shuffle_rpc_unregister(shuffle_rpc_env *env, const char *name);

/* A reference to name on the env at host:port (host NULL: this env, without the network).
 * A remote lookup asks the remote env's endpoint verifier whether name exists:
 * SHUFFLE_RPC_ENOENDPOINT if not, or the status of that ask. */
int shuffle_rpc_lookup(shuffle_rpc_env *env, const char *host, int port, const char *name,
                       int timeout_ms, shuffle_rpc_ref **out);
void shuffle_rpc_ref_free(shuffle_rpc_ref *ref);

/* One-way message (fire and forget): SHUFFLE_OK once queued. A remote message that finds the
 * endpoint's inbox full waits (the remote env stops reading the connection until there is
 * room, so this peer's outbox fills and refuses with SHUFFLE_RPC_EOVERFLOW); one that cannot
 * be delivered is counted (shuffle_rpc_env_stats). A local one to a full inbox is refused. */
int shuffle_rpc_send(shuffle_rpc_ref *ref, const void *payload, size_t len);

/* fn runs exactly once, on the loop thread: status SHUFFLE_OK with the reply, or an error
 * status with its text (the remote's own text for SHUFFLE_RPC_EREMOTE). timeout_ms 0: the
 * env's ask_timeout_ms. A nonzero return means fn will not run. */
typedef void (*shuffle_rpc_ask_fn)(void *arg, int status, const char *error, const uint8_t *reply,
                                   size_t len);
int shuffle_rpc_ask(shuffle_rpc_ref *ref, const void *payload, size_t len, int timeout_ms,
                    shuffle_rpc_ask_fn fn, void *arg);
/* Blocking ask: the reply in *reply (malloc'd, free it; NUL-terminated beyond *len), or an
 * error status with the text in *error (malloc'd) when error is not NULL. */
int shuffle_rpc_ask_sync(shuffle_rpc_ref *ref, const void *payload, size_t len, int timeout_ms,
                         uint8_t **reply, size_t *reply_len, char **error);

/* Answers an ask (from any thread). The first answer goes; a later one is
 * SHUFFLE_RPC_EREPLIED. r stays valid until answered and the callback that got it returned.
 * A context kept for later must be answered before the env is freed (in on_stop at the
 * latest): each answer is handed to the env's loop. */
int shuffle_rpc_reply_ok(shuffle_rpc_reply *r, const void *payload, size_t len);
int shuffle_rpc_reply_error(shuffle_rpc_reply *r, const char *error);

struct shuffle_rpc_env_stats {
    /* one-way messages not delivered: peer unreachable or connection lost (sending env);
     * endpoint gone, or stuck with a full inbox for inbox_stall_timeout_ms (receiving env) */
    uint64_t sends_dropped;
    uint64_t asks_in_flight;
    uint64_t connections;
};
void shuffle_rpc_env_stats(shuffle_rpc_env *env, struct shuffle_rpc_env_stats *out);

/* Payload helper: fields each prefixed by a big-endian u32 length. */
struct shuffle_rpc_fields {
    uint8_t *data; /* malloc'd; free() it */
    size_t len, cap;
};
/* Appends one field; SHUFFLE_ELOCAL without memory. */
int shuffle_rpc_fields_add(struct shuffle_rpc_fields *f, const void *field, size_t len);
/* Reads the next field at *pos: true with (field, len), false at the end or on a truncated
 * field (then *pos is not moved past len). */
bool shuffle_rpc_fields_next(const uint8_t *payload, size_t payload_len, size_t *pos,
                             const uint8_t **field, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
