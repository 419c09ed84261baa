#!/usr/bin/env bash
# scripts/build.sh NAME [configure args...]: bootstraps autotools once and
# builds out of tree in build/NAME. Prints the build dir. Warnings are errors here
# (--enable-werror), as in scripts/test and CI; a plain ./configure leaves them warnings.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
name=$1; shift
set -- --enable-werror "$@"
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
    autoreconf -fi >&2
fi
mkdir -p "build/$name"
cd "build/$name"
if [ ! -f Makefile ] || [ ! -f .configure-args ] || [ "$(cat .configure-args)" != "$*" ]; then
    "$top/configure" "$@" >&2
    echo "$*" > .configure-args
fi
make -j"$(nproc)" >&2
echo "$top/build/$name"
