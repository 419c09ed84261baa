#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# libshuffle <-> shuffled with TLS (spark.ssl.rpc) and AES (spark.network.crypto) together, as
# Spark 4 stacks them: the AuthMessages inside TLS, then the AES cipher under TLS, on the socket
# (../shared/vectors-40/tls-plus-aes, docs/tls.md). Through shuffle-fetch and shuffle-bench:
# every AES handshake (pbkdf2, x25519, x25519-v2) and both ciphers (CTR, GCM) in every fetch
# mode, byte-verified against the dataset's manifest with blocks small and over 1 MiB; TLS + AES
# on tls_port while the plain port serves AES alone; SASL auth-conf under TLS the same way; a wrong
# secret refused, saying so.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fetch=$build/src/tools/shuffle-fetch
bench=$build/src/tools/shuffle-bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-tls-aes.XXXXXX")
. "$src/tests/integration/tls_fetch_common.sh"

certs_and_data 11
printf 'tls-aes-secret\n' >"$tmp/secret"
printf 'another-secret\n' >"$tmp/wrong"
chmod 600 "$tmp/secret" "$tmp/wrong"
auth="\"auth_enabled\": true, \"auth_secret_file\": \"$tmp/secret\", \"crypto_enabled\": true"

# start TLS_MEMBERS: shuffled with AES auth and TLS_MEMBERS, its first port in $port
start() {
    stop
    rm -rf "$tmp/state" "$tmp/port"
    mkdir "$tmp/state"
    cat >"$tmp/shuffled.json" <<JSON
{"port": 0, "admin_port": 0, "io_threads": 1, "state_dir": "$tmp/state", "log_level": "debug",
 "tls_cert_file": "$c/server.pem", "tls_key_file": "$c/server.key", $auth, $1}
JSON
    run_daemon
}

# fetched NAME PORT ARGS...: shuffle-fetch must fetch and verify every block of the manifest
fetched() {
    name=$1 at=$2; shift 2
    rm -rf "$tmp/out"
    "$fetch" --auth-secret-file "$tmp/secret" -m "$man" -o "$tmp/out" "$@" "127.0.0.1:$at" app-1 1 \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || fail "$name: shuffle-fetch exited $?"
    grep -q "0 failed, 0 bad" "$tmp/$name.err" || fail "$name: $(cat "$tmp/$name.err")"
    echo "ok: $name: $(grep "0 failed, 0 bad" "$tmp/$name.err")"
}

tls="--tls --tls-ca $c/ca.pem"

# clean_stop: stops the daemon, whose sanitizers (in the ASan build) must have found nothing
clean_stop() {
    stop
    if grep -q "ERROR: \(Leak\|Address\)Sanitizer\|runtime error" "$tmp/daemon.log"; then
        fail "the daemon's sanitizers: $(grep -m1 -A3 "ERROR\|runtime error" "$tmp/daemon.log")"
    fi
}

echo "== shuffled -t accepts crypto_enabled with TLS"
cat >"$tmp/check.json" <<JSON
{"tls_enabled": true, "tls_cert_file": "$c/server.pem", "tls_key_file": "$c/server.key", $auth}
JSON
"$build/shuffled" -t -c "$tmp/check.json" 2>"$tmp/check.err" || fail "-t: $(cat "$tmp/check.err")"

echo "== every AES handshake and fetch mode under TLS (main port TLS)"
start '"tls_enabled": true'
for mode in pbkdf2 x25519 x25519-v2; do
    fetched "$mode-register" "$port" $tls --crypto "$mode" --register
    fetched "$mode-fetch-shuffle-blocks" "$port" $tls --crypto "$mode"
    fetched "$mode-open-blocks" "$port" $tls --crypto "$mode" --old-protocol
    fetched "$mode-batch" "$port" $tls --crypto "$mode" --batch
    fetched "$mode-stream-to-file" "$port" $tls --crypto "$mode" --to-file-threshold 0
done
for mode in x25519 x25519-v2; do
    fetched "$mode-gcm" "$port" $tls --crypto "$mode" --crypto-cipher gcm --batch
    fetched "$mode-gcm-to-file" "$port" $tls --crypto "$mode" --crypto-cipher gcm \
        --to-file-threshold 0
done
grep -q "authenticated as app app-1 (AES, 3.2+ protocol)" "$tmp/daemon.log" ||
    fail "the daemon did not authenticate with AES"
if grep -q "cannot put" "$tmp/daemon.log"; then fail "a cipher did not go under TLS"; fi
"$bench" $tls --auth-secret-file "$tmp/secret" --crypto x25519-v2 --register -m "$man" \
    -n 20 -c 2 --verify "127.0.0.1:$port" app-1 1 >"$tmp/bench.out" 2>"$tmp/bench.err" ||
    fail "shuffle-bench: $(cat "$tmp/bench.err")"
echo "ok: shuffle-bench --tls --crypto x25519-v2 --verify"

echo "== the wrong secret"
refused wrong-secret "failed: java.lang.IllegalArgumentException: Authentication failed." $tls --auth-secret-file "$tmp/wrong" \
    --crypto x25519 "127.0.0.1:$port"
refused wrong-secret-v1 "failed: java.lang.IllegalArgumentException: Authentication failed." $tls --auth-secret-file "$tmp/wrong" \
    --crypto pbkdf2 "127.0.0.1:$port"
grep -q "AES authentication of app app-1 failed" "$tmp/daemon.log" || fail "no refusal logged"
refused aes-without-tls "Connection" --auth-secret-file "$tmp/secret" --crypto x25519 \
    "127.0.0.1:$port"
clean_stop

echo "== tls_port: TLS + AES there, AES alone on the plain port"
tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start "\"tls_port\": $tls_port, \"crypto_sasl_fallback\": true"
fetched plain-port-aes "$port" --crypto x25519 --register --batch
fetched tls-port-aes "$tls_port" $tls --crypto x25519 --batch
fetched plain-port-gcm "$port" --crypto x25519-v2 --crypto-cipher gcm
fetched tls-port-gcm "$tls_port" $tls --crypto x25519-v2 --crypto-cipher gcm
refused tls-client-on-plain-port "TLS handshake with" $tls --auth-secret-file "$tmp/secret" \
    --crypto x25519 "127.0.0.1:$port"
clean_stop

echo "== SASL auth-conf under TLS too (Spark's SaslEncryption.addToChannel: addFirst)"
# Debian 12's Cyrus DIGEST-MD5 leaks its cipher per auth-conf session (docs/auth.md)
LSAN_OPTIONS=suppressions=$src/tests/integration/cyrus-digestmd5.supp
export LSAN_OPTIONS
start "\"tls_enabled\": true"
fetched tls-sasl-encrypt "$port" $tls --sasl-encrypt --register --batch
fetched tls-sasl-encrypt-to-file "$port" $tls --sasl-encrypt --to-file-threshold 0
grep -q "SASL encryption (auth-conf, .*) on" "$tmp/daemon.log" || fail "no SASL auth-conf"
stop
echo "PASS"
