#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shuffle-bench against the real daemon: a bad option value exits 2 naming the option (the
# security rows shared with shuffle-fetch included); --csv gives a header and one row; a repeated
# failure (an executor never registered) is reported once with its count; -s is a deadline
# even when the server stops answering (a listener that never replies): the run ends about
# a second after it, the hung requests counted as unfinished.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffle-bench-test.XXXXXX")
daemon=
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; rm -rf "$tmp"' EXIT

"$build/gen-shuffle-data" --root "$tmp/data" --maps 4 --reduces 8 >/dev/null
cat >"$tmp/shuffled.json" <<JSON
{"listen": ["127.0.0.1"], "port": 0, "admin_port": 0, "io_threads": 1, "blocking_threads": 2,
 "log_level": "error", "state_dir": "$tmp"}
JSON
"$build/shuffled" -c "$tmp/shuffled.json" --port-file "$tmp/port" 2>"$tmp/daemon.log" &
daemon=$!
for _ in $(seq 300); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
bench="$build/src/tools/shuffle-bench -m $tmp/data/manifest.tsv"

echo "== a bad option value is a usage error naming the option"
bad_option() { # WANTED-TEXT ARGS...: exit 2 and WANTED-TEXT on stderr
    want=$1; shift
    rc=0
    $bench "$@" "127.0.0.1:$port" app-1 0 >/dev/null 2>"$tmp/usage" || rc=$?
    [ "$rc" -eq 2 ] || { echo "FAIL: $* exited $rc, want 2"; exit 1; }
    grep -q -- "$want" "$tmp/usage" || { echo "FAIL: $*: no '$want' in:"; cat "$tmp/usage"; exit 1; }
}
bad_option "--seconds: 'soon'" -s soon
bad_option "--concurrency: '-1'" -c -1
bad_option "--crypto: 'rot13'" --crypto rot13 --auth-secret-file "$tmp/shuffled.json"
bad_option "--sasl-encrypt needs --auth-secret-file" --sasl-encrypt
$bench --help | grep -q -- "--tls-insecure" || { echo "FAIL: --help lacks the TLS rows"; exit 1; }

echo "== --csv"
$bench --register --csv -n 20 -c 2 "127.0.0.1:$port" app-1 0 >"$tmp/csv"
cat "$tmp/csv"
python3 - "$tmp/csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
if len(rows) != 1 or int(rows[0]["requests"]) != 20 or int(rows[0]["blocks"]) == 0 or int(rows[0]["errors"]) != 0:
    print("FAIL: want one row of 20 requests, some blocks, no errors"); sys.exit(1)
PY

echo "== one line per distinct error"
if $bench -s 1 -c 2 "127.0.0.1:$port" app-1 7 >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL: fetching from an unregistered executor succeeded"; exit 1
fi
cat "$tmp/err"
[ "$(grep -c '^shuffle-bench: error: ' "$tmp/err")" -eq 1 ] ||
    { echo "FAIL: want exactly one error line"; exit 1; }
grep -q '^shuffle-bench: error: [0-9][0-9]* x .*<block>' "$tmp/err" ||
    { echo "FAIL: the error line has no count or names one block"; exit 1; }
n=$(sed -n 's/^shuffle-bench: error: \([0-9]*\) x .*/\1/p' "$tmp/err")
[ "$n" -gt 1 ] || { echo "FAIL: count $n, want many"; exit 1; }

echo "== -s with a server that never answers"
python3 - "$build/src/tools/shuffle-bench" "$tmp/data/manifest.tsv" <<'PY'
import socket, subprocess, sys, threading, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
held = []
def accept():
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        held.append(c)  # read nothing, answer nothing
threading.Thread(target=accept, daemon=True).start()
start = time.monotonic()
p = subprocess.run([sys.argv[1], "-m", sys.argv[2], "-s", "1", "-c", "2", "--json",
                    "127.0.0.1:%d" % srv.getsockname()[1], "app-1", "0"],
                   capture_output=True, timeout=60)
took = time.monotonic() - start
print(p.stdout.decode().strip(), "(%.2f s, exit %d)" % (took, p.returncode))
print(p.stderr.decode().strip())
import json
r = json.loads(p.stdout)
if took > 4 or r["unfinished"] != 2 or r["blocks"] != 0 or p.returncode != 1:
    print("FAIL: want the run to end by ~2 s with 2 unfinished requests and exit 1"); sys.exit(1)
srv.close()
PY
echo "PASS"
