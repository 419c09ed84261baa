# src/server: see the issue that builds it.
