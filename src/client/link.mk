# SPDX-License-Identifier: Apache-2.0
# src/client: the cipher seam under a connection (link.h) and the links plugged into it.
src_client_libshuffle_la_SOURCES += src/client/link.c src/client/link.h
