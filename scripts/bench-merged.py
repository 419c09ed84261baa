#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""scripts/bench-merged.py [MIB] [CHUNK_KIB] [ROUNDS]: merged-chunk fetch through the daemon.

Lays out one merged partition of MIB MiB in CHUNK_KIB KiB chunks as Spark's merge manager
would (merge dir beside the local dir, shuffleMerged_* files placed by Spark's hash), starts
build/plain/shuffled with push_enabled on 127.0.0.1, registers an executor with the merge dir,
then ROUNDS times: MergedBlockMetaRequest, FetchShuffleBlockChunks for every chunk, and the
ChunkFetchRequests pipelined (8 in flight), checking each chunk's bytes. Prints MB/s, the
meta request round trip, and the daemon's CPU time."""
import os, socket, struct, subprocess, sys, tempfile, time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "scripts"))
import bench_daemon  # noqa: E402
mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
chunk = (int(sys.argv[2]) if len(sys.argv) > 2 else 2048) * 1024
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
APP, SUBDIRS = "app-bench", 64


def java_hash(s):
    h = 0
    for ch in s.encode("utf-16-be").hex(" ", 2).split():
        h = (h * 31 + int(ch, 16)) & 0xFFFFFFFF
    h = h - (1 << 32) if h >= 1 << 31 else h
    return 0 if h == -(1 << 31) else abs(h)


def place(d, name):
    return os.path.join(d, "%02x" % (java_hash(name) % SUBDIRS), name)


def jstr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


tmp = tempfile.mkdtemp(prefix="bench-merged-")
local, merge = os.path.join(tmp, "blockmgr-0"), os.path.join(tmp, "merge_manager_1")
os.makedirs(local)
size = mib << 20
data = os.urandom(size)
bounds = list(range(0, size, chunk)) + [size]
files = {"data": data, "index": b"".join(struct.pack(">q", b) for b in bounds),
         # one {0} bitmap per chunk (portable Roaring, one array container)
         "meta": bytes.fromhex("3a30000001000000000000001000000000" + "00") * (len(bounds) - 1)}
for ext, content in files.items():
    p = place(merge, "shuffleMerged_%s_0_0_0.%s" % (APP, ext))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(content)
daemon, port = bench_daemon.start(top, tmp)
try:
    sock = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()

    def recv_frame():
        while len(buf) < 8 or len(buf) < struct.unpack(">q", buf[:8])[0]:
            more = sock.recv(1 << 20)
            if not more:
                raise SystemExit("daemon closed the connection")
            buf.extend(more)
        n = struct.unpack(">q", buf[:8])[0]
        frame = bytes(buf[8:n])
        del buf[:n]
        return frame[0], frame[1:]

    def rpc(rid, body):
        sock.sendall(struct.pack(">qbqi", 21 + len(body), 3, rid, len(body)) + body)
        t, rest = recv_frame()
        if t != 4:
            raise SystemExit("RPC failed: %r" % rest[12:300])
        return rest[12:]

    mgr = 'org.apache.spark.shuffle.sort.SortShuffleManager:{"mergeDir":"merge_manager_1",' \
          '"attemptId":"1"}}}'
    rpc(1, b"\x02" + jstr(APP) + jstr("1") + struct.pack(">i", 1) + jstr(local)
        + struct.pack(">i", SUBDIRS) + jstr(mgr))
    nchunks = len(bounds) - 1
    for r in range(rounds):
        t0 = time.perf_counter()
        req = struct.pack(">bq", 11, 100 + r) + jstr(APP) + struct.pack(">iii", 0, 0, 0)
        sock.sendall(struct.pack(">q", 8 + len(req)) + req)
        t, rest = recv_frame()
        meta_ms = (time.perf_counter() - t0) * 1e3
        assert t == 12 and struct.unpack(">i", rest[8:12])[0] == nchunks, (t, rest[:40])
        cpu0 = sum(float(x) for x in open("/proc/%d/stat" % daemon.pid).read().split()[13:15])
        t0 = time.perf_counter()
        body = (b"\x0f" + jstr(APP) + jstr("1") + struct.pack(">iiii", 0, 0, 1, 0)
                + struct.pack(">ii", 1, nchunks)
                + b"".join(struct.pack(">i", c) for c in range(nchunks)))
        handle = rpc(200 + r, body)
        stream = struct.unpack(">q", handle[1:9])[0]
        sent = got = 0
        while got < nchunks:
            while sent < nchunks and sent - got < 8:
                sock.sendall(struct.pack(">qbqi", 21, 0, stream, sent))
                sent += 1
            t, rest = recv_frame()
            idx = struct.unpack(">i", rest[8:12])[0]
            assert t == 1 and rest[12:] == data[bounds[idx]:bounds[idx + 1]], (t, idx)
            got += 1
        secs = time.perf_counter() - t0
        cpu1 = sum(float(x) for x in open("/proc/%d/stat" % daemon.pid).read().split()[13:15])
        ticks = os.sysconf("SC_CLK_TCK")
        print("round %d: %d chunks of %d KiB, %.1f MB/s, meta round trip %.2f ms, "
              "daemon CPU %.2f s per GB" % (r, nchunks, chunk >> 10, size / secs / 1e6, meta_ms,
                                           (cpu1 - cpu0) / ticks / (size / 1e9)))
finally:
    daemon.terminate()
    daemon.wait()
    subprocess.run(["rm", "-rf", tmp])
