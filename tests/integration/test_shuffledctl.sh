#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shuffledctl against the real daemon's admin endpoint: status, metrics filtered, an
# executor's removal (its files; the registration stays, as in Spark), an app's removal (the
# registered-executors gauge drops to 0); the
# effective config; bad ids refused before any request; an unreachable endpoint is exit 1;
# `apps` lists the applications (JSON); `reload` applies a changed config (app_ttl_ms, seen
# in `apps`); with admin_token_file, -t TOKEN_FILE is needed for the /admin/ commands.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
ctl=$build/src/tools/shuffledctl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffledctl-test.XXXXXX")
daemon=
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

admin=$(free_port)
"$build/gen-shuffle-data" --root "$tmp/data" --maps 1 --reduces 2 >/dev/null
cat >"$tmp/shuffled.json" <<JSON
{"listen": ["127.0.0.1"], "port": 0, "admin_port": $admin, "io_threads": 1,
 "blocking_threads": 2, "log_level": "error", "state_dir": "$tmp"}
JSON
"$build/shuffled" -c "$tmp/shuffled.json" --port-file "$tmp/port" 2>"$tmp/daemon.log" &
daemon=$!
for _ in $(seq 300); do [ -s "$tmp/port" ] && break; sleep 0.1; done
export SHUFFLED_ADMIN=127.0.0.1:$admin
for _ in $(seq 100); do "$ctl" status >/dev/null 2>&1 && break; sleep 0.1; done

echo "== status"
[ "$("$ctl" status)" = serving ] || { echo "FAIL: status is not 'serving'"; exit 1; }

echo "== register two executors, remove one's files, then the app"
for exec in 1 2; do
    "$build/src/tools/shuffle-bench" --register -n 1 -k 1 -c 1 -m "$tmp/data/manifest.tsv" \
        "127.0.0.1:$(cat "$tmp/port")" app-7 "$exec" >/dev/null
done
gauge() { "$ctl" metrics shuffled_registered_executors | awk '$1 == "shuffled_registered_executors" { print $2 }'; }
[ "$(gauge)" = 2 ] || { echo "FAIL: want 2 registered executors, have $(gauge)"; exit 1; }
echo "== apps"
"$ctl" apps >"$tmp/apps.json"
python3 - "$tmp/apps.json" <<'PY' || { cat "$tmp/apps.json"; echo "FAIL: apps"; exit 1; }
import json, sys
doc = json.load(open(sys.argv[1]))
app = doc["apps"]["app-7"]
assert sorted(app["executors"]) == ["1", "2"], app
assert app["executor_count"] == 2 and app["local_dir_count"] >= 1, app
assert doc["app_ttl_ms"] == 0 and app["expires_in_ms"] is None, doc
assert app["idle_ms"] >= 0 and app["last_activity"].endswith("Z"), app
PY
# Spark's executorRemoved: the executor's non-shuffle files go, its registration stays
"$ctl" remove-executor app-7 1 | grep -q 'non-shuffle file' || { echo "FAIL: remove-executor"; exit 1; }
[ "$(gauge)" = 2 ] || { echo "FAIL: remove-executor changed the registrations: $(gauge)"; exit 1; }
"$ctl" remove-app app-7
[ "$(gauge)" = 0 ] || { echo "FAIL: remove-app left $(gauge)"; exit 1; }
"$ctl" metrics | grep -q '^metrics_shuffleService_registeredExecutorsSize_Value{type="gauges"} 0$' ||
    { echo "FAIL: no Spark-named gauge in metrics"; exit 1; }

echo "== config"
SHUFFLED_BIN=$build/shuffled "$ctl" config "$tmp/shuffled.json" | grep -q "\"admin_port\": $admin" ||
    { echo "FAIL: config does not show the effective admin_port"; exit 1; }

echo "== reload"
sed 's/"log_level": "error"/"log_level": "error", "app_ttl_ms": 600000/' "$tmp/shuffled.json" >"$tmp/new.json"
mv "$tmp/new.json" "$tmp/shuffled.json"
"$ctl" reload | grep -q 'reload requested' || { echo "FAIL: reload"; exit 1; }
for _ in $(seq 100); do "$ctl" apps | grep -q '"app_ttl_ms": 600000' && break; sleep 0.1; done
"$ctl" apps | grep -q '"app_ttl_ms": 600000' || { echo "FAIL: reload did not apply app_ttl_ms"; exit 1; }

echo "== refusals"
if "$ctl" remove-app 'a/b' 2>"$tmp/err"; then echo "FAIL: a bad id was sent"; exit 1; fi
grep -q 'ids: A-Z' "$tmp/err" || { echo "FAIL: no word on valid ids"; exit 1; }
kill "$daemon"; wait "$daemon" || true; daemon=

echo "== token"
printf 'sesame\n' >"$tmp/token"; chmod 600 "$tmp/token"
sed 's|"state_dir"|"admin_token_file": "'"$tmp/token"'", "state_dir"|' "$tmp/shuffled.json" >"$tmp/tok.json"
rm -f "$tmp/port"
"$build/shuffled" -c "$tmp/tok.json" --port-file "$tmp/port" 2>"$tmp/daemon.log" &
daemon=$!
for _ in $(seq 100); do "$ctl" status >/dev/null 2>&1 && break; sleep 0.1; done
if "$ctl" apps 2>"$tmp/err"; then echo "FAIL: apps without the token succeeded"; exit 1; fi
grep -q 'HTTP 401' "$tmp/err" || { cat "$tmp/err"; echo "FAIL: no 401"; exit 1; }
"$ctl" -t "$tmp/token" apps | grep -q '"apps"' || { echo "FAIL: apps with -t"; exit 1; }
SHUFFLED_ADMIN_TOKEN_FILE=$tmp/token "$ctl" apps >/dev/null || { echo "FAIL: token from env"; exit 1; }
kill "$daemon"; wait "$daemon" || true; daemon=
if "$ctl" status 2>"$tmp/err"; then echo "FAIL: status of a stopped daemon succeeded"; exit 1; fi
grep -q 'cannot reach the admin endpoint' "$tmp/err" || { cat "$tmp/err"; echo "FAIL: no reason"; exit 1; }
echo "PASS"
