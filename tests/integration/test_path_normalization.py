"""Path normalisation before routing (lb/http/path.h, docs/SECURITY.md "Path normalisation"):
a route's path_prefix cannot be slipped past with "..", "%2e%2e", "./" or "//", the request goes
to the pool its normal form belongs to, and the backend receives exactly that normal form (query
untouched). Ambiguous paths (encoded slashes or backslashes around dot segments, "..;",
malformed %-encoding) are answered 400 and never forwarded.

Routes: path_prefix "/api/" -> pool "api" (backend "a"), default -> pool "web" (backend "b").
The backends run with --verbose and log "NAME: METHOD TARGET HTTP/1.1 -> STATUS" per request.
"""
import json

import pytest

import ebbtest
from proxy_support import (Reader, backends, connect, lb_config, request, send_request,
                           start_backend, start_lb)


@pytest.fixture
def routed(procs, tmp_path):
    a_port, a = start_backend(procs, "a", verbose=True)
    b_port, b = start_backend(procs, "b", verbose=True)
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "web",
                      "routes": [{"path_prefix": "/api/", "pool": "api"}]}],
                    [{"name": "web", "backends": backends(b_port)},
                     {"name": "api", "backends": backends(a_port)}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    return port, {"a": a, "b": b}


def seen_by(backend, target):
    return f": GET {target} HTTP/1.1 -> " in backend.stderr()


# (sent target, backend that must get it, target that backend must receive)
ROUTED = [
    ("/api/x/t01", "a", "/api/x/t01"),
    ("/api/../admin/t02", "b", "/admin/t02"),
    ("/api/%2e%2e/admin/t03", "b", "/admin/t03"),
    ("/api/%2E%2e/admin/t04?next=/api/../x&e=%2e%2E", "b", "/admin/t04?next=/api/../x&e=%2e%2E"),
    ("/api/./x/t05", "a", "/api/x/t05"),
    ("/api/.%2e/api/t06", "a", "/api/t06"),
    ("//api/x/t07", "a", "/api/x/t07"),
    ("/api//x//t08", "a", "/api/x/t08"),
    ("/x/../api/t09", "a", "/api/t09"),
    ("/%61pi/t10", "a", "/api/t10"),           # %61 = "a": unreserved, decoded (RFC 3986 §6.2.2.2)
    ("/api/../../../../t11", "b", "/t11"),      # cannot climb above "/"
    ("/api/a%2fb/t12", "a", "/api/a%2Fb/t12"),  # an encoded slash is data: kept (hex uppercased)
    ("/api/v1.2/x;y=z/t13?q=%2e", "a", "/api/v1.2/x;y=z/t13?q=%2e"),  # already normal: byte for byte
    ("http://test/api/../admin/t14?z=1", "b", "/admin/t14?z=1"),      # absolute-form target
]

REJECTED = [
    "/api/..%2Fadmin/r1",
    "/api/..%2fadmin/r2",
    "/api/%2e%2e%2Fadmin/r3",
    "/api/..%5Cadmin/r4",
    "/api/..\\admin/r5",
    "/api/..;/admin/r6",
    "/api/x%zz/r7",
    "/api/x%00/r8",
]


def test_routed_on_and_forwarded_as_the_normal_form(routed):
    port, backs = routed
    for sent, backend, received in ROUTED:
        r = request(port, "GET", sent)
        assert r.status == 200, sent
        assert r.header("X-Backend") == backend, sent
        ebbtest.wait_until(lambda: seen_by(backs[backend], received), 5,
                           what=f"{backend} to log {received}")
    for sent, backend, received in ROUTED:
        tag = sent.split("?")[0].rsplit("/", 1)[1]
        other = backs["b" if backend == "a" else "a"]
        assert f"/{tag}" not in other.stderr(), f"{sent} also reached the other pool"
        if received != sent and not sent.startswith("http://"):
            assert not seen_by(backs[backend], sent), f"{sent} was forwarded as sent"


def test_backend_echo_sees_the_normal_path(routed):
    port, _ = routed
    r = request(port, "GET", "/api/%2e%2E/echo?x=/../y")
    assert r.status == 200 and r.header("X-Backend") == "b"
    assert json.loads(r.body)["path"] == "/echo?x=/../y"


def test_ambiguous_paths_get_400_and_are_never_forwarded(routed):
    port, backs = routed
    for sent in REJECTED:
        with connect(port) as s:
            send_request(s, "GET", sent)
            rd = Reader(s)
            r = rd.read_response()
            assert r.status == 400, sent
            assert r.header("Connection") == "close", sent
            assert rd.closed(), sent
    # The connection handling is intact, and neither backend saw any rejected request.
    assert request(port, "GET", "/api/after").header("X-Backend") == "a"
    ebbtest.wait_until(lambda: seen_by(backs["a"], "/api/after"), 5, what="a to log /api/after")
    for name, b in backs.items():
        log = b.stderr()
        for sent in REJECTED:
            tag = sent.rsplit("/", 1)[1]
            assert f"/{tag} " not in log, f"{sent} reached {name}"


def test_keep_alive_requests_normalise_independently(routed):
    """A normalised request followed by a plain one on the same connection: each is routed and
    forwarded on its own (the session's buffer is reset per request)."""
    port, backs = routed
    with connect(port) as s:
        rd = Reader(s)
        for sent, backend, received in [("/api/../k1", "b", "/k1"), ("/api/k2", "a", "/api/k2"),
                                        ("//api/./k3", "a", "/api/k3"), ("/k4", "b", "/k4")]:
            send_request(s, "GET", sent)
            r = rd.read_response()
            assert r.status == 200 and r.header("X-Backend") == backend, sent
            ebbtest.wait_until(lambda: seen_by(backs[backend], received), 5, what=received)
