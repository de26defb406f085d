"""Issue 5, draining: idle upstream keep-alive connections to a draining backend are closed (and
a request still in flight when the drain starts completes, but its connection is not parked
afterwards). The backend is fault_backend.FaultBackend, whose own accounting counts the
connections ebb-lb keeps open to it. That in-flight requests finish while new ones avoid the
backend is tested in test_admin_api.py (test_drain_in_flight_finishes_new_requests_avoid) and
test_proxy_signals.py (test_reload_removing_backend_drains_in_flight_request)."""
import json
import re
import signal
import threading

import pytest

import ebbtest
from fault_backend import FaultBackend
from proxy_support import Reader, backends, connect, lb_config, request, send_request, start_backend

TOKEN = "drain-test-token"


def config(lport, x_addresses, good_port):
    l = {"name": "web", "listen": f"127.0.0.1:{lport}", "mode": "http", "pool": "good",
         "routes": [{"path_prefix": "/x/", "pool": "px"}]}
    px = {"name": "px", "backends": [{"address": a} for a in x_addresses], "drain_timeout": "20s",
          "idle_timeout": "60s"}
    return lb_config([l], [{"name": "good", "backends": backends(good_port)}, px])


@pytest.mark.parametrize("how", ["api", "reload"])
def test_drain_closes_idle_upstream_connections(procs, tmp_path, how):
    x = FaultBackend(name="x")
    try:
        good_port, _ = start_backend(procs, "good")
        lport = ebbtest.free_port()
        text = config(lport, [x.address], good_port)
        aport = int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', text).group(1))
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        text = text.replace("[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n')
        path = tmp_path / "lb.toml"
        path.write_text(text)
        lb = procs.start([ebbtest.binary("ebb-lb"), "-c", path], "ebb-lb")
        for port in (lport, aport):
            ebbtest.wait_until(lambda: ebbtest.port_open(port) or not lb.alive(), 10, what=f"ebb-lb on {port}")
            assert lb.alive(), lb.stderr()

        # Three requests held in flight at x: three upstream connections. Letting one finish
        # leaves its connection idle in ebb-lb's keep-alive pool; two stay in flight.
        clients = [connect(lport, 20) for _ in range(3)]
        for i, c in enumerate(clients):
            send_request(c, "GET", "/x/held")
            ebbtest.wait_until(lambda: x.held() == i + 1, 10, what=f"request {i + 1} held")
        done = []

        def read(c):
            done.append(Reader(c).read_response().status)

        threads = [threading.Thread(target=read, args=(c,), daemon=True) for c in clients]
        for t in threads:
            t.start()
        x.release(1)
        ebbtest.wait_until(lambda: len(done) == 1, 10, what="one held request answered")
        assert x.stats()["open"] == 3  # one idle in ebb-lb's pool, two in flight

        # Drain x.
        if how == "api":
            r = request(aport, "DELETE", f"/api/v1/pools/px/backends/{x.address}",
                        headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status == 202, r.body
            assert json.loads(r.body)["state"] == "draining"
        else:
            path.write_text(config(lport, [], good_port).replace(
                "[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n'))
            lb.signal(signal.SIGHUP)

        # The idle connection closes within a bounded time; the in-flight ones stay.
        ebbtest.wait_until(lambda: x.stats()["open"] == 2, 5, what="the idle upstream connection to close")
        assert x.held() == 2
        # One in-flight request completes while the drain goes on (the other one keeps x
        # draining): its connection is closed, not parked for the draining backend.
        x.release(1)
        ebbtest.wait_until(lambda: len(done) == 2, 10, what="an in-flight request to complete")
        ebbtest.wait_until(lambda: x.stats()["open"] == 1, 5, what="the finished request's connection to close")
        # The last one completes too; x has no connection left.
        x.release(1)
        ebbtest.wait_until(lambda: len(done) == 3, 10, what="the last in-flight request to complete")
        for t in threads:
            t.join(5)
        assert done == [200, 200, 200]
        ebbtest.wait_until(lambda: x.stats()["open"] == 0, 5, what="the last upstream connection to close")
        assert x.stats()["accepted"] == 3
        # New requests avoid x (the pool has no other backend).
        assert request(lport, "GET", "/x/ok").status == 503
        assert request(lport, "GET", "/").status == 200
        for c in clients:
            c.close()
        lb.signal(signal.SIGTERM)
        assert lb.wait(20) == 0, lb.stderr()
    finally:
        x.stop()
