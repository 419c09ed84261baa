# SPDX-License-Identifier: Apache-2.0
# Sourced by test_tls_fetch.sh and test_tls_aes_fetch.sh once they have set $src, $build, $tmp
# and $fetch: fail (fail_with_logs.sh), the daemon's start and stop (removing $tmp on exit), the
# certificates and data set, and refused.
. "$src/tests/integration/fail_with_logs.sh"
pid=
stop() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || :; wait "$pid" 2>/dev/null || :; fi
    pid=
}
cleanup() {
    stop
    rm -rf "$tmp"
}
trap cleanup EXIT

# certs_and_data SEED: certificates in $c, a data set of blocks from 1 byte to over 1 MiB (the
# daemon's TLS send window) with its manifest in $man
certs_and_data() {
    sh "$src/tests/integration/tls_certs.sh" "$tmp/certs"
    c=$tmp/certs
    "$build/gen-shuffle-data" --root "$tmp/data" --shuffle 0 --maps 3 --reduces 6 \
        --min-size 1 --max-size 3000000 --seed "$1" >/dev/null
    man=$tmp/data/manifest.tsv
}

# run_daemon: shuffled with "$tmp/shuffled.json" and its log in daemon.log; its first port in $port
run_daemon() {
    "$build/shuffled" -c "$tmp/shuffled.json" --port-file "$tmp/port" 2>"$tmp/daemon.log" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ]; do
        i=$((i + 1))
        kill -0 "$pid" 2>/dev/null || fail "the daemon exited"
        [ $i -le 600 ] || fail "the daemon did not start"
        sleep 0.1
    done
    port=$(cat "$tmp/port")
}

# refused NAME TEXT ARGS...: shuffle-fetch fails, saying TEXT
refused() {
    name=$1 text=$2; shift 2
    if "$fetch" -q --retries 0 -m "$man" -o "$tmp/out" "$@" app-1 1 >/dev/null 2>"$tmp/$name.err"; then
        fail "$name: fetched"
    fi
    grep -qF -- "$text" "$tmp/$name.err" || fail "$name: no '$text' in: $(cat "$tmp/$name.err")"
    echo "ok: $name refused: $(head -1 "$tmp/$name.err")"
}
