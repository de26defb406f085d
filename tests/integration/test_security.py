"""Security claims of docs/SECURITY.md that no other test proves, against the real binaries:

- no secret reaches ebb-lb's logs (stderr, which systemd sends to the journal, stdout, and the
  access log): the admin token (right or wrong), Cookie / Authorization / Proxy-Authorization
  values, query strings, the sticky-cookie secret and the cookie tokens it issues; nor does
  ebb-scaler ever log the token it sends;
- no private-key material reaches the output of --check or of a failed start, whatever is wrong
  with the key (mismatched, encrypted, not a key);
- the admin API: reads open, every mutating route 401 without the right bearer token (state
  unchanged), bodies over 64 KiB 413 before authentication, heads over 16 KiB 431;
- the proxy's request-head limits: size exact to the byte, 128 header lines, long request lines,
  431 and close;
- TLS defaults: TLS 1.0/1.1 refused by the server (a protocol_version alert), only ECDHE + AEAD
  suites for TLS 1.2, the server's cipher order, no compression;
- the systemd units give no root and no capability beyond CAP_NET_BIND_SERVICE.
"""
import base64
import json
import re
import secrets
import signal
import socket
import ssl

import pytest

import ebbtest
from proxy_support import (admin_port, Reader, backends, connect, lb_config, request, send_request,
                           start_backend, start_lb)

UNITS = ebbtest.SOURCE_DIR / "packaging" / "systemd"


def admin_call(port, method, path, body=b"", authorization=None, extra=None):
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    if authorization is not None:
        headers["Authorization"] = authorization
    headers.update(extra or {})
    return request(port, method, path, headers=headers, body=body)


