#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# libshuffle <-> shuffled over TLS (spark.ssl.rpc), through shuffle-fetch: every fetch mode
# (FetchShuffleBlocks, OpenBlocks, batch ranges, stream-to-file) byte-verified against the
# dataset's manifest, with blocks small and over 1 MiB (the daemon's TLS send window); SASL
# inside TLS; the client refuses a server of another CA, of another name and with an expired
# certificate, saying so; client certificates when the daemon requires them; a plain client
# gets nothing from a TLS port.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fetch=$build/src/tools/shuffle-fetch
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-tls-fetch.XXXXXX")
. "$src/tests/integration/tls_fetch_common.sh"

certs_and_data 7
printf 'tls-test-secret\n' >"$tmp/secret"
chmod 600 "$tmp/secret"

# start CERT [EXTRA JSON MEMBERS]: shuffled with TLS on its ephemeral port
start() {
    stop
    rm -rf "$tmp/state" "$tmp/port"
    mkdir "$tmp/state"
    cat >"$tmp/shuffled.json" <<JSON
{"port": 0, "admin_port": 0, "io_threads": 1, "state_dir": "$tmp/state",
 "tls_enabled": true, "tls_cert_file": "$c/$1.pem", "tls_key_file": "$c/$1.key"${2:+, $2}}
JSON
    run_daemon
}

# fetched NAME ARGS...: shuffle-fetch --tls against the daemon must fetch and verify every
# block of the manifest
fetched() {
    name=$1; shift
    rm -rf "$tmp/out"
    "$fetch" --tls --tls-ca "$c/ca.pem" -m "$man" -o "$tmp/out" "$@" "127.0.0.1:$port" app-1 1 \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || fail "$name: shuffle-fetch exited $?"
    grep -q "0 failed, 0 bad" "$tmp/$name.err" || fail "$name: $(cat "$tmp/$name.err")"
    echo "ok: $name: $(tail -1 "$tmp/$name.err")"
}

echo "== shuffled -t loads the TLS files"
cat >"$tmp/check.json" <<JSON
{"tls_enabled": true, "tls_cert_file": "$c/server.pem", "tls_key_file": "$c/other-ca.key"}
JSON
if "$build/shuffled" -t -c "$tmp/check.json" 2>"$tmp/check.err"; then fail "-t accepted a key of another certificate"; fi
grep -q "tls_key_file $c/other-ca.key: .*key values mismatch" "$tmp/check.err" || fail "-t: $(cat "$tmp/check.err")"
echo "ok: -t: $(cat "$tmp/check.err")"

echo "== every fetch mode over TLS"
start server
fetched register --register
fetched fetch-shuffle-blocks
fetched open-blocks --old-protocol
fetched batch --batch
fetched stream-to-file --to-file-threshold 0
"$fetch" --tls --tls-ca "$c/ca.pem" -m "$man" -o "$tmp/out" "localhost:$port" app-1 1 \
    2>"$tmp/by-name.err" || fail "by name: $(cat "$tmp/by-name.err")"
grep -q "0 failed, 0 bad" "$tmp/by-name.err" || fail "by name"
echo "ok: by the name localhost"

echo "== client files that cannot be used are named"
refused bad-ca "TLS: cannot load the CAs of $tmp/none.pem: error:80000002:system library::No such file or directory" --tls --tls-ca "$tmp/none.pem" \
    "127.0.0.1:$port"
refused bad-key "TLS: cannot load the client key $c/server.key" --tls --tls-ca "$c/ca.pem" \
    --tls-cert "$c/client.pem" --tls-key "$c/server.key" "127.0.0.1:$port"

echo "== a plain client on the TLS port"
refused plain "Connection" "127.0.0.1:$port"
grep -q "TLS handshake refused" "$tmp/daemon.log" || fail "the daemon did not say why"

echo "== SASL (spark.authenticate) inside TLS"
start server "\"auth_enabled\": true, \"auth_secret_file\": \"$tmp/secret\""
fetched sasl-register --register --auth-secret-file "$tmp/secret"
fetched sasl-batch --batch --auth-secret-file "$tmp/secret"

echo "== servers the client must refuse"
start other-server
refused other-ca "certificate verify failed (unable to get local issuer certificate)" \
    --tls --tls-ca "$c/ca.pem" "127.0.0.1:$port"
start wronghost
refused wrong-address "certificate verify failed (IP address mismatch)" \
    --tls --tls-ca "$c/ca.pem" "127.0.0.1:$port"
refused wrong-host "certificate verify failed (hostname mismatch)" \
    --tls --tls-ca "$c/ca.pem" "localhost:$port"
fetched insecure --register --tls-insecure
start expired
refused expired "certificate verify failed (certificate has expired)" \
    --tls --tls-ca "$c/ca.pem" "127.0.0.1:$port"

echo "== client certificates required"
start server "\"tls_ca_file\": \"$c/ca.pem\", \"tls_require_client_cert\": true"
refused no-client-cert "alert certificate required" --tls --tls-ca "$c/ca.pem" "127.0.0.1:$port"
refused other-client-cert "alert unknown ca" --tls --tls-ca "$c/ca.pem" --tls-cert "$c/other-client.pem" \
    --tls-key "$c/other-client.key" "127.0.0.1:$port"
fetched client-cert --register --tls-cert "$c/client.pem" --tls-key "$c/client.key"
grep -q "peer did not return a certificate" "$tmp/daemon.log" || fail "no refusal logged"
stop
echo "PASS"
