#!/usr/bin/env python3
"""fuzz-seeds.py TARGET DIR: writes a seed corpus for a fuzz target from the
captured vectors: every whole c2s/s2c stream (split into 64 KiB pieces), each
frame alone, and for fuzz_blockmsg and fuzz_blockrpc each RPC body alone."""
import os, struct, sys

target, out = sys.argv[1], sys.argv[2]
shared = os.environ.get("SHUFFLE_SHARED_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "shared")
vec = os.path.join(shared, "vectors")
n = 0

def put(data):
    global n
    with open(os.path.join(out, "seed-%04d" % n), "wb") as f:
        f.write(data[:65536])
    n += 1

def frames(data):
    pos = 0
    while pos + 9 <= len(data):
        flen = struct.unpack(">q", data[pos:pos + 8])[0]
        if flen < 9 or pos + flen > len(data):
            return
        frame = data[pos:pos + flen]
        typ = frame[8]
        extra = 0
        if typ == 7:  # StreamResponse: str id, i64 byteCount, data after the frame
            slen = struct.unpack(">i", frame[9:13])[0]
            extra = struct.unpack(">q", frame[13 + slen:21 + slen])[0]
        yield frame, typ
        pos += flen + extra

for scen in sorted(os.listdir(vec)):
    for side in ("c2s.bin", "s2c.bin"):
        p = os.path.join(vec, scen, side)
        if not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        if target in ("fuzz_blockmsg", "fuzz_blockrpc"):
            for frame, typ in frames(data):
                if typ in (3, 4):
                    put(frame[21:])
                elif typ == 9:
                    put(frame[13:])
        else:
            put(data)
            for frame, _ in frames(data):
                put(frame)
print("seeds:", n, file=sys.stderr)
