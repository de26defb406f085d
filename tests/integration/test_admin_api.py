"""Admin API of a real ebb-lb (SPEC §5): every route and error, token auth, draining with an
in-flight request, managed pools across reload, /metrics validated by promtool."""
import json
import os
import re
import shutil
import socket
import subprocess

import pytest

import ebbtest
from proxy_support import (admin_port, Reader, backends, connect, deadline_loop, lb_config, request,
                           send_request, start_backend, start_lb)


def api(port, method, path, body=None, token=None, raw=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    if method in ("POST", "PUT") and not data:
        headers["Content-Length"] = "0"
    r = request(port, method, path, headers=headers, body=data)
    ctype = r.header("content-type") or ""
    return r.status, (json.loads(r.body) if ctype.startswith("application/json") else r.body.decode())


def backend_of(port, path="/"):
    r = request(port, "GET", path)
    return r.status, r.header("x-backend")


def state_of(aport, pool, address):
    _, p = api(aport, "GET", f"/api/v1/pools/{pool}")
    for b in p["backends"]:
        if b["address"] == address:
            return b["state"]
    return None


def start_all(procs, tmp_path, nbackends=2, health=None, pool_extra=None, token_file=None):
    ports = [start_backend(procs, f"b{i}")[0] for i in range(nbackends)]
    lport = ebbtest.free_port()
    pool = {"name": "app", "backends": backends(*ports), "drain_timeout": "10s"}
    pool.update(pool_extra or {})
    pool["health"] = health or {"check": "http", "interval": "100ms", "timeout": "500ms",
                                "healthy_threshold": 2, "unhealthy_threshold": 2}
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": "app"}], [pool])
    aport = admin_port(text)
    if token_file:
        text = text.replace("[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n')
    lb = start_lb(procs, tmp_path, text, wait_ports=(lport, aport))
    return lb, lport, aport, ports, text


def test_read_routes(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path)
    assert api(aport, "GET", "/healthz") == (200, "ok")
    r = request(aport, "GET", "/")
    assert r.status == 200 and r.header("content-type").startswith("text/html")
    status, pools = api(aport, "GET", "/api/v1/pools")
    assert status == 200 and [p["name"] for p in pools] == ["app"]
    assert pools[0]["balance"] == "round_robin"
    b0 = pools[0]["backends"][0]
    assert set(b0) >= {"address", "weight", "state", "active", "requests", "latency_ms"}
    assert b0["address"] == f"127.0.0.1:{ports[0]}" and b0["state"] == "healthy"
    status, pool = api(aport, "GET", "/api/v1/pools/app")
    assert status == 200 and len(pool["backends"]) == 2
    status, err = api(aport, "GET", "/api/v1/pools/nope")
    assert status == 404 and "nope" in err["error"]
    assert api(aport, "GET", "/api/v1/nothing")[0] == 404
    assert api(aport, "DELETE", "/api/v1/pools")[0] == 405
    r = request(aport, "PATCH", "/api/v1/pools/app/backends")
    assert r.status == 405 and r.header("allow") == "GET, HEAD, POST"
    status, events = api(aport, "GET", "/api/v1/events")
    assert status == 200 and [e["type"] for e in events][:2] == ["registration", "registration"]
    status, later = api(aport, "GET", f"/api/v1/events?since={events[-1]['seq']}")
    assert status == 200 and later == []
    # requests are counted per backend
    for _ in range(4):
        assert backend_of(lport)[0] == 200
    _, pool = api(aport, "GET", "/api/v1/pools/app")
    assert sum(b["requests"] for b in pool["backends"]) == 4


def test_metrics_exposition(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path)
    for _ in range(3):
        assert backend_of(lport)[0] == 200
    assert request(lport, "GET", "/status/503").status == 503
    ebbtest.wait_until(lambda: re.search(r'result="pass"\} [1-9]', request(aport, "GET", "/metrics").body.decode()),
                       5, what="a health check counted")
    r = request(aport, "GET", "/metrics")
    assert r.status == 200
    assert r.header("content-type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    for name in ["ebb_requests_total", "ebb_request_duration_seconds", "ebb_connections_active",
                 "ebb_connections_total", "ebb_backend_active", "ebb_backend_up",
                 "ebb_backend_state", "ebb_health_checks_total", "ebb_bytes_total",
                 "ebb_tls_handshakes_total", "ebb_config_reloads_total"]:
        assert f"# TYPE {name} " in text, name
    total_2xx = sum(float(m.group(1)) for m in re.finditer(
        r'^ebb_requests_total\{listener="web",pool="app",backend="[^"]+",code="2xx"\} (\S+)$', text, re.M))
    assert total_2xx == 3
    assert re.search(r'^ebb_requests_total\{listener="web",pool="app",backend="[^"]+",code="5xx"\} 1$', text, re.M)
    assert f'ebb_backend_up{{pool="app",backend="127.0.0.1:{ports[0]}"}} 1' in text
    assert re.search(r'^ebb_health_checks_total\{pool="app",backend="[^"]+",result="pass"\} [1-9]', text, re.M)
    # 4 requests, plus the probe connections of start_lb's port wait
    conns = re.search(r'^ebb_connections_total\{listener="web"\} (\d+)$', text, re.M)
    assert conns and int(conns.group(1)) >= 4
    ebbtest.wait_until(lambda: 'ebb_connections_active{listener="web"} 0' in request(aport, "GET", "/metrics").body.decode(),
                       5, what="connections closed")
    cached = ebbtest.SOURCE_DIR / ".cache" / "tools" / "promtool"
    promtool = shutil.which("promtool") or (str(cached) if cached.exists() else None)
    assert promtool, "promtool not found: run scripts/setup.sh (it unpacks promtool into .cache/tools)"
    check = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr


def test_add_backend(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path, nbackends=1)
    new_port, _ = start_backend(procs, "new")
    addr = f"127.0.0.1:{new_port}"
    status, b = api(aport, "POST", "/api/v1/pools/app/backends", {"address": addr, "weight": 2})
    assert status == 201 and b["address"] == addr and b["weight"] == 2
    assert b["state"] == "unknown"  # API-added: no traffic until it passes healthy_threshold checks
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": addr})[0] == 200
    ebbtest.wait_until(lambda: state_of(aport, "app", addr) == "healthy", 10, what="new backend healthy")
    seen = {backend_of(lport)[1] for _ in deadline_loop(10, 20)}
    assert "new" in seen and "b0" in seen
    # errors
    assert api(aport, "POST", "/api/v1/pools/nope/backends", {"address": addr})[0] == 404
    for bad in [b"", b"{", b"[]", b'{"weight": 1}', b'{"address": "nohost"}',
                b'{"address": "127.0.0.1:1", "weight": 0}', b'{"address": "127.0.0.1:1", "x": 1}']:
        status, err = api(aport, "POST", "/api/v1/pools/app/backends", raw=bad)
        assert status == 400 and err["error"], bad
    status, err = api(aport, "POST", "/api/v1/pools/app/backends", {"address": "no-such-host.invalid:80"})
    assert status == 400, err
    status, events = api(aport, "GET", "/api/v1/events")
    assert any(e["type"] == "registration" and e["backend"] == addr and "API" in e["message"] for e in events)


def test_drain_in_flight_finishes_new_requests_avoid(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path)
    victim = f"127.0.0.1:{ports[0]}"
    # Find a connection whose request goes to b0, and keep it in flight.
    slow = None
    for _ in deadline_loop(10, 20):
        s = connect(lport)
        send_request(s, "GET", "/delay?ms=1500")
        ebbtest.wait_until(lambda: any(b["active"] > 0 for b in api(aport, "GET", "/api/v1/pools/app")[1]["backends"]),
                           5, what="request in flight")
        _, pool = api(aport, "GET", "/api/v1/pools/app")
        if next(b for b in pool["backends"] if b["address"] == victim)["active"] == 1:
            slow = s
            break
        Reader(s).read_response()
        s.close()
    assert slow is not None
    status, b = api(aport, "DELETE", f"/api/v1/pools/app/backends/{victim}")
    assert status == 202 and b["state"] == "draining"
    for _ in range(6):  # new requests avoid the draining backend
        assert backend_of(lport) == (200, "b1")
    assert state_of(aport, "app", victim) == "draining"
    r = Reader(slow).read_response()
    slow.close()
    assert r.status == 200 and r.header("x-backend") == "b0"
    ebbtest.wait_until(lambda: state_of(aport, "app", victim) is None, 5, what="drained backend removed")
    _, events = api(aport, "GET", "/api/v1/events")
    types = [e["type"] for e in events if e["backend"] == victim]
    assert "drain_started" in types and "drain_finished" in types
    assert api(aport, "DELETE", f"/api/v1/pools/app/backends/{victim}")[0] == 404
    assert api(aport, "DELETE", "/api/v1/pools/app/backends/bad")[0] == 400


def test_update_weight_and_cancel_drain(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path, pool_extra={"balance": "weighted_round_robin"})
    a0 = f"127.0.0.1:{ports[0]}"
    status, b = api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"weight": 3})
    assert status == 200 and b["weight"] == 3
    counts = {}
    for _ in range(8):
        name = backend_of(lport)[1]
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"b0": 6, "b1": 2}
    # Keep both backends busy (round robin: one slow request each) so the drain lasts.
    api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"weight": 1})
    slow = [connect(lport), connect(lport)]
    for c in slow:
        send_request(c, "GET", "/delay?ms=1500")
    ebbtest.wait_until(lambda: all(b["active"] == 1 for b in api(aport, "GET", "/api/v1/pools/app")[1]["backends"]),
                       5, what="both backends busy")
    status, b = api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"state": "draining"})
    assert status == 200 and b["state"] == "draining"
    assert backend_of(lport) == (200, "b1")
    status, b = api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"state": "healthy"})
    assert status == 200 and b["state"] == "healthy"
    _, events = api(aport, "GET", "/api/v1/events")
    assert [e["type"] for e in events if e["backend"] == a0][-2:] == ["drain_started", "drain_cancelled"]
    for c in slow:
        assert Reader(c).read_response().status == 200
        c.close()
    assert {backend_of(lport)[1] for _ in range(4)} == {"b0", "b1"}
    for bad in [{"state": "unknown"}, {}, {"weight": -1}, {"weight": "x"}, {"foo": 1}]:
        assert api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", bad)[0] == 400, bad
    assert api(aport, "PUT", "/api/v1/pools/app/backends/127.0.0.1:1", {"weight": 2})[0] == 404
    assert api(aport, "PUT", f"/api/v1/pools/nope/backends/{a0}", {"weight": 2})[0] == 404


