#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/build.sh NAME [configure args...]: bootstraps autotools once and
# builds out of tree in build/NAME. Prints the build dir. Warnings are errors here
# (--enable-werror), as in scripts/test and CI; a plain ./configure leaves them warnings.
# Env: BUILD_TARGETS, the make targets to build (default: all).
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
    # objects built with other flags are not rebuilt by make itself
    if [ -f Makefile ]; then make clean >/dev/null 2>&1 || true; fi
    "$top/configure" "$@" >&2
    echo "$*" > .configure-args
fi
# shellcheck disable=SC2086 # a list of targets
make -j"$(nproc)" ${BUILD_TARGETS:-} >&2
echo "$top/build/$name"
