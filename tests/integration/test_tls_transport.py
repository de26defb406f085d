"""TLS termination stack (RawTcpTransport → TlsTransport → TlsContextSet) against real clients:
Python ssl, curl and openssl s_client, through ebb-tls-test-server (tests/unit/lb/tls), an
HTTPS responder built from exactly the pieces ebb-lb uses. Certificates are made per test run
with the openssl CLI: a root CA, an intermediate, ECDSA and RSA leaves, a wildcard.
"""
import os
import shutil
import signal
import socket
import ssl

import pytest

from ebbtest import binary, free_port, run, wait_port, wait_until
from tls_support import client_ctx, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def start_server(procs, cert, key, *extra, name="tls"):
    port = free_port()
    p = procs.start([binary("ebb-tls-test-server"), "--port", port, "--cert", cert, "--key", key, *extra], name)
    wait_port(port)
    return p, port


def get(tls_sock, path="/"):
    tls_sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls_sock.recv(4096)
        assert chunk, "connection closed before the response"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < length:
        chunk = tls_sock.recv(4096)
        assert chunk
        body += chunk
    assert head.startswith(b"HTTP/1.1 200")
    return body.decode()


def connect(ctx, port, sni, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=sni, session=session)


def stats(pki, port):
    with connect(client_ctx(pki, check_hostname=False), port, "example.com") as s:
        return dict(kv.split("=") for kv in get(s, "/stats").split())


def san_names(tls_sock):
    return sorted(v for k, v in tls_sock.getpeercert()["subjectAltName"] if k == "DNS")


def test_sni_picks_certificate_alpn_and_default(procs, pki):
    _, port = start_server(procs, *pki["site"], "--sni", ",".join(pki["wild"]))
    ctx = client_ctx(pki)
    with connect(ctx, port, "shop.example.org") as s:
        assert san_names(s) == ["*.example.org"]
        assert s.selected_alpn_protocol() == "http/1.1"
        assert s.version() == "TLSv1.3"
        body = get(s)
        assert "sni=shop.example.org" in body and "alpn=http/1.1" in body
    with connect(ctx, port, "www.example.com") as s:
        assert san_names(s) == ["example.com", "www.example.com"]
        assert s.cipher()[0] == "TLS_AES_128_GCM_SHA256"
    # Unknown name and a wildcard two labels deep: the default certificate.
    loose = client_ctx(pki, check_hostname=False)
    for sni in ("unknown.test", "a.b.example.org"):
        with connect(loose, port, sni) as s:
            assert san_names(s) == ["example.com", "www.example.com"]


def test_tls13_only_listener_rejects_tls12_client(procs, pki):
    _, port = start_server(procs, *pki["site"], "--min-version", "1.3")
    with pytest.raises(ssl.SSLError):
        connect(client_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2), port, "example.com")
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-servername", "example.com"],
            timeout=20)
    assert r.returncode != 0
    with connect(client_ctx(pki), port, "example.com") as s:
        assert s.version() == "TLSv1.3"
    st = stats(pki, port)
    assert int(st["failed"]) >= 2


@pytest.mark.parametrize("max_version", [None, ssl.TLSVersion.TLSv1_2])
def test_resumption_across_connections(procs, pki, max_version):
    _, port = start_server(procs, *pki["site"])
    ctx = client_ctx(pki, max_version=max_version)
    with connect(ctx, port, "www.example.com") as s1:
        get(s1)  # TLS 1.3 tickets arrive after the handshake; read something first
        session = s1.session
        assert not s1.session_reused
    with connect(ctx, port, "www.example.com", session=session) as s2:
        assert s2.session_reused
        assert "resumed=1" in get(s2)
    assert int(stats(pki, port)["resumed"]) >= 1


def test_no_resumption_when_tickets_are_off(procs, pki):
    _, port = start_server(procs, *pki["site"], "--no-tickets")
    for max_version in (None, ssl.TLSVersion.TLSv1_2):
        ctx = client_ctx(pki, max_version=max_version)
        with connect(ctx, port, "www.example.com") as s1:
            get(s1)
            session = s1.session
        with connect(ctx, port, "www.example.com", session=session) as s2:
            assert not s2.session_reused


