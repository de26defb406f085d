"""Slow start (SPEC §2 pools.slow_start) in a real ebb-lb: a backend added healthy later gets a
small share at first and its full share once the ramp is over, because the control plane
rebuilds the pool's selector every 500 ms while the backend ramps."""
import json
import re
import time

import ebbtest
from proxy_support import backends, lb_config, request, start_backend, start_lb


def admin_port(text):
    return int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', text).group(1))


def share_of(lport, name, n):
    got = [request(lport, "GET", "/").header("x-backend") for _ in range(n)]
    return got.count(name) / n


def test_added_backend_ramps_up_over_slow_start(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    p1, _ = start_backend(procs, "b1")
    lport = ebbtest.free_port()
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": "app"}],
                     [{"name": "app", "backends": backends(p0), "slow_start": "2s",
                       "balance": "round_robin"}])
    aport = admin_port(text)
    start_lb(procs, tmp_path, text, wait_ports=(lport, aport))

    r = request(aport, "POST", "/api/v1/pools/app/backends", headers={"Content-Type": "application/json"},
                body=json.dumps({"address": f"127.0.0.1:{p1}"}).encode())
    assert r.status == 201 and json.loads(r.body)["state"] == "healthy"
    added = time.monotonic()
    # First ~0.4 s of the ramp: the new backend's factor is at most ~0.2 (bounded loop).
    early = []
    while time.monotonic() - added < 0.4 and len(early) < 400:
        early.append(request(lport, "GET", "/").header("x-backend"))
    assert len(early) >= 10, "too few requests to judge the early share"
    early_share = early.count("b1") / len(early)
    assert early_share < 0.3, early_share
    # After the ramp (2 s) it gets its full half: the selector was rebuilt without any
    # membership change. Poll with a deadline.
    ebbtest.wait_until(lambda: share_of(lport, "b1", 20) >= 0.45, 6, interval=0.1,
                       what="b1 reaches its full share")
    assert time.monotonic() - added >= 1.0  # it did ramp, not jump