def start_lb_with(procs, tmp_path, pools, listener=None, runtime=None, token=None):
    port = ebbtest.free_port()
    l = {"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}
    l.update(listener or {})
    text = lb_config([l], pools, runtime)
    aport = admin_port(text)
    if token is not None:
        token_file = tmp_path / "admin.token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        text = text.replace("[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n')
    lb = start_lb(procs, tmp_path, text, wait_ports=(port, aport))
    return lb, port, aport


# ---------------------------------------------------------------------------------------------
# What is logged


def test_no_secret_reaches_any_log(procs, tmp_path):
    """Requests carrying credentials, admin calls with right and wrong tokens, a token rotation,
    error paths (400, 431): afterwards no secret is in ebb-lb's stderr, stdout or access log,
    though all three were written to (debug level, every request logged)."""
    token, token2, wrong = (f"tok-{secrets.token_hex(16)}" for _ in range(3))
    cookie, auth, proxy_auth, query = (secrets.token_hex(16) for _ in range(4))
    sticky_secret = f"sticky-{secrets.token_hex(16)}"
    secret_file = tmp_path / "sticky.secret"
    secret_file.write_text(sticky_secret + "\n")
    access = tmp_path / "access.log"
    bport, backend = start_backend(procs, "a")
    lb, port, aport = start_lb_with(
        procs, tmp_path,
        [{"name": "app", "backends": backends(bport), "sticky_cookie": "ebbsid",
          "sticky_secret_file": str(secret_file)}],
        runtime={"log_level": "debug", "access_log": str(access)}, token=token)

    # A proxied request with every credential-bearing header: the backend does receive them
    # (so their absence from the logs means something).
    r = request(port, "GET", f"/echo?api_key={query}",
                headers={"Cookie": f"session={cookie}", "Authorization": f"Bearer {auth}",
                         "Proxy-Authorization": f"Basic {proxy_auth}"})
    assert r.status == 200
    echoed = json.dumps(r.json()["headers"])
    assert cookie in echoed and auth in echoed and query in r.json()["path"]
    issued = r.header("Set-Cookie").split(";")[0].split("=", 1)[1]
    assert len(issued) >= 16
    # Error paths with credentials: smuggling (400) and an oversized head (431).
    with connect(port) as s:
        s.sendall(f"POST /x HTTP/1.1\r\nHost: t\r\nCookie: session={cookie}\r\n"
                  f"Authorization: Bearer {auth}\r\nContent-Length: 1\r\n"
                  f"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode())
        assert Reader(s).read_response().status == 400
    with connect(port) as s:
        s.sendall(f"GET /big HTTP/1.1\r\nHost: t\r\nCookie: session={cookie}\r\n".encode()
                  + b"X-Pad: " + b"p" * 70000 + b"\r\n\r\n")
        assert Reader(s).read_response().status == 431
    # Admin API: wrong and missing tokens, then the right one; a SIGHUP rotating the token.
    assert admin_call(aport, "POST", "/api/v1/reload", authorization=f"Bearer {wrong}").status == 401
    assert admin_call(aport, "POST", "/api/v1/reload", authorization=f"Basic {wrong}").status == 401
    assert admin_call(aport, "POST", "/api/v1/reload").status == 401
    assert admin_call(aport, "POST", "/api/v1/reload", authorization=f"Bearer {token}").status == 200
    (tmp_path / "admin.token").write_text(token2 + "\n")
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: admin_call(aport, "POST", "/api/v1/reload",
                                          authorization=f"Bearer {token2}").status == 200, 5,
                       what="rotated token accepted")
    assert admin_call(aport, "POST", "/api/v1/reload", authorization=f"Bearer {token}").status == 401
    # A reload whose token file is gone: rejected and logged (by path), old token kept.
    (tmp_path / "admin.token").unlink()
    assert admin_call(aport, "POST", "/api/v1/reload", authorization=f"Bearer {token2}").status in (200, 400)

    err_path, out_path = lb.proc.err_path, lb.proc.out_path
    assert lb.proc.stop() == 0  # SIGTERM: flushes the access log
    err, out = err_path.read_text(errors="replace"), out_path.read_text(errors="replace")
    log = access.read_text()
    # The logs were written: the requests and the reloads are there.
    assert len(log.splitlines()) >= 3 and '"/echo"' in log and '"status":431' in log.replace(" ", "")
    assert "reload" in err.lower() and "admin.token" in err
    for name, secret in [("admin token", token), ("rotated token", token2), ("wrong token", wrong),
                         ("cookie", cookie), ("authorization", auth), ("proxy-authorization", proxy_auth),
                         ("query string", query), ("sticky secret", sticky_secret),
                         ("issued sticky cookie", issued)]:
        for where, text in [("stderr", err), ("stdout", out), ("access log", log)]:
            assert secret not in text, f"{name} found in ebb-lb's {where}"
    assert "Cookie" not in log and "Authorization" not in log


def test_scaler_never_logs_its_token(procs, tmp_path):
    """ebb-scaler sends its token on every admin call; when the LB refuses (401) or answers
    garbage, the scaler logs the failure, and the token is in none of its output."""
    import http.server
    import threading
    token = f"scaler-{secrets.token_hex(16)}"
    seen = []

    class FakeAdmin(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            refuse = self.path.startswith("/api/")  # 401 for the API, garbage for /metrics
            body = b'{"error": "missing or invalid bearer token"}' if refuse else b"not metrics {"
            self.send_response(401 if refuse else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeAdmin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        token_file = tmp_path / "scaler.token"
        # Only the first line is the token, as for ebb-lb's admin.token_file (common/token_file.h).
        token_file.write_text(token + "\n# rotated by ops\n")
        token_file.chmod(0o600)
        metrics_port, driver_port = ebbtest.free_port(), ebbtest.free_port()
        cfg = tmp_path / "scaler.toml"
        cfg.write_text(f"""
[scaler]
pool = "app"
lb_admin = ["http://127.0.0.1:{server.server_address[1]}"]
token_file = "{token_file}"
metrics_listen = "127.0.0.1:{metrics_port}"
state_file = "{tmp_path / 'state.json'}"
min = 1
max = 1
interval = "100ms"
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "process"
command = ["/bin/true", "{{port}}"]
ports = "{driver_port}-{driver_port}"
""")
        p = procs.start([ebbtest.binary("ebb-scaler"), "-c", cfg, "--dry-run"], "scaler")
        ebbtest.wait_until(lambda: sum(1 for _, a in seen if a == f"Bearer {token}") >= 4, 10,
                           what="the scaler to send its token")
        ebbtest.wait_until(lambda: "/api/v1/pools/app" in p.stderr(), 10, what="the scaler to log the failure")
        err_path, out_path = p.err_path, p.out_path
        p.stop()
        output = err_path.read_text(errors="replace") + out_path.read_text(errors="replace")
        assert "401" in output and "/api/v1/pools/app" in output, output[-2000:]
        assert token not in output
    finally:
        server.shutdown()
        server.server_close()


def key_body_lines(key_path):
    """The base64 lines of a PEM key (what must never be printed)."""
    return [l for l in open(key_path).read().splitlines() if l and not l.startswith("-----")]


def test_no_key_material_in_errors(procs, tmp_path):
    """--check and a failed start name the key file and the problem, never its contents, for a
    key that does not match the certificate, an encrypted key, and a file that is not a key."""
    from tls_support import make_pki
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    cert, _ = pki["site"]
    _, other_key = pki["wild"]
    passphrase = f"pass-{secrets.token_hex(12)}"
    encrypted = tmp_path / "encrypted.key"
    r = ebbtest.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-aes-256-cbc", "-pass", f"pass:{passphrase}", "-out", encrypted])
    assert r.returncode == 0, r.stderr
    encrypted.chmod(0o600)
    marker = f"NOT-A-KEY-{secrets.token_hex(16)}"
    garbage = tmp_path / "garbage.key"
    garbage.write_text(f"-----BEGIN PRIVATE KEY-----\n{marker}\n-----END PRIVATE KEY-----\n")
    garbage.chmod(0o600)

    for key, problem in [(other_key, "match"), (encrypted, "encrypt"), (garbage, "")]:
        port = ebbtest.free_port()
        text = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "pool": "app",
                           "tls": {"cert": cert, "key": str(key)}}],
                         [{"name": "app", "backends": backends(ebbtest.free_port())}])
        cfg = tmp_path / "lb.toml"
        cfg.write_text(text)
        check = ebbtest.run([ebbtest.binary("ebb-lb"), "--check", "-c", cfg])
        start = ebbtest.run([ebbtest.binary("ebb-lb"), "-c", cfg], timeout=20)
        for what, res in [("--check", check), ("start", start)]:
            output = res.stdout + res.stderr
            assert res.returncode != 0, (what, key, output)
            assert str(key) in output, (what, output)
            assert problem in output.lower(), (what, output)
            assert "PRIVATE KEY" not in output and "BEGIN" not in output, (what, output)
            assert passphrase not in output and marker not in output, (what, output)
            for line in key_body_lines(key):
                if len(line) >= 16:
                    assert line not in output, (what, f"key line of {key} printed")


# ---------------------------------------------------------------------------------------------
# Admin API exposure


def test_admin_reads_open_mutations_need_the_token(procs, tmp_path):
    token = f"tok-{secrets.token_hex(16)}"
    bport, _ = start_backend(procs, "a")
    a0 = f"127.0.0.1:{bport}"
    lb, port, aport = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}],
                                    token=token)
    for path in ["/", "/healthz", "/metrics", "/api/v1/pools", "/api/v1/pools/app",
                 f"/api/v1/pools/app/backends/{a0}", "/api/v1/events"]:
        assert request(aport, "GET", path).status == 200, path
    events_before = request(aport, "GET", "/api/v1/events").json()

    mutations = [("POST", "/api/v1/pools/app/backends", {"address": "127.0.0.1:1"}),
                 ("PUT", f"/api/v1/pools/app/backends/{a0}", {"weight": 7}),
                 ("PUT", f"/api/v1/pools/app/backends/{a0}", {"state": "draining"}),
                 ("DELETE", f"/api/v1/pools/app/backends/{a0}", None),
                 ("POST", "/api/v1/reload", None)]
    bad_auth = [None, "", "Bearer", "Bearer ", f"Bearer {token}x", f"Bearer {token[:-1]}",
                f"Bearer x{token}", f"Basic {base64.b64encode(f'ebb:{token}'.encode()).decode()}",
                f"Token {token}", token]
    for method, path, body in mutations:
        data = json.dumps(body).encode() if body is not None else b""
        for authz in bad_auth:
            r = admin_call(aport, method, path, data, authorization=authz)
            assert r.status == 401, (method, path, authz, r.status)
            assert r.header("WWW-Authenticate").startswith("Bearer")
            assert r.json()["error"]
    # Nothing changed: same single backend, weight and state; no new event.
    after = request(aport, "GET", "/api/v1/pools").json()
    assert [b["address"] for b in after[0]["backends"]] == [a0]
    assert after[0]["backends"][0]["weight"] == 1 and after[0]["backends"][0]["state"] == "healthy"
    assert request(aport, "GET", "/api/v1/events").json() == events_before
    # The right token (scheme case-insensitive, RFC 9110 §11.1) is accepted.
    r = admin_call(aport, "PUT", f"/api/v1/pools/app/backends/{a0}", b'{"weight": 3}',
                   authorization=f"bearer {token}")
    assert r.status == 200
    assert request(aport, "GET", "/api/v1/pools").json()[0]["backends"][0]["weight"] == 3


