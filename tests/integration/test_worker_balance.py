"""Connections spread evenly over the workers (lb/connection_balance.h): the kernel's SO_REUSEPORT
hash splits connections unevenly (a random walk), so a worker that accepts one while it has
clearly more than another hands it over. Checked after every new long-lived connection through
ebb_worker_connections_active{worker}, for an HTTP, a TCP and an HTTPS listener; every handed
connection carries requests. Without balancing, the walk leaves the bound within a few dozen
connections (p > 0.9 over 64)."""
import re

import pytest

import ebbtest
from proxy_support import Reader, admin_port, backends, connect, lb_config, request, send_request, start_backend, start_lb
from tls_support import client_ctx, make_pki

CONNECTIONS = 64


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def worker_loads(aport):
    body = request(aport, "GET", "/metrics").body.decode()
    loads = {int(w): float(v) for w, v in re.findall(r'^ebb_worker_connections_active\{worker="(\d+)"\} (\S+)$',
                                                     body, re.M)}
    moved = sum(float(v) for v in re.findall(r'^ebb_worker_connections_moved_total\{worker="\d+"\} (\S+)$',
                                             body, re.M))
    return loads, moved


@pytest.mark.parametrize("kind", ["http", "tcp", "https"])
def test_long_lived_connections_spread_evenly_over_workers(procs, tmp_path, pki, kind):
    bport, _ = start_backend(procs, "a")
    lport = ebbtest.free_port()
    listener = {"name": "web", "listen": f"127.0.0.1:{lport}", "mode": "tcp" if kind == "tcp" else "http",
                "pool": "app"}
    if kind == "https":
        listener["tls"] = {"cert": pki["site"][0], "key": pki["site"][1]}
    text = lb_config([listener], [{"name": "app", "backends": backends(bport)}], runtime={"workers": 2})
    aport = admin_port(text)
    start_lb(procs, tmp_path, text, wait_ports=(lport, aport))
    ctx = client_ctx(pki) if kind == "https" else None

    def open_one():
        s = connect(lport)
        if ctx:
            s = ctx.wrap_socket(s, server_hostname="example.com")
        return s

    def one_request(s):
        send_request(s, "GET", "/")
        r = Reader(s).read_response()
        assert r.status == 200

    clients = []
    try:
        for n in range(1, CONNECTIONS + 1):
            s = open_one()
            clients.append(s)
            one_request(s)  # the connection has a session on some worker, and works
            loads, _ = ebbtest.wait_until(
                lambda: (lambda lm: lm if sum(lm[0].values()) == n else None)(worker_loads(aport)), 10,
                what=f"{n} connections counted")
            assert sorted(loads) == [0, 1]
            hi, lo = max(loads.values()), min(loads.values())
            # A worker keeps a connection while it has at most 1 + load/32 more than the other;
            # the connection it keeps adds one.
            assert hi - lo <= 2 + hi // 32, f"after {n} connections: {loads}"
        # Every connection, wherever it was accepted, still carries requests.
        for s in clients:
            one_request(s)
        _, moved = worker_loads(aport)
        assert moved <= CONNECTIONS  # a connection moves at most once
    finally:
        for s in clients:
            try:
                s.close()
            except OSError:
                pass
    ebbtest.wait_until(lambda: sum(worker_loads(aport)[0].values()) == 0, 10, what="connections closed")


def test_one_worker_never_moves_connections(procs, tmp_path):
    bport, _ = start_backend(procs, "a")
    lport = ebbtest.free_port()
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "mode": "http", "pool": "app"}],
                     [{"name": "app", "backends": backends(bport)}], runtime={"workers": 1})
    aport = admin_port(text)
    start_lb(procs, tmp_path, text, wait_ports=(lport, aport))
    clients = [connect(lport) for _ in range(8)]
    try:
        for s in clients:
            send_request(s, "GET", "/")
            assert Reader(s).read_response().status == 200
        loads, moved = worker_loads(aport)
        assert loads == {0: 8.0} and moved == 0
    finally:
        for s in clients:
            s.close()