def test_token_auth(procs, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    lb, lport, aport, ports, _ = start_all(procs, tmp_path, token_file=str(token_file))
    a0 = f"127.0.0.1:{ports[0]}"
    assert api(aport, "GET", "/api/v1/pools")[0] == 200  # reads stay open
    assert api(aport, "GET", "/metrics")[0] == 200
    r = request(aport, "POST", "/api/v1/reload", headers={"Content-Length": "0"})
    assert r.status == 401 and r.header("www-authenticate").startswith("Bearer")
    assert api(aport, "POST", "/api/v1/reload", token="wrong")[0] == 401
    assert api(aport, "DELETE", f"/api/v1/pools/app/backends/{a0}")[0] == 401
    assert api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"weight": 2})[0] == 401
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": "127.0.0.1:1"})[0] == 401
    assert state_of(aport, "app", a0) == "healthy"
    assert api(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", {"weight": 2}, token="s3cret-token")[0] == 200
    assert api(aport, "POST", "/api/v1/reload", token="s3cret-token")[0] == 200


def test_reload_route(procs, tmp_path):
    lb, lport, aport, ports, text = start_all(procs, tmp_path)
    status, body = api(aport, "POST", "/api/v1/reload")
    assert status == 200
    lb.rewrite(text.replace('balance = "round_robin"', 'balance = "fastest"') if 'balance' in text
               else text.replace('name = "app"', 'name = "app"\nbalance = "fastest"'))
    status, body = api(aport, "POST", "/api/v1/reload")
    assert status == 400 and body["error"] and body["errors"]
    assert any("fastest" in e for e in body["errors"])
    assert backend_of(lport)[0] == 200  # the old configuration keeps serving
    assert api(aport, "GET", "/api/v1/reload")[0] == 405
    r = request(aport, "GET", "/metrics")
    assert 'ebb_config_reloads_total{result="failure"} 1' in r.body.decode()
    assert 'ebb_config_reloads_total{result="success"} 1' in r.body.decode()
    _, events = api(aport, "GET", "/api/v1/events")
    reloads = [e for e in events if e["type"] == "reload"]
    assert len(reloads) == 2 and "rejected" in reloads[1]["message"]


@pytest.mark.parametrize("managed", [True, False])
def test_membership_across_reload(procs, tmp_path, managed):
    lb, lport, aport, ports, text = start_all(procs, tmp_path, nbackends=1, pool_extra={"managed": managed},
                                          health={"check": "none"})
    extra_port, _ = start_backend(procs, "extra")
    extra = f"127.0.0.1:{extra_port}"
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": extra})[0] == 201
    assert state_of(aport, "app", extra) == "healthy"  # checks off: serves at once
    assert api(aport, "POST", "/api/v1/reload")[0] == 200
    if managed:
        # the API owns membership: a reload keeps the registered backend
        assert state_of(aport, "app", extra) == "healthy"
    else:
        # the file owns membership: the registered backend drains away
        ebbtest.wait_until(lambda: state_of(aport, "app", extra) is None, 5, what="extra removed")
    assert state_of(aport, "app", f"127.0.0.1:{ports[0]}") == "healthy"


def test_bad_admin_requests_never_crash(procs, tmp_path):
    lb, lport, aport, ports, _ = start_all(procs, tmp_path, nbackends=1)
    for raw in [b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"POST /api/v1/pools/app/backends HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
                b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                b"GET /api/v1/pools/%zz HTTP/1.1\r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", aport), timeout=5) as s:
            s.sendall(raw)
            data = s.recv(4096)
            assert data.startswith(b"HTTP/1.1 4"), (raw[:40], data[:80])
    assert api(aport, "GET", "/healthz") == (200, "ok")
    assert lb.proc.alive()