def test_curl_and_openssl_cli(procs, pki):
    _, port = start_server(procs, *pki["site"], "--sni", ",".join(pki["wild"]))
    r = run(["curl", "-sS", "--max-time", "10", "--cacert", pki["root"], "--resolve",
             f"www.example.com:{port}:127.0.0.1", f"https://www.example.com:{port}/"])
    assert r.returncode == 0, r.stderr
    assert "version=TLSv1.3" in r.stdout and "sni=www.example.com" in r.stdout
    r = run(["curl", "-sS", "--max-time", "10", "--tlsv1.2", "--tls-max", "1.2", "--cacert", pki["root"],
             "--resolve", f"a.example.org:{port}:127.0.0.1", f"https://a.example.org:{port}/"])
    assert r.returncode == 0, r.stderr
    assert "version=TLSv1.2" in r.stdout and "cipher=ECDHE-RSA-AES128-GCM-SHA256" in r.stdout
    # The chain is sent: s_client verifies to the root with no intermediate given.
    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "www.example.com",
             "-CAfile", pki["root"], "-verify_return_error", "-alpn", "http/1.1"], timeout=20)
    assert "Verify return code: 0 (ok)" in r.stdout
    assert "ALPN protocol: http/1.1" in r.stdout


def recv_until_closed(sock, timeout=5.0):
    sock.settimeout(timeout)
    got = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk


def test_plain_http_and_garbage_are_closed_without_answer(procs, pki):
    p, port = start_server(procs, *pki["site"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert recv_until_closed(s) == b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(os.urandom(2000))
        assert recv_until_closed(s) == b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00" + os.urandom(512))  # a handshake record of junk
        recv_until_closed(s)  # an alert at most
    assert p.alive()
    st = stats(pki, port)
    assert int(st["plain_http"]) == 1 and int(st["failed"]) >= 3


def test_stalled_handshake_times_out(procs, pki):
    _, port = start_server(procs, *pki["site"], "--handshake-timeout-ms", "300")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        assert recv_until_closed(s) == b""  # closed by the server, nothing sent
    assert int(stats(pki, port)["timeout"]) == 1


def test_reload_swaps_certificate_and_keeps_open_connection(procs, pki, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki["site"][0], cert)
    shutil.copy(pki["site"][1], key)
    p, port = start_server(procs, str(cert), str(key))
    ctx = client_ctx(pki)
    old = connect(ctx, port, "www.example.com")
    try:
        assert get(old)
        assert old.getpeercert()["subject"] == ((("commonName", "example.com"),),)

        shutil.copy(pki["site_v2"][0], cert)
        shutil.copy(pki["site_v2"][1], key)
        p.signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in p.stderr(), what="reload")
        with connect(ctx, port, "www.example.com") as new:
            assert new.getpeercert()["subject"] == ((("commonName", "example.com v2"),),)
        assert get(old)  # the old connection still works on the old certificate

        # A broken file is rejected and the last good certificate keeps serving.
        key.write_text("not a key\n")
        p.signal(signal.SIGHUP)
        wait_until(lambda: "reload failed" in p.stderr(), what="failed reload")
        assert "not a key" not in p.stderr()
        with connect(ctx, port, "www.example.com") as new:
            assert new.getpeercert()["subject"] == ((("commonName", "example.com v2"),),)
    finally:
        old.close()


def test_clients_hanging_up_early_do_not_hurt_the_server(procs, pki):
    p, port = start_server(procs, *pki["site"])
    ctx = client_ctx(pki)
    for _ in range(20):
        s = connect(ctx, port, "www.example.com")
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # Reset at once: the response (and our close_notify) hit a dead socket (EPIPE, not SIGPIPE).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    assert p.alive()
    assert int(stats(pki, port)["ok"]) >= 21
