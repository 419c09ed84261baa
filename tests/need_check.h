/* SPDX-License-Identifier: Apache-2.0 */
/* Forced into every test program when configure did not find the check library. */
#error "make check needs the check library (>= 0.10): apt-get install check (or scripts/deps.sh), then run configure again"