def test_admin_without_token_on_a_public_address_is_warned(tmp_path):
    port = ebbtest.free_port()
    base = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "pool": "app"}],
                     [{"name": "app", "backends": backends(ebbtest.free_port())}])
    cfg = tmp_path / "lb.toml"
    token = tmp_path / "admin.token"
    token.write_text("t0k3n\n")
    token.chmod(0o600)
    for listen, token_line, warned in [("0.0.0.0", "", True), ("[::]", "", True), ("10.1.2.3", "", True),
                                       ("127.0.0.1", "", False), ("[::1]", "", False),
                                       ("0.0.0.0", f'token_file = "{token}"\n', False)]:
        text = re.sub(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"',
                      lambda m: f'[admin]\n{token_line}listen = "{listen}:{m.group(1)}"', base)
        cfg.write_text(text)
        r = ebbtest.run([ebbtest.binary("ebb-lb"), "--check", "-c", cfg])
        assert r.returncode == 0 and r.stdout == "ok\n", (listen, r.stdout, r.stderr)
        has = "admin.listen" in r.stderr and "without admin.token_file" in r.stderr
        assert has == warned, (listen, token_line, r.stderr)
        if warned:
            assert r.stderr.startswith("warning: "), r.stderr


def test_blank_token_file_is_a_check_error(tmp_path):
    """A token file whose first line is blank would leave ebb-lb unable to start: --check says
    so (naming the file, not its content)."""
    port = ebbtest.free_port()
    token = tmp_path / "admin.token"
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "pool": "app"}],
                     [{"name": "app", "backends": backends(ebbtest.free_port())}])
    text = text.replace("[admin]\n", f'[admin]\ntoken_file = "{token}"\n')
    cfg = tmp_path / "lb.toml"
    cfg.write_text(text)
    for content, ok in [("", False), ("  \n", False), ("\nsecond-line-token\n", False), ("t0k3n\n", True)]:
        token.write_text(content)
        token.chmod(0o600)
        r = ebbtest.run([ebbtest.binary("ebb-lb"), "--check", "-c", cfg])
        assert (r.returncode == 0) == ok, (content, r.stdout, r.stderr)
        if not ok:
            assert "admin.token_file" in r.stderr and str(token) in r.stderr, r.stderr
            assert "second-line-token" not in r.stderr


