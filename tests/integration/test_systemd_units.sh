#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units: `systemd-analyze verify` accepts them (directives, types, the
# socket/service pair) and `systemd-analyze security` rates the service's hardening
# at most 2.0 ("OK"). The service's ExecStart must name an executable file, so the
# test verifies a copy whose @sbindir@ points at the built daemon (or a stand-in).
# One listen story: the socket unit, the installed config (conf/shuffled.system.json) and
# the daemon's reading of it agree on address, port and backlog; the unit grants the
# daemon's default state_dir (StateDirectory= under /var/lib, else ReadWritePaths=) and the
# tmpfiles.d snippet creates it for the sysusers.d account the unit runs as.
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
    NoNewPrivileges=yes PrivateTmp=yes \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' LimitNOFILE=1048576; do
    grep -qF "$key" "$tmp/shuffled.service" || { echo "FAIL: service lacks $key"; exit 1; }
done
grep -qx 'ListenStream=0.0.0.0:7337' "$tmp/shuffled.socket" || { echo "FAIL: socket not on 0.0.0.0:7337"; exit 1; }

echo "== one listen story, the state dir, the account"
syscfg=$build/conf/shuffled.system.json
test -f "$syscfg" || { echo "FAIL: $syscfg was not generated"; exit 1; }
if [ -x "$build/shuffled" ]; then
    "$build/shuffled" -T -c "$syscfg" >"$tmp/effective.json" 2>/dev/null ||
        { echo "FAIL: the installed config does not validate"; exit 1; }
else
    cp "$syscfg" "$tmp/effective.json"
fi
python3 - "$tmp/effective.json" "$tmp/shuffled.socket" "$tmp/shuffled.service" \
    "$build/systemd/tmpfiles.d/shuffled.conf" "$src/systemd/sysusers.d/shuffled.conf" <<'PY' || exit 1
import json, sys
cfg = json.load(open(sys.argv[1]))
socket = dict(l.split("=", 1) for l in open(sys.argv[2]).read().splitlines() if "=" in l and not l.startswith("#"))
service = open(sys.argv[3]).read().splitlines()
tmpfiles = [l.split() for l in open(sys.argv[4]) if l.strip() and not l.startswith("#")]
sysusers = [l.split() for l in open(sys.argv[5]) if l.strip() and not l.startswith("#")]
def fail(msg):
    print("FAIL:", msg); sys.exit(1)
addr, port = socket["ListenStream"].rsplit(":", 1)
if cfg["listen"] != [addr] or cfg["port"] != int(port):
    fail("config listens on %s port %s, the socket on %s" % (cfg["listen"], cfg["port"], socket["ListenStream"]))
if cfg["listen_backlog"] != int(socket["Backlog"]):
    fail("config listen_backlog %s, socket Backlog=%s" % (cfg["listen_backlog"], socket["Backlog"]))
state = cfg["state_dir"]
grants = ["StateDirectory=" + state[len("/var/lib/"):]] if state.startswith("/var/lib/") else ["ReadWritePaths=" + state]
if not any(l in service for l in grants):
    fail("the unit does not grant state_dir %s (%s)" % (state, grants))
user = [l.split("=", 1)[1] for l in service if l.startswith("User=")]
group = [l.split("=", 1)[1] for l in service if l.startswith("Group=")]
if [["d", state, "0750", user[0], group[0], "-"]] != tmpfiles:
    fail("tmpfiles.d does not create %s for %s: %s" % (state, user, tmpfiles))
if not any(e[0] == "u" and e[1] == user[0] for e in sysusers):
    fail("sysusers.d does not create the unit's user %s" % user)
print("listen %s:%s backlog %s, state_dir %s, user %s: agree" % (addr, port, socket["Backlog"], state, user[0]))
PY

echo "== systemd-analyze security"
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    systemd-analyze security --offline=true --threshold=20 "$tmp/shuffled.service" >"$tmp/sec.out" 2>&1 ||
        { cat "$tmp/sec.out"; echo "FAIL: exposure above 2.0"; exit 1; }
    grep 'Overall exposure' "$tmp/sec.out"
else
    echo "(this systemd-analyze cannot rate unit files offline; security rating not checked)"
fi
echo "PASS"
