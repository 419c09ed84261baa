#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The drop-in directory with the real daemon: `-t`/`-T` apply conf.d/*.json over the main file
# in name order and name every error by file:line:column; a running daemon re-reads the
# drop-ins on SIGHUP, applies a good one live and keeps its configuration on a bad one.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
shuffled=$build/shuffled
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-confd.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || :; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/integration/fail_with_logs.sh"
# wait_for FILE TEXT: up to 60 s (the ASan build starts slowly)
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 600 ] || fail "no '$2' in $1 after 60 s"
        sleep 0.1
    done
}

mkdir "$tmp/conf.d" "$tmp/state"
cat >"$tmp/shuffled.json" <<JSON
{"port": 0, "admin_port": 0, "io_threads": 1, "log_level": "info", "state_dir": "$tmp/state"}
JSON
echo '{"log_level": "warn", "idle_timeout_ms": 5000}' >"$tmp/conf.d/20-site.json"
echo '{"log_level": "debug", "listen": ["127.0.0.1"]}' >"$tmp/conf.d/10-base.json"
echo '{"no_such_key": 1}' >"$tmp/conf.d/README.txt"

# -T: merged in name order, the drop-ins named on stderr in that order
"$shuffled" -T -c "$tmp/shuffled.json" >"$tmp/T.out" 2>"$tmp/T.err" || fail "-T exited $?"
grep -q '"log_level": "warn"' "$tmp/T.out" || fail "20-site.json did not win over 10-base.json"
grep -q '"idle_timeout_ms": 5000' "$tmp/T.out" || fail "drop-in key not applied"
grep -q '"port": 0' "$tmp/T.out" || fail "main file key lost"
sed -n 's/^shuffled: drop-in .*\/\(.*\) applied$/\1/p' "$tmp/T.err" >"$tmp/order"
printf '10-base.json\n20-site.json\n' | cmp -s - "$tmp/order" || fail "drop-ins listed: $(cat "$tmp/order")"

# -d '' ignores the directory; -d DIR names another
"$shuffled" -T -c "$tmp/shuffled.json" -d '' >"$tmp/none.out" 2>"$tmp/none.err" || fail "-d ''"
grep -q '"log_level": "info"' "$tmp/none.out" || fail "-d '' still applied drop-ins"
mkdir "$tmp/other.d"
echo '{"log_level": "debug"}' >"$tmp/other.d/x.json"
"$shuffled" -T -c "$tmp/shuffled.json" -d "$tmp/other.d" >"$tmp/other.out" 2>"$tmp/other.err" ||
    fail "-d DIR"
grep -q '"log_level": "debug"' "$tmp/other.out" || fail "-d DIR not applied"

# -t: every error of every drop-in, by file:line:column, exit 1
printf '{\n  "port": "x"\n}\n' >"$tmp/other.d/y.json"
echo '{"colour": 1}' >"$tmp/other.d/z.json"
if "$shuffled" -t -c "$tmp/shuffled.json" -d "$tmp/other.d" 2>"$tmp/t.err"; then
    fail "-t accepted bad drop-ins"
fi
grep -qF "$tmp/other.d/y.json:2:3: key 'port': expected an integer" "$tmp/t.err" || fail "y.json error"
grep -qF "$tmp/other.d/z.json:1:2: key 'colour': unknown key" "$tmp/t.err" || fail "z.json error"

# SIGHUP re-reads the drop-ins
rm "$tmp/conf.d/20-site.json"
"$shuffled" -c "$tmp/shuffled.json" --port-file "$tmp/port" 2>"$tmp/daemon.log" &
pid=$!
wait_for "$tmp/daemon.log" "listening on"
wait_for "$tmp/daemon.log" "configuration: $tmp/shuffled.json + 1 drop-in(s)"
echo '{"log_level": "info", "idle_timeout_ms": 7000}' >"$tmp/conf.d/30-live.json"
kill -HUP "$pid"
wait_for "$tmp/daemon.log" "reloaded $tmp/shuffled.json + 2 drop-in(s); applied live: log_level, idle_timeout_ms"
echo '{"log_level": "loud"}' >"$tmp/conf.d/40-bad.json"
kill -HUP "$pid"
wait_for "$tmp/daemon.log" "reload rejected, the running configuration stays: $tmp/conf.d/40-bad.json:1:2: key 'log_level'"
kill -0 "$pid" || fail "the daemon died on a bad drop-in"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 300 ] || fail "the daemon did not stop within 30 s of SIGTERM"
    sleep 0.1
done
wait "$pid" || fail "the daemon exited $? on SIGTERM"
pid=
echo "PASS: drop-ins: order, -d, every error, SIGHUP apply and reject"
