# SPDX-License-Identifier: Apache-2.0
"""The daemon the push benchmarks (bench-push.py, bench-merged.py) run against:
build/plain/shuffled with push_enabled on 127.0.0.1 (ephemeral ports), its config and state
in tmp, started and its port read back from --port-file."""
import json, os, subprocess, time


def start(top, tmp):
    """Returns (process, port)."""
    conf = os.path.join(tmp, "shuffled.json")
    json.dump({"listen": ["127.0.0.1"], "port": 0, "state_dir": os.path.join(tmp, "state"),
               "admin_port": 0, "push_enabled": True, "log_level": "warn"}, open(conf, "w"))
    portfile = os.path.join(tmp, "port")
    daemon = subprocess.Popen([os.path.join(top, "build/plain/shuffled"), "-c", conf, "-d", "",
                               "--port-file", portfile])
    for _ in range(300):
        if os.path.exists(portfile) and open(portfile).read().strip():
            return daemon, int(open(portfile).read())
        time.sleep(0.05)
    daemon.terminate()
    raise SystemExit("shuffled did not come up")
