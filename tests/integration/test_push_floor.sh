#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# push-floor (scripts/push-floor) measures real transfers: in a short run of every server mode
# with --verify, each pushed block is read back from the floor server's partition files at the
# offset its ack named and compared with its source, and each file's size must be the sum of
# its blocks; recv-only must have received every byte. A floor from a path that does not move
# the bytes would mean nothing.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
tool=$build/src/tools/push-floor
tmp=$(mktemp -d "${TMPDIR:-/tmp}/push-floor-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out" >&2; exit 1; }

# 5 maps x 7 reduces: blocks of many partitions interleave on 3 connections
"$build/gen-shuffle-data" --root "$tmp/data" --maps 5 --reduces 7 --min-size 4096 \
    --max-size 65536 --seed 17 >/dev/null
mkdir "$tmp/out-files"
timeout 120 "$tool" -m "$tmp/data/manifest.tsv" -d "$tmp/out-files" -c 3 -i 6 -r 2 --verify \
    --daemon-run 20 --client-run 10 >"$tmp/out" 2>&1 || fail "push-floor --verify failed"
blocks=$(grep -c '^shuffle_' "$tmp/data/manifest.tsv")
grep -q "^blocks $blocks, " "$tmp/out" || fail "not every one of the $blocks blocks pushed"
for mode in recv+pwrite splice recv-only overwrite; do
    runs=$(awk -v m="$mode" '$1 == "run" && $3 == m && $4 == "server" && $5 > 0 &&
        $6 == "us/block" && $7 == "client" && $8 > 0' "$tmp/out" | wc -l)
    [ "$runs" = 2 ] || fail "not two runs of $mode"
done
grep -Eq '^floor: server [0-9.]+, client [0-9.]+ us/block, server/client [0-9.]+x' "$tmp/out" ||
    fail "no floor ratio"
grep -Eq '^daemon 20.00 us/block = [0-9.]+x its floor' "$tmp/out" || fail "daemon figure not used"
# the client that sends from memory, as the bench's does, delivers the same bytes
timeout 60 "$tool" -m "$tmp/data/manifest.tsv" -d "$tmp/out-files" -r 1 -M recv+pwrite \
    --from-memory --coalesce-acks --verify >"$tmp/out" 2>&1 ||
    fail "push-floor --from-memory --coalesce-acks --verify failed"
grep -q "client sends from memory; acks one send per read callback" "$tmp/out" ||
    fail "--from-memory or --coalesce-acks not taken"
# the files are removed afterwards
[ -z "$(ls "$tmp/out-files")" ] || fail "partition files left behind"
# a mode that is not one is refused, naming it
if "$tool" -m "$tmp/data/manifest.tsv" -M splice,nonsense >"$tmp/out" 2>&1; then
    fail "unknown mode accepted"
fi
grep -q "unknown mode 'nonsense'" "$tmp/out" || fail "unknown mode not named"
echo "push-floor: every mode moved every block, and the files held their bytes"
