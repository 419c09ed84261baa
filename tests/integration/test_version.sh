#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every installed binary answers --version with its name, the package version and the
# license, and exits 0 without doing anything else.
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/config.h")
test -n "$version" || { echo "FAIL: no PACKAGE_VERSION in $build/config.h"; exit 1; }
for bin in shuffled src/tools/shuffle-fetch src/tools/shuffle-bench gen-shuffle-data \
    src/tools/shuffledctl src/tools/shuffle-rpc; do
    name=${bin##*/}
    out=$("$build/$bin" --version) || { echo "FAIL: $name --version exited $?"; exit 1; }
    echo "$out"
    [ "$(echo "$out" | head -n1)" = "$name (shuffled) $version" ] ||
        { echo "FAIL: $name --version does not start with '$name (shuffled) $version'"; exit 1; }
    echo "$out" | grep -q '^License: Apache-2.0' || { echo "FAIL: $name names no license"; exit 1; }
    "$build/$bin" --help | grep -q -- '--version' || { echo "FAIL: $name --help omits --version"; exit 1; }
done
echo "PASS"
