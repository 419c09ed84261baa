#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every key in config.c's key table is documented: an entry in shuffled.json(5) that names its
# default, and the key in conf/shuffled.json or conf/shuffled.system.json.in. A key the man page
# marks deprecated is exempt from the conf files (setting it there would log a warning). A
# number or boolean default in the man page is the one `shuffled -T` prints for an empty file.
set -eu
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SHUFFLE_BUILDDIR:-$(pwd)}
config_c=$src/src/server/ops/config.c
man=$src/man/shuffled.json.5
conf_dev=$src/conf/shuffled.json
conf_system=$src/conf/shuffled.system.json.in

# The names between `keys[] = {` and its closing `};`, one per `{"name", K_...` row.
keys=$(sed -n '/^static const struct key_desc keys\[\] = {/,/^};/s/^ *{"\([a-z_0-9]*\)", K_.*/\1/p' \
    "$config_c")
count=$(echo "$keys" | grep -c .) || :
[ "${count:-0}" -ge 40 ] || { echo "FAIL: found only ${count:-0} keys in $config_c"; exit 1; }

# The defaults as the daemon prints them: `"key": value` lines of `shuffled -T` on `{}`.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-config-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo '{}' >"$tmp/empty.json"
"$build/shuffled" -T -c "$tmp/empty.json" >"$tmp/defaults" 2>"$tmp/err" ||
    { cat "$tmp/err"; echo "FAIL: shuffled -T on an empty file"; exit 1; }

# The man page's entry lines: the line after each .TP (`.BR key " (type, default ...)"`).
entries=$(sed -n '/^\.TP/{n;p}' "$man")
missing=0
for key in $keys; do
    entry=$(echo "$entries" | grep -E "^\.BR? (.*[ \"])?$key( |\$)" | head -n1) || :
    if [ -z "$entry" ]; then
        echo "FAIL: $key has no entry in man/shuffled.json.5"
        missing=$((missing + 1))
        continue
    fi
    case $entry in
    *default*) ;;
    *) echo "FAIL: man/shuffled.json.5's entry for $key names no default: $entry"
       missing=$((missing + 1)) ;;
    esac
    value=$(sed -n "s/^ *\"$key\": \([0-9][0-9]*\|true\|false\),\{0,1\}\$/\1/p" "$tmp/defaults")
    if [ -n "$value" ]; then
        case $entry in
        *"default $value"[!0-9]* | *"default $value") ;;
        *) echo "FAIL: shuffled -T says $key defaults to $value; the man page: $entry"
           missing=$((missing + 1)) ;;
        esac
    fi
    case $entry in *deprecated*) continue ;; esac
    if ! grep -q "^ *\"$key\":" "$conf_dev" "$conf_system"; then
        echo "FAIL: $key is in neither conf/shuffled.json nor conf/shuffled.system.json.in"
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] || { echo "FAIL: $missing problem(s) among $count keys"; exit 1; }
echo "PASS: $count keys documented"
