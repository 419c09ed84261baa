#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian packages as an operator installs them: scripts/package builds them; unpacked
# into a scratch root (dpkg -x) they hold exactly the expected files (config a conffile,
# soname libshuffle.so.1); the unit names the packaged daemon and config, which validates
# with it and agrees with the socket unit; the sysusers.d and tmpfiles.d snippets create the
# unit's account and state dir; `systemd-analyze verify` accepts the installed units within
# that root, and `systemd-analyze security` rates the service at most 2.0. As root, the
# postinst steps (systemd-sysusers, systemd-tmpfiles) run with --root and are checked too.
# Skipped (77) without the Debian build tools (dpkg-buildpackage, debhelper's dh).
set -eu
for tool in dpkg-buildpackage dh dpkg-architecture systemd-analyze python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not installed (Debian packages dpkg-dev, debhelper, systemd, python3)"
        exit 77
    fi
done
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffled-packages.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== scripts/package"
if ! "$src/scripts/package" "$tmp/debs" >"$tmp/package.log" 2>&1; then
    tail -n 40 "$tmp/package.log"
    echo "FAIL: scripts/package"
    exit 1
fi
root=$tmp/root
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for pkg in shuffled libshuffle1 libshuffle-dev shuffle-tools; do
    deb=$(ls "$tmp/debs/${pkg}"_*.deb 2>/dev/null | head -n1)
    test -n "$deb" || { echo "FAIL: no $pkg package"; exit 1; }
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||' | grep -v '^/usr/share/doc/' |
        sort >"$tmp/$pkg.files"
    dpkg -x "$deb" "$root"
done

echo "== file lists"
expect() { # PACKAGE FILE...
    pkg=$1; shift
    printf '%s\n' "$@" | sort >"$tmp/$pkg.expected"
    if ! diff -u "$tmp/$pkg.expected" "$tmp/$pkg.files"; then
        echo "FAIL: $pkg does not hold the expected files (- expected, + packaged)"
        exit 1
    fi
}
expect shuffled /usr/sbin/shuffled /usr/bin/shuffledctl /usr/share/man/man8/shuffledctl.8.gz \
    /etc/shuffled/shuffled.json \
    /lib/systemd/system/shuffled.service /lib/systemd/system/shuffled.socket \
    /usr/lib/sysusers.d/shuffled.conf /usr/lib/tmpfiles.d/shuffled.conf \
    /usr/share/man/man8/shuffled.8.gz /usr/share/man/man5/shuffled.json.5.gz
expect libshuffle1 "/usr/lib/$ma/libshuffle.so.1" "/usr/lib/$ma/libshuffle.so.1.1.0"
expect libshuffle-dev /usr/include/shuffle/client.h /usr/include/shuffle/push.h \
    /usr/include/shuffle/sync.h /usr/include/shuffle/rpc.h \
    "/usr/lib/$ma/libshuffle.so" "/usr/lib/$ma/pkgconfig/libshuffle.pc" \
    /usr/share/man/man3/libshuffle.3.gz
expect shuffle-tools /usr/bin/shuffle-fetch /usr/bin/shuffle-bench /usr/bin/gen-shuffle-data \
    /usr/share/man/man1/shuffle-fetch.1.gz /usr/share/man/man1/shuffle-bench.1.gz \
    /usr/share/man/man1/gen-shuffle-data.1.gz \
    /usr/bin/shuffle-rpc /usr/share/man/man1/shuffle-rpc.1.gz \
    /usr/bin/shuffle-push /usr/share/man/man1/shuffle-push.1.gz
test -d "$root/etc/shuffled/conf.d" || { echo "FAIL: no /etc/shuffled/conf.d"; exit 1; }
dpkg-deb -I "$tmp/debs/"shuffled_*.deb conffiles | grep -qx /etc/shuffled/shuffled.json ||
    { echo "FAIL: /etc/shuffled/shuffled.json is not a conffile"; exit 1; }
objdump -p "$root/usr/lib/$ma/libshuffle.so.1.1.0" | grep -q 'SONAME *libshuffle.so.1$' ||
    { echo "FAIL: soname is not libshuffle.so.1"; exit 1; }
grep -qx 'License: Apache-2.0' "$root/usr/lib/$ma/pkgconfig/libshuffle.pc" ||
    { echo "FAIL: libshuffle.pc does not name the license"; exit 1; }

echo "== the unit's paths"
unit=$root/lib/systemd/system/shuffled.service
grep -qx 'ExecStart=/usr/sbin/shuffled -c /etc/shuffled/shuffled.json' "$unit" ||
    { echo "FAIL: ExecStart is not the packaged daemon with the packaged config"; exit 1; }
