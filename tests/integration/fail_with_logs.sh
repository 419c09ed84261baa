# SPDX-License-Identifier: Apache-2.0
# Sourced by the shell tests that run the daemon with its output in "$tmp": fail TEXT prints
# FAIL: TEXT, then every *.err file and daemon.log in "$tmp" (each line after its file's
# name), and exits 1.
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.err "$tmp"/daemon.log; do [ -f "$f" ] && sed "s|^|  $f: |" "$f"; done
    exit 1
}
