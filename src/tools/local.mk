# src/tools: see the issue that builds it.
include src/tools/client.mk