def test_world_readable_token_file_is_warned(procs, tmp_path):
    bport, _ = start_backend(procs, "a")
    lb, port, aport = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}],
                                    token="private-token")
    token_file = tmp_path / "admin.token"
    assert "readable by every user" not in lb.proc.stderr()  # 0600: quiet
    token_file.chmod(0o644)
    assert admin_call(aport, "POST", "/api/v1/reload", authorization="Bearer private-token").status == 200
    ebbtest.wait_until(lambda: "readable by every user" in lb.proc.stderr(), 5, what="the warning")
    line = next(l for l in lb.proc.stderr().splitlines() if "readable by every user" in l)
    assert str(token_file) in line and "private-token" not in lb.proc.stderr()


def test_admin_body_and_head_limits(procs, tmp_path):
    token = f"tok-{secrets.token_hex(16)}"
    bport, _ = start_backend(procs, "a")
    lb, port, aport = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}],
                                    token=token)
    limit = 64 * 1024
    for authz in [None, f"Bearer {token}"]:
        # Over the limit by one byte: 413, whether or not the token is right (the size check
        # comes first, so nobody can make the admin server buffer more than 64 KiB).
        r = admin_call(aport, "POST", "/api/v1/pools/app/backends", b"x" * (limit + 1), authorization=authz)
        assert r.status == 413, authz
        # Exactly the limit: read, then judged on auth and content.
        r = admin_call(aport, "POST", "/api/v1/pools/app/backends", b" " * limit, authorization=authz)
        assert r.status == (401 if authz is None else 400), authz
    # A huge declared length is refused at once, before any body byte is sent.
    with socket.create_connection(("127.0.0.1", aport), timeout=5) as s:
        s.sendall(b"POST /api/v1/reload HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000000\r\n\r\n")
        r = Reader(s).read_response()
        assert r.status == 413
    # A chunked body growing past the limit.
    with socket.create_connection(("127.0.0.1", aport), timeout=5) as s:
        chunk = b"x" * 8192
        s.sendall(b"POST /api/v1/reload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  b"Authorization: Bearer " + token.encode() + b"\r\n\r\n"
                  + (b"2000\r\n" + chunk + b"\r\n") * 9)
        assert Reader(s).read_response().status == 413
    # A request head over 16 KiB.
    with socket.create_connection(("127.0.0.1", aport), timeout=5) as s:
        s.sendall(b"GET /api/v1/pools HTTP/1.1\r\nHost: a\r\nX-Pad: " + b"p" * (17 * 1024) + b"\r\n\r\n")
        assert Reader(s).read_response().status == 431
    assert request(aport, "GET", "/healthz").status == 200 and lb.proc.alive()


