# SPDX-License-Identifier: Apache-2.0
# Manual pages: the daemon (8) and its configuration file (5).
dist_man_MANS += man/shuffled.8 man/shuffled.json.5
