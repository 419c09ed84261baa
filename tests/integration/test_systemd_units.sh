#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units: `systemd-analyze verify` accepts them (directives, types, the
# socket/service pair) and `systemd-analyze security` rates the service's hardening
# at most 2.0 ("OK"). The service's ExecStart must name an executable file, so the
# test verifies a copy whose @sbindir@ points at the built daemon (or a stand-in).
set -eu
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze not installed (Debian package: systemd)"
    exit 77
fi
build=${SHUFFLE_BUILDDIR:-$(pwd)}
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

installed=$build/systemd/shuffled.service
test -f "$installed" || { echo "FAIL: $installed was not generated"; exit 1; }
# the generated unit names real paths, no placeholders left
if grep -n '@[a-z]*@' "$installed"; then echo "FAIL: unsubstituted placeholder"; exit 1; fi
grep -q '^ExecStart=/.*/shuffled -c /.*/shuffled/shuffled.json$' "$installed" ||
    { echo "FAIL: ExecStart does not run the daemon with its config"; exit 1; }

mkdir "$tmp/sbin"
if [ -x "$build/shuffled" ]; then
    ln -s "$build/shuffled" "$tmp/sbin/shuffled"
else
    cp /bin/true "$tmp/sbin/shuffled"
fi
sed -e "s|^\(Exec[A-Za-z]*=\)/[^ ]*/shuffled |\1$tmp/sbin/shuffled |" "$installed" >"$tmp/shuffled.service"
cp "$src/systemd/shuffled.socket" "$tmp/shuffled.socket"

echo "== systemd-analyze verify"
if ! systemd-analyze verify --man=no "$tmp/shuffled.service" "$tmp/shuffled.socket" 2>&1 | tee "$tmp/verify.out"; then
    echo "FAIL: systemd-analyze verify"; exit 1
fi
if [ -s "$tmp/verify.out" ]; then echo "FAIL: verify printed warnings"; exit 1; fi

for key in Type=notify WatchdogSec= 'ExecReload=/bin/kill -HUP $MAINPID' ProtectSystem=strict \
    StateDirectory=shuffled NoNewPrivileges=yes PrivateTmp=yes \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' LimitNOFILE=1048576; do
    grep -qF "$key" "$tmp/shuffled.service" || { echo "FAIL: service lacks $key"; exit 1; }
done
grep -qx 'ListenStream=7337' "$tmp/shuffled.socket" || { echo "FAIL: socket not on 7337"; exit 1; }

echo "== systemd-analyze security"
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    systemd-analyze security --offline=true --threshold=20 "$tmp/shuffled.service" >"$tmp/sec.out" 2>&1 ||
        { cat "$tmp/sec.out"; echo "FAIL: exposure above 2.0"; exit 1; }
    grep 'Overall exposure' "$tmp/sec.out"
else
    echo "(this systemd-analyze cannot rate unit files offline; security rating not checked)"
fi
echo "PASS"
