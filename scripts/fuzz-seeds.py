#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fuzz-seeds.py TARGET DIR: writes a seed corpus for a fuzz target from the
captured vectors: every whole c2s/s2c stream (split into 64 KiB pieces), each
frame alone, and for fuzz_blockmsg, fuzz_blockrpc and fuzz_push_block_view each RPC body alone."""
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
        if target in ("fuzz_blockmsg", "fuzz_blockrpc", "fuzz_push_block_view"):
            for frame, typ in frames(data):
                if typ in (3, 4):
                    put(frame[21:])
                elif typ == 9:
                    put(frame[13:])
        else:
            put(data)
            for frame, _ in frames(data):
                put(frame)
if target == "fuzz_blockrpc":
    # requests for the executor the target registers (app-1/0 holds shuffle_0_0, rdd_0_0),
    # so mutations start from bodies that reach resolution
    def s(x):
        return struct.pack(">i", len(x)) + x
    def strs(xs):
        return struct.pack(">i", len(xs)) + b"".join(s(x) for x in xs)
    put(bytes([0]) + s(b"app-1") + s(b"0") + strs([b"shuffle_0_0_0", b"shuffle_0_0_2", b"shuffle_0_0_7"]))
    put(bytes([0]) + s(b"app-1") + s(b"0") + strs([b"rdd_0_0", b"rdd_0_1"]))
    for batch in (0, 1):
        reduces = [0, 3] if batch else [0, 1, 2]
        put(bytes([9]) + s(b"app-1") + s(b"0") + struct.pack(">i", 0) + struct.pack(">iq", 1, 0)
            + struct.pack(">i", 1) + struct.pack(">i", len(reduces))
            + b"".join(struct.pack(">i", r) for r in reduces) + bytes([batch]))
    put(bytes([7]) + s(b"app-1") + s(b"0") + strs([b"rdd_0_0", b"../x"]))
    put(bytes([10]) + s(b"app-1") + strs([b"0", b"0"]))
    # push-based shuffle's read side and DiagnoseCorruption (the target has a merged partition
    # shuffle 0 / merge 0 / reduce 0 of two chunks, and shuffle_0_0's ADLER32 checksum file)
    put(bytes([15]) + s(b"app-1") + s(b"0") + struct.pack(">ii", 0, 0) + struct.pack(">ii", 1, 0)
        + struct.pack(">i", 1) + struct.pack(">iii", 2, 0, 1))
    put(bytes([0]) + s(b"app-1") + s(b"0") + strs([b"shuffleChunk_0_0_0_0", b"shuffleChunk_0_0_0_1"]))
    for algo, reduce in ((b"ADLER32", 1), (b"CRC32", 0), (b"MD5", 2)):
        put(bytes([16]) + s(b"app-1") + s(b"0") + struct.pack(">iqiq", 0, 0, reduce, 1) + s(algo))
if target == "fuzz_saslmsg":
    # the spec's first SaslMessage, a digest-response one, and a secret-like string
    put(bytes.fromhex("ea000000056170702d3100000000"))
    tok = (b'charset=utf-8,username="c3BhcmtTYXNsVXNlcg==",realm="default",nonce="abc",'
           b'nc=00000001,cnonce="def",digest-uri="null/default",maxbuf=65536,'
           b'response=a7983c77192e773f3e847f59567fa3d5,qop=auth')
    put(bytes([0xea]) + struct.pack(">i", 5) + b"app-1" + struct.pack(">i", len(tok)) + tok)
    put(b"0123456789abcdef" * 4)
if target.startswith("fuzz_aes"):
    # the AES auth bodies of every recorded session (../shared/vectors-aes, -35, -40): the
    # first frame of each direction; the rest of those captures is ciphertext
    for d in ("vectors-aes/auth-aes-31", "vectors-35/auth-aes-35", "vectors-40/auth-aes-v1-40",
              "vectors-40/auth-aes-v2"):
        for side in ("c2s.bin", "s2c.bin"):
            p = os.path.join(shared, d, side)
            if os.path.isfile(p):
                data = open(p, "rb").read()
                put(data[21:struct.unpack(">q", data[:8])[0]])
if target == "fuzz_rpc_envelope":
    # RPC envelopes (docs/rpc.md): full addresses, none, and an empty payload
    def addr(host, port):
        return b"\x01" + struct.pack(">H", len(host)) + host + struct.pack(">i", port)
    def name(x):
        return struct.pack(">H", len(x)) + x
    put(addr(b"127.0.0.1", 40000) + addr(b"10.0.0.2", 7077) + name(b"echo") + b"payload")
    put(b"\x00" + addr(b"node-b", 1) + name(b"counter"))
    put(b"\x00\x00" + name(b"endpoint-verifier") + b"echo")
if target == "fuzz_gcm_message":
    # the GCM client streams of ../shared/vectors-40 (after the plaintext auth frame), each
    # behind the selector byte (16-byte key, whole; 32-byte key, in 98-byte pieces)
    for d in ("gcm-v1", "gcm-v2", "gcm-v2-length-boundary", "gcm-4.0.0-first-message"):
        p = os.path.join(shared, "vectors-40", d, "c2s.bin")
        if os.path.isfile(p):
            data = open(p, "rb").read()
            rest = data[struct.unpack(">q", data[:8])[0]:]
            put(bytes([0x00]) + rest)
            put(bytes([0x03]) + rest)
if target == "fuzz_sasl_frames":
    # pieces: one whole, two back to back, a tiny length, a negative one
    put(struct.pack(">q", 8 + 4 + 5) + b"\0\0\0\0hello")
    put((struct.pack(">q", 8 + 4 + 3) + b"\0\0\0\0abc") * 2)
    put(struct.pack(">q", 9) + b"x")
    put(struct.pack(">q", -1) + b"y" * 16)
print("seeds:", n, file=sys.stderr)
if target == "fuzz_push_upload":
    # Spark 3.5's pushes, finalizes and merge removals, whole streams and cut short
    for scen in ("push-blocks", "finalize-merge", "remove-shuffle-merge"):
        data = open(os.path.join(shared, "vectors-35", scen, "c2s.bin"), "rb").read()
        put(data)
        put(data[:len(data) // 2])
if target == "fuzz_merge_journal":
    # merges.wal records: "SHM1" | length | CRC32 | op, app, attempt, shuffle, mergeId [...]
    import zlib
    def rec(op, attempt, tail=b""):
        p = struct.pack(">bi", op, 7) + b"app-cap" + struct.pack(">iii", attempt, 0, 0) + tail
        return struct.pack(">III", 0x53484D31, len(p), zlib.crc32(p)) + p
    dirs = [b"/data/a/merge_manager_1", b"/data/b/merge_manager_1"]
    attempt = struct.pack(">ii", 64, len(dirs)) + b"".join(struct.pack(">i", len(d)) + d for d in dirs)
    commit = struct.pack(">iiqb", 0, 3, 100, 0)
    log = rec(5, 1, attempt) + rec(1, 1, commit) + rec(2, 1) + rec(5, 2, attempt) + \
        rec(1, 2, commit) + rec(3, 2) + rec(4, 2)
    put(log)
    put(log[:len(log) - 5])
    # a partition record (op 6): reduce, data, index and meta lengths, the map indexes {3, 5}
    # as CRoaring's roaring_bitmap_portable_serialize writes them (checked against it)
    maps = bytes.fromhex("3a30000001000000000001001000000003000500")
    part = struct.pack(">iqqqi", 0, 100, 16, 20, len(maps)) + maps
    folded = rec(5, 1, attempt) + rec(6, 1, part) + rec(2, 1) + rec(1, 1, commit) + \
        rec(4, 1, b"\x01")  # removed with cleanup
    put(folded)
    put(folded[:len(folded) - 30])
