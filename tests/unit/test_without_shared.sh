#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A suite that replays ../shared's vectors is skipped (77) with a message naming where it
# looked, not failed, when they are absent (a release tarball, a checkout without shared/).
set -eu
build=${SHUFFLE_BUILDDIR:-$(pwd)}
out=$(SHUFFLE_SHARED_DIR=/nonexistent/shuffled-shared "$build/tests/unit/test_vectors" 2>&1) && rc=0 || rc=$?
echo "$out"
[ "$rc" -eq 77 ] || { echo "FAIL: exit $rc, not 77 (skip)"; exit 1; }
echo "$out" | grep -q '^SKIP: the shared test vectors are not at /nonexistent/shuffled-shared/vectors' ||
    { echo "FAIL: no message naming the missing vectors"; exit 1; }
echo "PASS"