grep -qx 'StateDirectory=shuffled' "$unit" || { echo "FAIL: no StateDirectory=shuffled"; exit 1; }
for path in $(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' "$unit" | sort -u); do
    case $path in /bin/kill) continue ;; esac
    test -x "$root$path" || { echo "FAIL: the unit runs $path, not in the packages"; exit 1; }
done
"$root/usr/sbin/shuffled" -T -c "$root/etc/shuffled/shuffled.json" >"$tmp/effective.json" \
    2>"$tmp/validate.err" || { cat "$tmp/validate.err"; echo "FAIL: packaged config invalid"; exit 1; }
python3 - "$tmp/effective.json" "$root" <<'PY' || exit 1
import json, sys
cfg, root = json.load(open(sys.argv[1])), sys.argv[2]
def kv(path):
    return dict(l.split("=", 1) for l in open(root + path).read().splitlines()
                if "=" in l and not l.startswith("#"))
def rows(path):
    return [l.split() for l in open(root + path) if l.strip() and not l.startswith("#")]
def fail(msg):
    print("FAIL:", msg); sys.exit(1)
socket, service = kv("/lib/systemd/system/shuffled.socket"), kv("/lib/systemd/system/shuffled.service")
if cfg["state_dir"] != "/var/lib/shuffled":
    fail("packaged state_dir is %s, not StateDirectory=shuffled's /var/lib/shuffled" % cfg["state_dir"])
if socket["ListenStream"] != "%s:%d" % (cfg["listen"][0], cfg["port"]) or len(cfg["listen"]) != 1:
    fail("socket ListenStream=%s, config %s port %s" % (socket["ListenStream"], cfg["listen"], cfg["port"]))
if int(socket["Backlog"]) != cfg["listen_backlog"]:
    fail("socket Backlog=%s, config listen_backlog %s" % (socket["Backlog"], cfg["listen_backlog"]))
user, group = service["User"], service["Group"]
if ["u", user] != rows("/usr/lib/sysusers.d/shuffled.conf")[0][:2]:
    fail("sysusers.d does not create %s" % user)
if [["d", "/var/lib/shuffled", "0750", user, group, "-"]] != rows("/usr/lib/tmpfiles.d/shuffled.conf"):
    fail("tmpfiles.d does not create /var/lib/shuffled for %s:%s" % (user, group))
print("unit: %s:%s, state %s, listen %s backlog %s" % (user, group, cfg["state_dir"], socket["ListenStream"], socket["Backlog"]))
PY

echo "== postinst's account and state dir, in the scratch root"
# what dh_installsysusers' and dh_installtmpfiles' postinst snippets run, with --root
if [ "$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    systemd-sysusers --root="$root" shuffled.conf >/dev/null 2>&1 ||
        { echo "FAIL: systemd-sysusers"; exit 1; }
    grep -q '^spark:x:[0-9]*:[0-9]*:[^:]*:[^:]*:/usr/sbin/nologin$' "$root/etc/passwd" ||
        { cat "$root/etc/passwd"; echo "FAIL: no spark system account"; exit 1; }
    systemd-tmpfiles --root="$root" --create shuffled.conf || { echo "FAIL: systemd-tmpfiles"; exit 1; }
    uid=$(sed -n 's/^spark:x:\([0-9]*\):.*/\1/p' "$root/etc/passwd")
    [ "$(stat -c '%a %u' "$root/var/lib/shuffled")" = "750 $uid" ] ||
        { stat "$root/var/lib/shuffled"; echo "FAIL: /var/lib/shuffled not 0750 spark"; exit 1; }
    echo "spark uid $uid, /var/lib/shuffled 0750"
else
    echo "(not root or no systemd-sysusers: account and state dir not created)"
fi

echo "== systemd-analyze verify (within the scratch root)"
# the root gets the host's targets and /bin/kill, which the units need beside the packages
mkdir -p "$root/bin"
cp /bin/kill "$root/bin/kill"
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
if ! systemd-analyze verify --man=no --root="$root" /lib/systemd/system/shuffled.service \
    /lib/systemd/system/shuffled.socket >"$tmp/verify.out" 2>&1 || [ -s "$tmp/verify.out" ]; then
    cat "$tmp/verify.out"
    echo "FAIL: systemd-analyze verify"
    exit 1
fi
echo "== systemd-analyze security"
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    systemd-analyze security --offline=true --root="$root" --threshold=20 shuffled.service \
        >"$tmp/sec.out" 2>&1 || { cat "$tmp/sec.out"; echo "FAIL: exposure above 2.0"; exit 1; }
    grep 'Overall exposure' "$tmp/sec.out"
fi
echo "PASS"
