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

        # Two requests held in flight at x: two upstream connections. Letting one finish leaves
        # its connection idle in ebb-lb's keep-alive pool; the other stays in flight.
        a, b = connect(lport, 20), connect(lport, 20)
        send_request(a, "GET", "/x/held")
        ebbtest.wait_until(lambda: x.held() == 1, 10, what="first request held")
        send_request(b, "GET", "/x/held")
        ebbtest.wait_until(lambda: x.held() == 2, 10, what="second request held")
        x.release(1)
        ra, rb = Reader(a), Reader(b)
        # Whichever finished first: find it without blocking on the other.
        done = []

        def read(name, rd):
            done.append((name, rd.read_response()))

        threads = [threading.Thread(target=read, args=(n, rd), daemon=True) for n, rd in (("a", ra), ("b", rb))]
        for t in threads:
            t.start()
        ebbtest.wait_until(lambda: done, 10, what="one held request answered")
        assert done[0][1].status == 200
        assert x.stats()["open"] == 2  # one idle in ebb-lb's pool, one in flight
        assert x.stats()["accepted"] == 2

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

        # The idle connection closes within a bounded time; the in-flight one stays.
        ebbtest.wait_until(lambda: x.stats()["open"] == 1, 5, what="the idle upstream connection to close")
        assert x.held() == 1
        # The in-flight request completes; its connection is not parked for a draining backend.
        x.release(1)
        ebbtest.wait_until(lambda: len(done) == 2, 10, what="the in-flight request to complete")
        for t in threads:
            t.join(5)
        assert [r.status for _, r in done] == [200, 200]
        ebbtest.wait_until(lambda: x.stats()["open"] == 0, 5, what="the last upstream connection to close")
        assert x.stats()["accepted"] == 2
        # New requests avoid x (the pool has no other backend).
        assert request(lport, "GET", "/x/ok").status == 503
        assert request(lport, "GET", "/").status == 200
        a.close()
        b.close()
        lb.signal(signal.SIGTERM)
        assert lb.wait(20) == 0, lb.stderr()
    finally:
        x.stop()