# ---------------------------------------------------------------------------------------------
# Header size and count limits of the proxy


def head_of_size(n, path="/"):
    """A GET head of exactly n bytes (request line + headers + blank line)."""
    base = f"GET {path} HTTP/1.1\r\nHost: t\r\nX-Pad: ".encode()
    pad = n - len(base) - 4
    assert pad >= 1
    return base + b"p" * pad + b"\r\n\r\n"


def expect_431_and_close(port, raw):
    with connect(port) as s:
        s.sendall(raw)
        rd = Reader(s)
        r = rd.read_response()
        assert r.status == 431, r.status
        assert r.header("X-Backend") is None  # answered by ebb-lb, not forwarded
        assert r.header("Connection") == "close"
        assert rd.closed()


@pytest.mark.parametrize("limit", [4096, 64 * 1024])
def test_request_head_size_limit_is_exact(procs, tmp_path, limit):
    bport, _ = start_backend(procs, "a")
    listener = {"max_header_bytes": limit} if limit != 64 * 1024 else {}  # 64 KiB: the default
    lb, port, _ = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}],
                                listener=listener)
    with connect(port) as s:
        s.sendall(head_of_size(limit))
        r = Reader(s).read_response()
        # ebb-lb forwarded it: the backend answered (ebb-testbackend's own limit is 64 KiB
        # too, so with ebb-lb's added headers it may answer 431 itself at the default).
        assert r.header("X-Backend") == "a"
        assert r.status == 200 or limit == 64 * 1024
    expect_431_and_close(port, head_of_size(limit + 1))
    # The request line alone over the limit.
    expect_431_and_close(port, b"GET /" + b"a" * limit + b" HTTP/1.1\r\nHost: t\r\n\r\n")


def test_header_count_limit(procs, tmp_path):
    bport, _ = start_backend(procs, "a")
    lb, port, _ = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}])

    def head(lines):  # Host + (lines - 1) others
        return (b"GET / HTTP/1.1\r\nHost: t\r\n"
                + b"".join(b"X-H%d: v\r\n" % i for i in range(lines - 1)) + b"\r\n")
    with connect(port) as s:
        s.sendall(head(128))
        r = Reader(s).read_response()
        assert r.status == 200 and r.header("X-Backend") == "a"
    expect_431_and_close(port, head(129))
    expect_431_and_close(port, head(5000))
    assert request(port).status == 200


# ---------------------------------------------------------------------------------------------
# TLS defaults


