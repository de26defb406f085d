"""TLS termination wired into the proxy core: HTTPS (X-Forwarded-Proto https, Secure sticky
cookie) and TLS-terminated TCP, through the same sessions as plain listeners."""
import socket
import ssl

import pytest

import ebbtest
from proxy_support import Reader, backends, lb_config, send_request, start_backend, start_lb


@pytest.fixture
def cert(tmp_path):
    crt, key = tmp_path / "site.pem", tmp_path / "site.key"
    r = ebbtest.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-days", "2", "-subj", "/CN=localhost",
                     "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                     "-keyout", key, "-out", crt])
    assert r.returncode == 0, r.stderr
    return crt, key


def tls_connect(port, cafile):
    ctx = ssl.create_default_context(cafile=str(cafile))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def test_https_listener_forwards_with_proto_https(procs, tmp_path, cert):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "secure", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app",
                      "tls": {"cert": str(cert[0]), "key": str(cert[1])}}],
                    [{"name": "app", "sticky_cookie": "s", "backends": backends(a)}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    with tls_connect(port, cert[0]) as s:
        rd = Reader(s)
        for _ in range(2):  # keep-alive over TLS
            send_request(s, "GET", "/echo")
            r = rd.read_response()
            assert r.status == 200
            got = {k.lower(): v for k, v in r.json()["headers"]}
            assert got["x-forwarded-proto"] == "https"
        send_request(s, "GET", "/")
        cookie = rd.read_response().header("Set-Cookie")
        assert cookie is not None and cookie.endswith("; Secure")


def test_tls_terminated_tcp_mode(procs, tmp_path, cert):
    echo, _ = start_backend(procs, "echo", tcp_echo=True)
    port = ebbtest.free_port()
    cfg = lb_config([{"name": "tcps", "listen": f"127.0.0.1:{port}", "mode": "tcp", "pool": "app",
                      "tls": {"cert": str(cert[0]), "key": str(cert[1])}}],
                    [{"name": "app", "backends": backends(echo)}])
    start_lb(procs, tmp_path, cfg, wait_ports=[port])
    with tls_connect(port, cert[0]) as s:
        s.sendall(b"over tls")
        got = b""
        while len(got) < 8:
            data = s.recv(100)
            assert data
            got += data
        assert got == b"over tls"
