/* SPDX-License-Identifier: Apache-2.0 */
/* What the encryption tests of libshuffle share (test_crypto_client for AES, test_crypto_sasl
 * for SASL auth-conf), over the auth fixture's daemons and dataset: a client in a given mode,
 * set up for one fetch path; registering app-1's executor "1"; fetching over a path with every
 * byte verified; the tools in a mode. */
#ifndef SHUFFLED_TESTS_CRYPTO_FIXTURE_H
#define SHUFFLED_TESTS_CRYPTO_FIXTURE_H

#include <stdbool.h>

#include "shuffle/client.h"

enum fetch_path { VIA_OPEN_BLOCKS, VIA_FETCH_SHUFFLE_BLOCKS, VIA_BATCH, VIA_FILE, FETCH_PATHS };

/* A client authenticating as app-1 with secret (NULL: none), crypto (SHUFFLE_CRYPTO_*) or SASL
 * encryption, 2 retries; OpenBlocks for VIA_OPEN_BLOCKS, every block to a file for VIA_FILE. */
shuffle_client *crypto_client(int crypto, bool sasl_encrypt, const char *secret,
                              enum fetch_path path);
/* The same with the channel cipher (SHUFFLE_CIPHER_*) after an AES handshake. */
shuffle_client *crypto_client_cipher(int crypto, int cipher, bool sasl_encrypt, const char *secret,
                                     enum fetch_path path);
/* RegisterExecutor(app-1, "1", the dataset's dirs) at port: the status. */
int crypto_register(shuffle_client *c, int port);
/* Registers, then fetches over path (every non-empty shuffle block; 3 batch ranges for
 * VIA_BATCH) from port: each block once, OK, byte for byte, in a file exactly for VIA_FILE. */
void crypto_assert_fetches_every_byte(shuffle_client *c, int port, enum fetch_path path);
/* shuffle-fetch --register --verify and shuffle-bench --verify with the fixture's secret file
 * and mode_args ("--crypto x25519", "--sasl-encrypt") against port both succeed. */
void crypto_assert_tools_fetch(const char *mode_args, int port);

#endif
