"""ebb-lb TCP mode (L4): byte tunnel, half-close, backend choice, retries, no backend."""
import os
import socket

import ebbtest
from proxy_support import backends, connect, lb_config, start_backend, start_lb


def tcp_lb(procs, tmp_path, ports, pool=None):
    port = ebbtest.free_port()
    p = {"name": "app", "backends": backends(*ports)}
    p.update(pool or {})
    cfg = lb_config([{"name": "raw", "listen": f"127.0.0.1:{port}", "mode": "tcp", "pool": "app"}], [p])
    lb = start_lb(procs, tmp_path, cfg, wait_ports=[port])
    return port, lb


def recv_all(s, limit=1 << 24):
    out = b""
    while len(out) < limit:
        data = s.recv(65536)
        if not data:
            break
        out += data
    return out


def test_tcp_echo_with_half_close(procs, tmp_path):
    bport, _ = start_backend(procs, "echo", tcp_echo=True)
    port, _ = tcp_lb(procs, tmp_path, [bport])
    payload = os.urandom(3 << 20)
    with connect(port, 20) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)  # FIN upstream; the echo must still come back
        assert recv_all(s) == payload


def test_tcp_reply_after_client_half_close(procs, tmp_path):
    """A backend that answers only after the client's FIN (like `nc -q`)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    port, _ = tcp_lb(procs, tmp_path, [srv.getsockname()[1]])
    srv.listen(4)
    srv.settimeout(10)
    with connect(port) as c:
        c.sendall(b"question")
        c.shutdown(socket.SHUT_WR)
        for _ in range(3):  # skip the tunnel of tcp_lb's readiness probe if it arrives here
            b, _ = srv.accept()
            b.settimeout(10)
            got = recv_all(b)  # EOF arrives after the data
            if got:
                break
            b.close()
        with b:
            assert got == b"question"
            b.sendall(b"answer")
            b.shutdown(socket.SHUT_WR)
        assert recv_all(c) == b"answer"
    srv.close()


def test_tcp_retries_and_no_backend(procs, tmp_path):
    bport, _ = start_backend(procs, "echo", tcp_echo=True)
    port, _ = tcp_lb(procs, tmp_path, [ebbtest.free_port(), bport], pool={"retries": 1})
    for _ in range(4):
        with connect(port) as s:
            s.sendall(b"ping")
            s.shutdown(socket.SHUT_WR)
            assert recv_all(s) == b"ping"


def test_tcp_empty_pool_closes(procs, tmp_path):
    port, _ = tcp_lb(procs, tmp_path, [])
    with connect(port) as s:
        s.settimeout(5)
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass


def test_tcp_idle_timeout(procs, tmp_path):
    bport, _ = start_backend(procs, "echo", tcp_echo=True)
    port, _ = tcp_lb(procs, tmp_path, [bport], pool={"idle_timeout": "300ms"})
    with connect(port) as s:
        s.sendall(b"x")
        s.settimeout(5)
        assert s.recv(10) == b"x"
        try:
            assert s.recv(10) == b""  # closed by the idle timeout, well before 5 s
        except ConnectionResetError:
            pass


def test_tcp_proxy_protocol_header_is_consumed(procs, tmp_path):
    bport, _ = start_backend(procs, "echo", tcp_echo=True)
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "raw", "listen": f"127.0.0.1:{port}", "mode": "tcp", "pool": "app",
                      "proxy_protocol": True}], [{"name": "app", "backends": backends(bport)}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    with connect(port) as s:
        s.sendall(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nhello")
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"hello"