def test_sighup_reload_events_and_token_rotation(procs, tmp_path):
    import signal
    token_file = tmp_path / "token"
    token_file.write_text("first\n")
    lb, lport, aport, ports, text = start_all(procs, tmp_path, token_file=str(token_file))
    assert api(aport, "POST", "/api/v1/reload", token="first")[0] == 200
    token_file.write_text("second\n")
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: api(aport, "POST", "/api/v1/reload", token="second")[0] == 200, 5,
                       what="rotated token accepted")
    assert api(aport, "POST", "/api/v1/reload", token="first")[0] == 401
    good = lb.path.read_text()
    lb.rewrite(good.replace("[[pools]]", "[[pools]]\nbogus_key = 1"))
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: any(e["type"] == "reload" and "rejected" in e["message"]
                                   for e in api(aport, "GET", "/api/v1/events")[1]), 5,
                       what="rejected SIGHUP reload recorded")
    assert backend_of(lport)[0] == 200


def test_request_durations_have_sub_millisecond_resolution(procs, tmp_path):
    # Durations come from uv_hrtime (ns), not the loop's ms clock: the histogram sum is not a
    # whole number of milliseconds (with ms resolution every sample would be one).
    _, lport, aport, ports, _ = start_all(procs, tmp_path, nbackends=1, health={"check": "none"})
    for _ in range(5):
        assert request(lport, "GET", "/").status == 200
    a0 = re.escape(f"127.0.0.1:{ports[0]}")
    def histogram():
        text = request(aport, "GET", "/metrics").body.decode()
        count = re.search(rf'^ebb_request_duration_seconds_count\{{pool="app",backend="{a0}"\}} (\S+)', text, re.M)
        total = re.search(rf'^ebb_request_duration_seconds_sum\{{pool="app",backend="{a0}"\}} (\S+)', text, re.M)
        return (int(count.group(1)), float(total.group(1))) if count and total else None
    ebbtest.wait_until(lambda: histogram() and histogram()[0] == 5, 5, what="5 requests observed")
    _, total_s = histogram()
    total_ms = total_s * 1000
    assert total_ms > 0 and abs(total_ms - round(total_ms)) > 1e-6, total_s


