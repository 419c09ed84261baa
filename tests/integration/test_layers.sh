#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The layer rule (docs/architecture.md): calls go down only, so no two files of src/ reach
# each other, by #include or by a call between their objects. scripts/check-layers lists
# every circle among the modules of the source tree, with the call edges read (nm) from this
# build's objects, which make check has just built; any circle fails. First a small tree
# with a circle of each kind shows the checker finds them here (nm and its output as expected).
set -eu
src=${SHUFFLE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SHUFFLE_BUILDDIR:-$(pwd)}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: no nm"; exit 77; }
check() { python3 "$src/scripts/check-layers" "$@"; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shuffle-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The control: x/up and x/down call each other (no include says so); x/inc_a.h and
# x/inc_b.h include each other.
if command -v cc >/dev/null 2>&1; then
    mkdir -p "$tmp/src/x" "$tmp/build/src/x"
    printf 'int down(int);\nint up(int n) { return n ? down(n - 1) : 0; }\n' >"$tmp/src/x/up.c"
    printf 'int up(int);\nint down(int n) { return n ? up(n - 1) : 1; }\n' >"$tmp/src/x/down.c"
    printf '#include "x/inc_b.h"\n' >"$tmp/src/x/inc_a.h"
    printf '#include "inc_a.h"\n' >"$tmp/src/x/inc_b.h"
    for m in up down; do
        cc -c -o "$tmp/build/src/x/$m.o" "$tmp/src/x/$m.c"
    done
    if check "$tmp/src" "$tmp/build" >"$tmp/control" 2>&1; then
        cat "$tmp/control"
        echo "FAIL: check-layers found no circle in a tree that has two"
        exit 1
    fi
    for circle in 'x/down <-> x/up' 'x/inc_a <-> x/inc_b'; do
        grep -qx "circle: $circle" "$tmp/control" ||
            { cat "$tmp/control"; echo "FAIL: check-layers missed $circle"; exit 1; }
    done
else
    echo "no C compiler (cc): the control tree is left out"
fi

# The tree itself, with this build's objects.
if ! check "$src/src" "$build" >"$tmp/out" 2>&1; then
    cat "$tmp/out"
    echo "FAIL: circles between modules of src/ (see docs/architecture.md, The rule)"
    exit 1
fi
cat "$tmp/out"
