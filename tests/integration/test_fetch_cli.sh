#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# shuffle-fetch's first-contact behaviour: it refuses to write blocks to a terminal (tried
# on a pty) and says how to write them; a closed port fails in under a second with the
# system's reason (retries are for failures once connected); each bad option value is
# reported naming its option.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
fetch=$build/src/tools/shuffle-fetch
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

echo "== stdout is a terminal"
python3 - "$fetch" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "127.0.0.1:1", "app", "0", "shuffle_0_0_0"])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
text = out.decode(errors="replace")
print(text.strip())
if os.WEXITSTATUS(status) != 2 or "not writing binary blocks to a terminal" not in text or "-o DIR" not in text:
    print("FAIL: exit %d, want 2 and the refusal naming -o" % os.WEXITSTATUS(status))
    sys.exit(1)
PY

echo "== a closed port"
python3 - "$fetch" <<'PY'
import os, socket, subprocess, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()  # bound, never listened, closed: nothing accepts on it
start = time.monotonic()
p = subprocess.run([sys.argv[1], "-q", "127.0.0.1:%d" % port, "app", "0", "shuffle_0_0_0"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
took = time.monotonic() - start
err = p.stderr.decode()
print(err.strip(), "(%.3f s)" % took)
if p.returncode != 1 or "Connection refused" not in err or took >= 1.0:
    print("FAIL: want exit 1 with 'Connection refused' in under 1 s")
    sys.exit(1)
PY

echo "== option errors name the option"
expect_error() { # OPTION-NAMED-IN-ERROR ARGS...
    named=$1; shift
    if out=$("$fetch" 127.0.0.1:1 app 0 "$@" 2>&1 >/dev/null); then
        echo "FAIL: $* was accepted"; exit 1
    else
        rc=$?
    fi
    echo "$* -> $(echo "$out" | head -n1)"
    [ "$rc" -eq 2 ] || { echo "FAIL: $* exited $rc, not 2"; exit 1; }
    echo "$out" | head -n1 | grep -q -- "$named" || { echo "FAIL: the error does not name $named"; exit 1; }
}
expect_error --retries --retries abc
expect_error --parallel --parallel 0
expect_error --max-blocks --max-blocks -5
expect_error --timeout --timeout 10x
expect_error --to-file-threshold --to-file-threshold ''
expect_error --bogus --bogus
expect_error "'o'" -o
echo "PASS"
