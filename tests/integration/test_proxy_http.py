"""ebb-lb HTTP mode (SPEC §4) end to end: real ebb-lb, real ebb-testbackend, loopback."""
import hashlib
import json
import os
import socket
import time

import pytest

import ebbtest
from fault_backend import FaultBackend
from proxy_support import (Reader, backends, connect, lb_config, pattern_sha256, request,
                           send_request, start_backend, start_lb)


def http_lb(procs, tmp_path, pool_ports, listener=None, pool=None, runtime=None, extra_pools=()):
    port = ebbtest.free_port()
    l = {"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}
    l.update(listener or {})
    p = {"name": "app", "backends": backends(*pool_ports)}
    p.update(pool or {})
    lb = start_lb(procs, tmp_path, lb_config([l], [p, *extra_pools], runtime), wait_ports=[port])
    return port, lb


@pytest.fixture
def two_backends(procs):
    a, _ = start_backend(procs, "a")
    b, _ = start_backend(procs, "b")
    return a, b


def test_basic_proxy_and_forwarded_headers(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    r = request(port, "GET", "/echo?x=1", headers={"X-Forwarded-For": "10.1.2.3",
                                                   "Connection": "keep-alive, X-Secret",
                                                   "X-Secret": "drop me", "Keep-Alive": "5"})
    assert r.status == 200
    assert r.header("X-Backend") == "a"
    echo = r.json()
    assert echo["path"] == "/echo?x=1"
    got = {k.lower(): v for k, v in echo["headers"]}
    assert got["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert got["x-forwarded-proto"] == "http"
    assert got["x-forwarded-port"] == str(port)
    assert len(got["x-request-id"]) >= 16
    assert "x-secret" not in got and "keep-alive" not in got
    assert got["host"] == "test"


def test_keep_alive_many_requests_one_connection(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends)
    with connect(port) as s:
        rd = Reader(s)
        seen = set()
        for i in range(20):
            send_request(s, "GET", f"/?i={i}")
            r = rd.read_response()
            assert r.status == 200
            seen.add(r.header("X-Backend"))
        assert seen == {"a", "b"}


def test_round_robin_alternates(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends)
    names = [request(port).header("X-Backend") for _ in range(10)]
    assert names.count("a") == 5 and names.count("b") == 5
    assert all(names[i] != names[i + 1] for i in range(9)), names


def test_weighted_round_robin_shares(procs, tmp_path, two_backends):
    a, b = two_backends
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}],
                    [{"name": "app", "balance": "weighted_round_robin",
                      "backends": [{"address": f"127.0.0.1:{a}", "weight": 3},
                                   {"address": f"127.0.0.1:{b}", "weight": 1}]}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    names = [request(port).header("X-Backend") for _ in range(8)]
    assert names.count("a") == 6 and names.count("b") == 2, names


def test_pipelined_requests_answered_in_order(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        reqs = (b"GET /delay?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n"
                b"GET /status/201 HTTP/1.1\r\nHost: t\r\n\r\n"
                b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                b"GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n")
        s.sendall(reqs)
        rd = Reader(s)
        statuses = [rd.read_response() for _ in range(4)]
        assert [r.status for r in statuses] == [200, 201, 200, 404]
        assert statuses[2].json()["body"] == "hello"


def test_large_bodies_both_ways_sha256(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    body = os.urandom(1 << 20)
    r = request(port, "POST", "/echo", body=body, timeout=20)
    assert r.status == 200
    echo = r.json()
    assert echo["body_length"] == len(body)
    assert echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    h = hashlib.sha256()
    with connect(port, 20) as s:
        send_request(s, "GET", f"/bytes?n={1 << 20}")
        resp = Reader(s).read_response(body_sink=h.update)
    assert resp.status == 200
    assert h.hexdigest() == pattern_sha256(1 << 20)


def test_chunked_both_ways(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    parts = [os.urandom(n) for n in (1, 1000, 70000, 3)]
    with connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for p in parts:
            s.sendall(b"%x\r\n" % len(p) + p + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        r = Reader(s).read_response()
    assert r.status == 200
    assert r.json()["body_sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    with connect(port) as s:
        send_request(s, "GET", "/stream?chunks=5&interval_ms=10&size=1000")
        r = Reader(s).read_response()
    assert r.status == 200 and r.header("Transfer-Encoding") == "chunked"
    assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(5000)


def test_expect_100_continue(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        rd = Reader(s)
        status, _, _ = rd.read_head()
        assert status == 100
        s.sendall(b"ping")
        r = rd.read_response()
        assert r.status == 200 and r.json()["body"] == "ping"


def test_http10_client(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        s.sendall(b"GET /stream?chunks=3&interval_ms=1&size=10 HTTP/1.0\r\n\r\n")
        rd = Reader(s)
        r = rd.read_response()
        assert r.status == 200 and r.header("Transfer-Encoding") is None
        assert len(r.body) == 30
        assert rd.closed()


SMUGGLING = [
    b"POST /smuggle-1 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /smuggle-2 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    b"POST /smuggle-3 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST /smuggle-4 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /smuggle-5 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    b"POST /smuggle-6 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    b"POST /smuggle-7 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    b"GET /smuggle-8 HTTP/1.1\r\nHost : t\r\n\r\n",
    b"GET /smuggle-9 HTTP/1.1\r\nHost: t\r\nX-Bad: a\x00b\r\n\r\n",
    b"GET /smuggle-10 HTTP/1.1\r\nHost: t\r\nX-Fold: a\r\n b\r\n\r\n",
    b"GET /smuggle-11 HTTP/1.1\nHost: t\n\n",
    b"POST /smuggle-12 HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
    b"POST /smuggle-13 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /smuggle-14 HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /smuggle-15 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /smuggle-16 HTTP/1.1\r\n\r\n",
]


def test_smuggling_vectors_rejected_and_never_forwarded(procs, tmp_path):
    bport, backend = start_backend(procs, "a", verbose=True)
    port, _ = http_lb(procs, tmp_path, [bport])
    for raw in SMUGGLING:
        with connect(port) as s:
            s.sendall(raw)
            rd = Reader(s)
            r = rd.read_response()
            assert r.status == 400, raw
            assert r.header("Connection") == "close", raw
            assert rd.closed(), raw
    # A valid request afterwards still works, and the backend saw none of the vectors.
    assert request(port, "GET", "/after").status == 200
    ebbtest.wait_until(lambda: "/after" in backend.stderr(), 5, what="backend log")
    assert "smuggle" not in backend.stderr()


def test_request_head_too_large_431(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1], listener={"max_header_bytes": 4096})
    with connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
        rd = Reader(s)
        assert rd.read_response().status == 431
        assert rd.closed()


def test_slowloris_gets_408(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1], listener={"header_timeout": "300ms"})
    with connect(port) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        t0 = time.monotonic()
        rd = Reader(s)
        r = rd.read_response()
        assert r.status == 408
        assert time.monotonic() - t0 < 5
        assert rd.closed()


def test_dead_backend_502(procs, tmp_path):
    port, _ = http_lb(procs, tmp_path, [ebbtest.free_port()], pool={"retries": 0})
    r = request(port)
    assert r.status == 502
    assert r.body.startswith(b"502")


def test_empty_pool_503(procs, tmp_path):
    port, _ = http_lb(procs, tmp_path, [])
    r = request(port)
    assert r.status == 503


def test_response_timeout_504(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1], pool={"response_timeout": "300ms"})
    t0 = time.monotonic()
    r = request(port, "GET", "/delay?ms=3000")
    assert r.status == 504
    assert time.monotonic() - t0 < 2.5


def test_retry_on_connect_failure_goes_to_another_backend(procs, tmp_path, two_backends):
    dead = ebbtest.free_port()
    port, _ = http_lb(procs, tmp_path, [dead, two_backends[0]], pool={"retries": 1})
    for _ in range(6):
        r = request(port)
        assert r.status == 200 and r.header("X-Backend") == "a"


def test_retry_takes_an_idle_upstream_connection(procs, tmp_path):
    """A retry after a failed connect uses an idle keep-alive connection to the backend it picks
    when there is one, instead of opening another: round robin over a dead port and B sends every
    other request to B as a retry, and B still sees one connection."""
    b = FaultBackend(name="b")
    try:
        dead = ebbtest.free_port()
        bport = int(b.address.rsplit(":", 1)[1])
        port, _ = http_lb(procs, tmp_path, [dead, bport],
                          pool={"retries": 1, "health": {"passive_failures": 0}})
        with connect(port) as s:
            for i in range(10):
                send_request(s, "GET", f"/r{i}/ok")
                r = Reader(s).read_response()
                assert r.status == 200 and r.header("X-Backend") == "b", (i, r.status)
        assert len(b.stats()["requests"]) == 10
        assert b.stats()["accepted"] == 1, b.stats()
    finally:
        b.stop()


def test_backend_bad_response_502(procs, tmp_path):
    # A "backend" that answers garbage.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    bport = srv.getsockname()[1]
    port, _ = http_lb(procs, tmp_path, [bport])
    with connect(port) as s:
        send_request(s)
        conn, _ = srv.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            r = Reader(s).read_response()
            assert r.status == 502
    srv.close()


def test_backend_reset_502(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    assert request(port, "GET", "/reset").status == 502
    assert request(port, "GET", "/").status == 200


def test_routes_by_host_and_path(procs, tmp_path, two_backends):
    a, b = two_backends
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app",
                      "routes": [{"host": "api.example.com", "pool": "api"},
                                 {"path_prefix": "/v2/", "pool": "api"}]}],
                    [{"name": "app", "backends": backends(a)}, {"name": "api", "backends": backends(b)}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    assert request(port).header("X-Backend") == "a"
    with connect(port) as s:
        send_request(s, host="API.example.com:80")
        assert Reader(s).read_response().header("X-Backend") == "b"
    assert request(port, "GET", "/v2/x").header("X-Backend") == "b"


def test_websocket_echo_through_tunnel(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        rd = Reader(s)
        status, _, headers = rd.read_head()
        assert status == 101
        assert dict((k.lower(), v) for k, v in headers)["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        for payload in (b"hello", os.urandom(300)):
            mask = os.urandom(4)
            masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            ln = len(payload)
            hdr = bytes([0x82, 0x80 | ln]) if ln < 126 else bytes([0x82, 0x80 | 126]) + ln.to_bytes(2, "big")
            s.sendall(hdr + mask + masked)
            need = 2 + (ln if ln < 126 else 2 + ln)  # server frames are unmasked
            rd.read_exact(0)
            while len(rd.buf) < need:
                assert rd._fill(), "tunnel closed"
            data, rd.buf = rd.buf[:need], rd.buf[need:]
            assert data[0] == 0x82
            assert data[need - ln:] == payload


def test_head_request_and_204(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        rd = Reader(s)
        send_request(s, "HEAD", "/bytes?n=100")
        r = rd.read_response(head_request=True)
        assert r.status == 200 and r.header("Content-Length") == "100"
        send_request(s, "GET", "/status/204")
        assert rd.read_response().status == 204
        send_request(s, "GET", "/")
        assert rd.read_response().status == 200


def test_backend_close_then_reuse(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1])
    with connect(port) as s:
        rd = Reader(s)
        for path in ("/", "/close", "/", "/close", "/"):
            send_request(s, "GET", path)
            assert rd.read_response().status == 200


def test_access_log_json_lines(procs, tmp_path, two_backends):
    log = tmp_path / "access.log"
    port, lb = http_lb(procs, tmp_path, two_backends[:1], runtime={"access_log": str(log)})
    assert request(port, "GET", "/status/201?q=1").status == 201
    assert request(port, "POST", "/echo", body=b"x" * 10).status == 200
    ebbtest.wait_until(lambda: log.exists() and len(log.read_text().splitlines()) >= 2, 5, what="access log")
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    first = lines[0]
    assert first["status"] == 201 and first["method"] == "GET" and first["path"] == "/status/201"
    assert first["listener"] == "web" and first["pool"] == "app"
    assert first["backend"] == f"127.0.0.1:{two_backends[0]}"
    assert first["client"] == "127.0.0.1"
    assert first["duration_ms"] >= 0 and first["upstream_ms"] >= 0
    assert lines[1]["bytes_in"] > 10 and lines[1]["bytes_out"] > 0


def test_sticky_cookie_pins_client(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends, pool={"sticky_cookie": "ebb", "sticky_ttl": "1h"})
    first = request(port)
    cookie = first.header("Set-Cookie")
    assert cookie and cookie.startswith("ebb=") and "Max-Age=3600" in cookie and "HttpOnly" in cookie
    token = cookie.split(";")[0]
    pinned = first.header("X-Backend")
    for _ in range(6):
        r = request(port, headers={"Cookie": f"other=1; {token}"})
        assert r.header("X-Backend") == pinned
        assert r.header("Set-Cookie") is None  # valid cookie: not re-issued
    r = request(port, headers={"Cookie": "ebb=forged"})
    assert r.header("Set-Cookie", ) is not None


def test_max_connections_refuses_extra(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1], runtime={"max_connections": 2})

    def two_served():  # the readiness probe's connection may still count for a moment
        socks = [connect(port), connect(port)]
        try:
            for s in socks:
                send_request(s)
                assert Reader(s).read_response().status == 200
            return socks
        except (EOFError, ConnectionError):
            for s in socks:
                s.close()
            return None

    a, b = ebbtest.wait_until(two_served, 5, what="two connections served")
    c = connect(port)
    assert Reader(c).closed()  # accepted and closed at once
    a.close()
    c.close()
    ebbtest.wait_until(lambda: request(port).status == 200, 5, what="a slot to free up")
    b.close()


def test_backend_closing_idle_connections_never_fails_requests(procs, tmp_path):
    """The backend closes idle keep-alive connections after 100 ms: pooled upstream connections
    die at every moment relative to new requests; none may surface as an error."""
    bport = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{bport}", "--name", "a",
                 "--idle-timeout", "100"], "backend-idle")
    ebbtest.wait_port(bport)
    port, _ = http_lb(procs, tmp_path, [bport])
    with connect(port) as s:
        rd = Reader(s)
        for i in range(24):
            send_request(s, "GET", f"/?i={i}")
            assert rd.read_response().status == 200
            time.sleep(0.085 + (i % 4) * 0.01)  # spacing around the backend's idle timeout


def test_proxy_protocol_v1_and_v2_set_the_client_address(procs, tmp_path, two_backends):
    port, _ = http_lb(procs, tmp_path, two_backends[:1], listener={"proxy_protocol": True})

    def forwarded_for(prefix):
        with connect(port) as s:
            s.sendall(prefix + b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
            r = Reader(s).read_response()
        assert r.status == 200
        return {k.lower(): v for k, v in r.json()["headers"]}["x-forwarded-for"]

    assert forwarded_for(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n") == "203.0.113.7"
    v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([198, 51, 100, 5, 10, 0, 0, 1]) +
          (4000).to_bytes(2, "big") + (80).to_bytes(2, "big"))
    assert forwarded_for(v2) == "198.51.100.5"
    assert forwarded_for(b"PROXY UNKNOWN\r\n") == "127.0.0.1"
    with connect(port) as s:  # no header: not from the fronting balancer
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert Reader(s).closed()
