#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""scripts/bench-push.py [MAPPERS] [REDUCES] [BLOCK_KIB] [WINDOW]: merging through the daemon.

Starts build/plain/shuffled with push_enabled on 127.0.0.1, registers an executor with a merge
dir, then MAPPERS connections (one thread each) push a block of BLOCK_KIB KiB to each of
REDUCES partitions, in an order of their own (as Spark's pushers shuffle theirs), WINDOW
pushes in flight per connection; then FinalizeShuffleMerge. Prints pushed blocks/s, MB/s, the
p50/p99 push latency (request sent to BlockPushReturnCode read), the return codes, finalize's
round trip, and the daemon's CPU time per GB merged and peak RSS. The client is Python: on a
small machine it, not the daemon, is what runs out of CPU first."""
import os, random, socket, struct, subprocess, sys, tempfile, threading, time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(top, "scripts"))
import bench_daemon  # noqa: E402
mappers = int(sys.argv[1]) if len(sys.argv) > 1 else 8
reduces = int(sys.argv[2]) if len(sys.argv) > 2 else 500
size = (int(sys.argv[3]) if len(sys.argv) > 3 else 16) * 1024
window = int(sys.argv[4]) if len(sys.argv) > 4 else 16
APP = "app-bench"


def jstr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def frame(kind, header, body=b""):
    return struct.pack(">qb", 9 + len(header) + len(body), kind) + header + body


def rpc(request_id, body):
    return frame(3, struct.pack(">qi", request_id, len(body)), body)


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def frame(self):
        while len(self.buf) < 8 or len(self.buf) < struct.unpack(">q", self.buf[:8])[0]:
            got = self.sock.recv(1 << 16)
            if not got:
                raise EOFError("daemon closed the connection")
            self.buf += got
        n = struct.unpack(">q", self.buf[:8])[0]
        f, self.buf = self.buf[:n], self.buf[n:]
        return f


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


tmp = tempfile.mkdtemp(prefix="bench-push-")
local = os.path.join(tmp, "blockmgr-0")
os.makedirs(local)
for i in range(64):  # the executor makes the merge dir and its sub dirs, not the service
    os.makedirs(os.path.join(tmp, "merge_manager_1", "%02x" % i))
daemon, port = bench_daemon.start(top, tmp)
try:
    ctl = socket.create_connection(("127.0.0.1", port))
    manager = ('org.apache.spark.shuffle.sort.SortShuffleManager:'
               '{"mergeDir":"merge_manager_1","attemptId":"1"}}}')
    ctl.sendall(rpc(1, bytes([2]) + jstr(APP) + jstr("1") + struct.pack(">i", 1) + jstr(local) +
                    struct.pack(">i", 64) + jstr(manager)))
    assert Reader(ctl).frame()[8] == 4, "RegisterExecutor failed"

    latencies, codes, lock = [], {}, threading.Lock()

    def mapper(m):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rd, body = Reader(sock), os.urandom(size)
        order = list(range(reduces))
        random.Random(m).shuffle(order)
        sent, mine, mycodes = {}, [], {}

        def send(r):
            meta = bytes([12]) + jstr(APP) + struct.pack(">iiiiii", 1, 0, 0, m, r, r)
            sent[r] = time.perf_counter()
            sock.sendall(frame(10, struct.pack(">qi", r, len(meta)) + meta +
                               struct.pack(">q", size)) + body)

        for r in order[:window]:
            send(r)
        nxt = window
        for _ in range(reduces):
            f = rd.frame()
            assert f[8] == 4 and f[21] == 0x12, "push not answered with a BlockPushReturnCode"
            r = struct.unpack(">q", f[9:17])[0]
            mine.append(time.perf_counter() - sent.pop(r))
            mycodes[f[22]] = mycodes.get(f[22], 0) + 1
            if nxt < reduces:
                send(order[nxt])
                nxt += 1
        sock.close()
        with lock:
            latencies.extend(mine)
            for k, v in mycodes.items():
                codes[k] = codes.get(k, 0) + v

    cpu0, start = cpu_seconds(daemon.pid), time.perf_counter()
    threads = [threading.Thread(target=mapper, args=(m,)) for m in range(mappers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    t0 = time.perf_counter()
    ctl.sendall(rpc(2, bytes([13]) + jstr(APP) + struct.pack(">iii", 1, 0, 0)))
    statuses = Reader(ctl).frame()
    fin_ms = (time.perf_counter() - t0) * 1000
    cpu = cpu_seconds(daemon.pid) - cpu0
    n, merged = mappers * reduces, codes.get(0, 0) * size
    latencies.sort()
    print("pushed %d blocks of %d KiB in %.2f s: %.0f blocks/s, %.1f MB/s; latency p50 %.2f ms, "
          "p99 %.2f ms; codes %s" % (n, size // 1024, took, n / took, n * size / took / 1e6,
                                      latencies[n // 2] * 1000, latencies[n * 99 // 100] * 1000,
                                      dict(sorted(codes.items()))))
    print("finalize: %.1f ms (%d bytes of MergeStatuses); daemon: %.2f s CPU (%.1f s per GB "
          "merged), peak RSS %d KiB" % (fin_ms, len(statuses), cpu, cpu / (merged / 1e9),
                                        peak_rss_kib(daemon.pid)))
finally:
    daemon.terminate()
    daemon.wait()
    subprocess.call(["rm", "-rf", tmp])
