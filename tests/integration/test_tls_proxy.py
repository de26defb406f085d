"""ebb-lb TLS termination (SPEC §2 [listeners.tls], §4, §6) end to end: real ebb-lb with a
[listeners.tls] table, real ebb-testbackend, Python ssl / curl clients, loopback only."""
import re
import shutil
import signal
import socket
import ssl

import pytest

import ebbtest
from proxy_support import Reader, backends, lb_config, request, send_request, start_backend, start_lb
from tls_support import client_ctx, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_lb(procs, tmp_path, pki, backend_port, mode="http", tls=None, runtime=None, cert=None, listener_extra=None):
    port = ebbtest.free_port()
    c, k = cert or pki["site"]
    t = {"cert": c, "key": k, "sni": [{"cert": pki["wild"][0], "key": pki["wild"][1]}]}
    t.update(tls or {})
    listener = {"name": "web", "listen": f"127.0.0.1:{port}", "mode": mode, "pool": "app", "tls": t}
    listener.update(listener_extra or {})
    lb = start_lb(procs, tmp_path, lb_config([listener], [{"name": "app", "backends": backends(backend_port)}],
                                             runtime), wait_ports=[port])
    return port, lb


def tls_connect(ctx, port, sni, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=sni, session=session)


def test_https_proxies_with_forwarded_proto_sni_and_alpn(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    port, _ = tls_lb(procs, tmp_path, pki, bport)
    with tls_connect(client_ctx(pki), port, "www.example.com") as s:
        assert s.selected_alpn_protocol() == "http/1.1"
        rd = Reader(s)
        for _ in range(3):  # keep-alive over TLS
            send_request(s, "GET", "/echo")
            r = rd.read_response()
            assert r.status == 200 and r.header("X-Backend") == "a"
            got = {k.lower(): v for k, v in r.json()["headers"]}
            assert got["x-forwarded-proto"] == "https"
            assert got["x-forwarded-port"] == str(port)
    with tls_connect(client_ctx(pki), port, "shop.example.org") as s:
        names = [v for k, v in s.getpeercert()["subjectAltName"] if k == "DNS"]
        assert names == ["*.example.org"]


def test_tls_terminated_tcp_mode(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "echo", tcp_echo=True)
    port, _ = tls_lb(procs, tmp_path, pki, bport, mode="tcp")
    with tls_connect(client_ctx(pki), port, "example.com") as s:
        payload = bytes(range(256)) * 1000
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            assert chunk
            got += chunk
        assert got == payload


def test_tls13_only_listener_rejects_tls12_client(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    port, lb = tls_lb(procs, tmp_path, pki, bport, tls={"min_version": "1.3"})
    with pytest.raises(ssl.SSLError):
        tls_connect(client_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2), port, "example.com")
    with tls_connect(client_ctx(pki), port, "example.com") as s:
        assert s.version() == "TLSv1.3"
    assert lb.proc.alive()


def test_resumption_on_any_worker(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    port, _ = tls_lb(procs, tmp_path, pki, bport, runtime={"workers": 2})
    ctx = client_ctx(pki)
    with tls_connect(ctx, port, "www.example.com") as s:
        send_request(s, "GET", "/")
        assert Reader(s).read_response().status == 200  # tickets arrive after the handshake
        session = s.session
    # SO_REUSEPORT spreads these over both workers; every one resumes.
    for _ in range(8):
        with tls_connect(ctx, port, "www.example.com", session=session) as s:
            assert s.session_reused
            send_request(s, "GET", "/")
            assert Reader(s).read_response().status == 200


def admin_port(lb):
    return int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', lb.path.read_text()).group(1))


def handshakes(aport, result):
    text = request(aport, "GET", "/metrics").body.decode()
    m = re.search(rf'^ebb_tls_handshakes_total\{{listener="web",result="{result}"\}} (\d+)', text, re.M)
    return int(m.group(1)) if m else 0


def test_plain_http_on_the_tls_port_gets_no_answer(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    port, lb = tls_lb(procs, tmp_path, pki, bport)
    aport = admin_port(lb)
    with tls_connect(client_ctx(pki), port, "www.example.com") as s:
        send_request(s, "GET", "/")
        assert Reader(s).read_response().status == 200
    ebbtest.wait_until(lambda: handshakes(aport, "ok") >= 1, 5, what="ok handshake counted")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        send_request(s, "GET", "/")
        assert Reader(s).closed()
    assert lb.proc.alive()
    ebbtest.wait_until(lambda: handshakes(aport, "failed") >= 1, 5, what="failed handshake counted")
    assert handshakes(aport, "ok") == 1


def test_stalled_handshake_is_closed(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    port, lb = tls_lb(procs, tmp_path, pki, bport, listener_extra={"header_timeout": "300ms"})
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        assert Reader(s).closed(timeout=5.0)
    assert lb.proc.alive()


def test_reload_swaps_certificate_keeps_open_connection(procs, tmp_path, pki):
    bport, _ = start_backend(procs, "a")
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki["site"][0], cert)
    shutil.copy(pki["site"][1], key)
    port, lb = tls_lb(procs, tmp_path, pki, bport, cert=(str(cert), str(key)))
    ctx = client_ctx(pki)
    old = tls_connect(ctx, port, "www.example.com")
    try:
        rd = Reader(old)
        send_request(old, "GET", "/")
        assert rd.read_response().status == 200
        shutil.copy(pki["site_v2"][0], cert)
        shutil.copy(pki["site_v2"][1], key)
        lb.proc.signal(signal.SIGHUP)

        def new_cert_served():
            with tls_connect(ctx, port, "www.example.com") as s:
                return s.getpeercert()["subject"] == ((("commonName", "example.com v2"),),)
        ebbtest.wait_until(new_cert_served, what="the reloaded certificate")
        send_request(old, "GET", "/")  # the old connection survives the reload
        assert rd.read_response().status == 200
    finally:
        old.close()
