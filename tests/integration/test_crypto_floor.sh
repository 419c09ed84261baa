#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# crypto-floor (scripts/crypto-floor) measures real transfers: with --verify every mode's
# receiver checks every byte it gets (decrypted, the GCM tags opened, TLS records read) against
# the file, and the run fails on a wrong byte, a short stream or a tag that does not match. A
# floor figure from a path that does not deliver the bytes would mean nothing.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
tool=$build/src/tools/crypto-floor
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crypto-floor-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/out" >&2; exit 1; }

# small blocks that do not divide the file, so blocks wrap at its end; several per run
timeout 120 "$tool" --verify -b 70000 -n 1200 -r 1 -d "$tmp" \
    --daemon-plain 0.3 --client-plain 0.25 >"$tmp/out" 2>&1 || fail "crypto-floor --verify failed"
for mode in sendfile copy ctr gcm gcm-mmap tls tls-mmap; do
    grep -Eq "^$mode +[0-9]+\.[0-9]+ / [0-9]+\.[0-9]+ " "$tmp/out" || fail "no figures for $mode"
done
grep -Eq '^ktls +([0-9]|not available here)' "$tmp/out" || fail "no line for ktls"
grep -Eq 'TLS [0-9.]+: at most [0-9]+ %' "$tmp/out" || fail "no TLS throughput ceiling"
grep -Eq 'GCM daemon .* = [0-9.]+x; sealed from a mapping' "$tmp/out" || fail "no GCM daemon floor"
grep -Eq 'kTLS .*P_d \+ seal = [0-9.]+ s/GB' "$tmp/out" || fail "no kTLS estimate"
grep -q 'P_d 0.300 and P_c 0.250 s/GB (the daemon' "$tmp/out" || fail "the daemon's figures not used"
# a mode that is not one is refused
if "$tool" -m sendfile,nonsense -d "$tmp" >"$tmp/out" 2>&1; then fail "unknown mode accepted"; fi
grep -q "unknown mode 'nonsense'" "$tmp/out" || fail "unknown mode not named"
echo "crypto-floor: every mode delivered verified bytes"