def test_connection_metrics_per_listener(procs, tmp_path):
    bport, _ = start_backend(procs, "b0")
    l1, l2 = ebbtest.free_port(), ebbtest.free_port()
    text = lb_config([{"name": "one", "listen": f"127.0.0.1:{l1}", "pool": "app"},
                      {"name": "two", "listen": f"127.0.0.1:{l2}", "pool": "app"}],
                     [{"name": "app", "backends": backends(bport)}])
    aport = admin_port(text)
    start_lb(procs, tmp_path, text, wait_ports=(l1, l2, aport))
    def value(name, listener):
        m = re.search(rf'^{name}\{{listener="{listener}"\}} (\S+)', request(aport, "GET", "/metrics").body.decode(), re.M)
        return float(m.group(1)) if m else None
    # start_lb's port probes were connections too: count from here.
    ebbtest.wait_until(lambda: value("ebb_connections_active", "one") == 0 and
                       value("ebb_connections_active", "two") == 0, 5, what="probes closed")
    base1, base2 = value("ebb_connections_total", "one"), value("ebb_connections_total", "two")
    socks = []
    try:
        for port in (l1, l1, l2):  # kept open: two on "one", one on "two"
            s = connect(port)
            send_request(s, "GET", "/")
            assert Reader(s).read_response().status == 200
            socks.append(s)
        assert value("ebb_connections_active", "one") == 2
        assert value("ebb_connections_active", "two") == 1
        assert value("ebb_connections_total", "one") == base1 + 2
        assert value("ebb_connections_total", "two") == base2 + 1
        assert value("ebb_connections_active", "*") is None
    finally:
        for s in socks:
            s.close()
    ebbtest.wait_until(lambda: value("ebb_connections_active", "one") == 0 and
                       value("ebb_connections_active", "two") == 0, 5, what="connections closed")
    assert value("ebb_connections_total", "one") == base1 + 2


