/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the auth integration tests (test_auth, test_auth_client): a dataset, secret
 * files, and three real shuffled daemons on 127.0.0.1 (shared secret; auth off; per-app
 * secrets), plus a Java-style DIGEST-MD5 client over raw frames (protocol.md 12.2). */
#ifndef SHUFFLED_TESTS_AUTH_FIXTURE_H
#define SHUFFLED_TESTS_AUTH_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../check_main.h"
#include "../harness/daemon.h"
#include "../harness/process.h"
#include "manifest.h"
#include "proto/blockmsg.h"

#define SECRET "s3cr3t-0123456789abcdef"
#define MISMATCH                                                                                   \
    "java.lang.RuntimeException: javax.security.sasl.SaslException: DIGEST-MD5: digest response "  \
    "format violation. Mismatched response."
#define NOT_SASL                                                                                   \
    "java.lang.IllegalStateException: Expected SaslMessage, received something else (maybe "       \
    "your client does not have SASL enabled?)"

extern struct harness_daemon authd, plaind, appd; /* shared secret; auth off; per-app secrets */
extern char builddir[1024], tmp[256], data_root[512], secret_path[512], bad_path[512],
    apps_dir[512];
extern struct manifest man;
extern const char **ids; /* the dataset's non-empty shuffle blocks */
extern size_t nids;

/* A daemon in tmp/name, logging errors only; auth: the JSON members for authentication. The
 * caller stops it. */
bool auth_fixture_daemon_start(struct harness_daemon *d, const char *name, const char *auth);
/* Cyrus's DIGEST-MD5 plugin (Debian 12) leaks its OpenSSL cipher per auth-conf session: the
 * daemons and tools this process starts get LeakSanitizer's suppression for it
 * (cyrus-digestmd5.supp, through LSAN_OPTIONS); the test program itself names libcrypto in its
 * own __lsan_default_suppressions. */
void auth_fixture_suppress_cyrus_cipher_leak(void);
/* Sets everything up, runs the case c of tests, tears down (every daemon must exit cleanly:
 * under ASan, no leaks). The process's exit status (77: skipped). */
int auth_fixture_main(const struct check_case *c, const TTest *const *tests);

/* One SaslMessage round trip: 0 RpcResponse, 1 RpcFailure (*out: malloc'd text), -1 I/O. */
int sasl_rpc(int fd, const char *app, const char *token, char **out);
/* The two round trips of a Java client: 0 (authenticated, rspauth checked) or 1 with the
 * server's error text in err. */
int java_auth(int fd, const char *app, const char *secret, char *err, size_t errlen);
/* A Java client's handshake as app with secret on a new connection to port must be refused with
 * the digest mismatch, and the connection closed. */
void java_auth_refused(int port, const char *app, const char *secret);
int rpc_msg(int fd, const struct blockmsg *m, char **out);
/* RegisterExecutor(app, "1", the dataset's dirs, 64, SortShuffleManager) */
struct blockmsg register_msg(const char *app);
/* OpenBlocks("app-1", "1", [ids[0]]); *id holds the block id and must outlive the message */
struct blockmsg open_first_block_msg(struct proto_bytes *id);
/* The ChunkFetchSuccess content (12 header bytes, then the body) carries ids[0]'s bytes. */
void assert_first_block(const uint8_t *content, size_t len);

#endif
