# SPDX-License-Identifier: Apache-2.0
# src/tools: see the issue that builds it.
include src/tools/client.mk