def requests_of(aport, backend):
    """ebb_requests_total of one backend, summed over codes (None when it has no series)."""
    text = request(aport, "GET", "/metrics").body.decode()
    found = [float(m.group(1)) for m in re.finditer(
        r'^ebb_requests_total\{listener="web",pool="app",backend="' + re.escape(backend) + r'",code="[^"]+"\} (\S+)$',
        text, re.M)]
    return sum(found) if found else None


def test_metrics_follow_a_backend_that_leaves_and_comes_back(procs, tmp_path):
    # Per-request metrics find a backend's series through its live counters, not by name: a
    # backend deregistered and registered again (new live counters) must keep being counted.
    lb, lport, aport, ports, _ = start_all(procs, tmp_path, nbackends=1)
    new_port, _ = start_backend(procs, "new")
    addr = f"127.0.0.1:{new_port}"
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": addr})[0] == 201
    ebbtest.wait_until(lambda: state_of(aport, "app", addr) == "healthy", 10, what="new backend healthy")
    hits = sum(backend_of(lport)[1] == "new" for _ in range(8))
    assert hits > 0
    assert requests_of(aport, addr) == hits
    assert api(aport, "DELETE", f"/api/v1/pools/app/backends/{addr}")[0] == 202
    ebbtest.wait_until(lambda: state_of(aport, "app", addr) is None, 10, what="drained backend gone")
    assert requests_of(aport, addr) is None  # its series left with it
    for _ in range(4):  # counted under b0 only
        assert backend_of(lport) == (200, "b0")
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": addr})[0] == 201
    ebbtest.wait_until(lambda: state_of(aport, "app", addr) == "healthy", 10, what="backend back and healthy")
    again = sum(backend_of(lport)[1] == "new" for _ in range(8))
    assert again > 0
    # Same identity within the slot quarantine: the same series, continued.
    ebbtest.wait_until(lambda: requests_of(aport, addr) == hits + again, 5, what="requests counted after re-registration")
    assert requests_of(aport, f"127.0.0.1:{ports[0]}") == 8 - hits + 4 + 8 - again


def keepalive_backends(sock, n):
    """X-Backend of `n` requests sent one after another on one keep-alive connection."""
    seen = []
    reader = Reader(sock)
    for _ in range(n):
        send_request(sock, "GET", "/")
        r = reader.read_response()
        assert r.status == 200
        seen.append(r.header("x-backend"))
    return seen


def follows(sock, expected, what):
    ebbtest.wait_until(lambda: set(keepalive_backends(sock, 6)) == expected, 10, what=what)


def test_keepalive_client_follows_drain_health_and_reload(procs, tmp_path):
    # A client that keeps one connection open must see membership changes (they reach the
    # workers a moment after the API answers), not keep routing with the configuration it was
    # accepted with: before the fix it never did.
    import signal
    lb, lport, aport, ports, text = start_all(procs, tmp_path, nbackends=3)
    sock = connect(lport)
    assert set(keepalive_backends(sock, 6)) == {"b0", "b1", "b2"}
    # drain b2 through the API: gone from this connection's next requests
    assert api(aport, "DELETE", f"/api/v1/pools/app/backends/127.0.0.1:{ports[2]}")[0] == 202
    follows(sock, {"b0", "b1"}, "drained b2 left")
    # b1 fails its health checks: only b0 left
    assert request(ports[1], "GET", "/fail-health").body == b"unhealthy"
    ebbtest.wait_until(lambda: state_of(aport, "app", f"127.0.0.1:{ports[1]}") == "unhealthy", 10,
                       what="b1 unhealthy")
    follows(sock, {"b0"}, "unhealthy b1 left")
    # a reload that replaces b0 by a new backend: the same connection moves to it
    new_port, _ = start_backend(procs, "new")
    lb.rewrite(re.sub(r"^backends = \[.*\]$", f'backends = [{{ address = "127.0.0.1:{new_port}" }}]',
                      text, count=1, flags=re.M))
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: state_of(aport, "app", f"127.0.0.1:{new_port}") == "healthy", 10,
                       what="reloaded backend healthy")
    follows(sock, {"new"}, "the reloaded pool used")
    sock.close()