def tls_client(root, min_version=None, max_version=None, ciphers=None):
    ctx = ssl.create_default_context(cafile=root)
    if ciphers or (max_version and max_version < ssl.TLSVersion.TLSv1_2):
        # Let the client offer what the server must refuse (Debian's default security level
        # would stop the client itself from offering it, proving nothing about the server).
        ctx.set_ciphers((ciphers or "ALL") + ":@SECLEVEL=0")
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def handshake(ctx, port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="example.com")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")  # offering 1.0/1.1 on purpose
def test_tls_defaults(procs, tmp_path):
    from tls_support import make_pki
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    bport, _ = start_backend(procs, "a")
    cert, key = pki["site"]  # ECDSA P-256
    lb, port, _ = start_lb_with(procs, tmp_path, [{"name": "app", "backends": backends(bport)}],
                                listener={"tls": {"cert": cert, "key": key}})
    # Default: TLS 1.3 when the client can, TLS 1.2 when it cannot, no compression.
    with handshake(tls_client(pki["root"]), port) as s:
        assert s.version() == "TLSv1.3" and s.compression() is None
    with handshake(tls_client(pki["root"], max_version=ssl.TLSVersion.TLSv1_2), port) as s:
        assert s.version() == "TLSv1.2"
        name, _, bits = s.cipher()
        assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name
        assert s.compression() is None
    # TLS 1.0 and 1.1: the server answers with a protocol_version alert.
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx = tls_client(pki["root"], min_version=version, max_version=version)
        with pytest.raises(ssl.SSLError) as err:
            handshake(ctx, port)
        assert "ALERT_PROTOCOL_VERSION" in str(err.value) or "alert protocol version" in str(err.value), err.value
    # TLS 1.2 suites without forward secrecy or without AEAD: refused by the server.
    for weak in ["AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"]:
        ctx = tls_client(pki["root"], max_version=ssl.TLSVersion.TLSv1_2, ciphers=weak)
        with pytest.raises(ssl.SSLError) as err:
            handshake(ctx, port)
        assert "HANDSHAKE_FAILURE" in str(err.value) or "handshake failure" in str(err.value), (weak, err.value)
    # Server preference: a client listing AES-256 first still gets the server's first choice.
    ctx = tls_client(pki["root"], max_version=ssl.TLSVersion.TLSv1_2,
                     ciphers="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256")
    with handshake(ctx, port) as s:
        assert s.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
    assert lb.proc.alive()


# ---------------------------------------------------------------------------------------------
# Privilege model: the systemd units


def unit_settings(name):
    """[Service] settings of a unit file as {key: [values in order]} (keys may repeat)."""
    out, section = {}, None
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service":
            k, _, v = line.partition("=")
            out.setdefault(k.strip(), []).append(v.strip())
    return out


@pytest.mark.parametrize("unit,caps", [("ebb-lb.service", {"CAP_NET_BIND_SERVICE"}),
                                       ("ebb-scaler@.service", set())])
def test_units_run_unprivileged(unit, caps):
    s = unit_settings(unit)
    one = lambda k: (s.get(k) or [None])[-1]  # the last assignment wins in systemd
    # A dedicated system user, never root, never a dynamic user that could be root-owned.
    assert one("User") == "ebb" and one("Group") == "ebb"
    assert "DynamicUser" not in s and "PermissionsStartOnly" not in s
    # Exec lines run as that user: no "+" / "!" / "!!" prefixes (which would run them privileged).
    for k, values in s.items():
        if k.startswith("Exec"):
            for v in values:
                assert not v.startswith(("+", "!", "@+", "-+")), (k, v)
    # Capabilities: exactly `caps` in the bounding set; ambient ones a subset of it.
    assert set(one("CapabilityBoundingSet").split()) == caps
    assert set((one("AmbientCapabilities") or "").split()) <= caps
    # No way back to privileges, and the rest of the system out of reach.
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("PrivateDevices", "yes"), ("RestrictSUIDSGID", "yes"),
                       ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"),
                       ("ProtectControlGroups", "yes"), ("RestrictNamespaces", "yes"),
                       ("LockPersonality", "yes")]:
        assert one(key) == value, (unit, key, one(key))
    families = set(one("RestrictAddressFamilies").split())
    assert families <= {"AF_INET", "AF_INET6", "AF_UNIX"}, families
    assert "@system-service" in s["SystemCallFilter"]
