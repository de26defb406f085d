"""valgrind memcheck on short runs of the normal build: ebb-lb through every kind of traffic it
handles (HTTP keep-alive and close, a request body, a 400, a backend reset, a chunked response, a
WebSocket upgrade, a client gone mid-download, HTTPS, TCP mode, the admin API with a token, events,
/metrics, a SIGHUP reload, SIGTERM drain), and ebb-scaler --dry-run against a running ebb-lb.
Both must exit 0 with "ERROR SUMMARY: 0 errors" (definite leaks count as errors).

valgrind cannot run a binary built with AddressSanitizer, so in the sanitizer tree this file skips.
memcheck makes the processes ~20-50x slower: few requests, generous deadlines, waits poll."""
import json
import signal
import socket
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest

import ebbtest
from proxy_support import Reader, backends, connect, lb_config, request, send_request, start_backend
from tls_support import make_pki

SUPPRESSIONS = Path(__file__).resolve().parent / "valgrind.supp"
SLOW = 60.0  # deadline for anything the process under valgrind has to do


def asan_build():
    """Why valgrind cannot run here, or None: a sanitizer build tree, or ebb-lb linked with libasan."""
    if ebbtest.BUILD_DIR.name.endswith("asan"):
        return f"{ebbtest.BUILD_DIR} is a sanitizer build (valgrind cannot run ASan binaries)"
    r = ebbtest.run(["ldd", ebbtest.binary("ebb-lb")])
    if "libasan" in r.stdout or "libubsan" in r.stdout:
        return "ebb-lb is linked with the sanitizer runtime (valgrind cannot run ASan binaries)"
    return None


@pytest.fixture(autouse=True)
def memcheck_possible():
    reason = asan_build()
    if reason:
        pytest.skip(reason)
    # setup.sh installs valgrind: a missing one is a broken environment, not a reason to skip
    assert ebbtest.run(["valgrind", "--version"]).returncode == 0, "valgrind is not installed (scripts/setup.sh)"


def memcheck(procs, tmp_path, argv, name):
    log = tmp_path / f"{name}.memcheck"
    cmd = ["valgrind", "--tool=memcheck", "--leak-check=full", "--errors-for-leak-kinds=definite",
           "--error-exitcode=99", "--num-callers=30", f"--log-file={log}"]
    if SUPPRESSIONS.exists():
        cmd.append(f"--suppressions={SUPPRESSIONS}")
    return procs.start(cmd + argv, name), log


def stop_and_check(p, log):
    """SIGTERM, then the exit status (99 = memcheck errors) and the error summary."""
    p.signal(signal.SIGTERM)
    try:
        status = p.wait(SLOW)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{p.name} did not exit within {SLOW}s of SIGTERM")
    report = log.read_text(errors="replace")
    assert "ERROR SUMMARY: 0 errors" in report and status == 0, \
        f"{p.name} exited {status}; memcheck report:\n{report[-20000:]}\nstderr:\n{p.stderr()[-3000:]}"


def metric(aport, name, *labels, value=None):
    """The /metrics lines of family `name` that carry every label (`key="value"`) [and the value]."""
    text = request(aport, "GET", "/metrics", timeout=SLOW).body.decode()
    return [line for line in text.splitlines()
            if line.startswith(name + "{") and all(l in line for l in labels)
            and (value is None or line.rsplit(" ", 1)[1] == value)]


def api(aport, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else b""
    if method in ("POST", "PUT") and not data:
        headers["Content-Length"] = "0"
    r = request(aport, method, path, headers=headers, body=data, timeout=SLOW)
    return r.status, r.body


def test_ebb_lb_under_memcheck(procs, tmp_path):
    web1, _ = start_backend(procs, "web1")
    web2, _ = start_backend(procs, "web2")
    extra, _ = start_backend(procs, "extra")
    echo, _ = start_backend(procs, "echo", tcp_echo=True)
    pki = make_pki(tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text("memcheck-token\n")
    hport, sport, tport = ebbtest.free_port(), ebbtest.free_port(), ebbtest.free_port()
    health = {"check": "http", "path": "/healthz", "interval": "300ms", "timeout": "2s",
              "healthy_threshold": 1, "unhealthy_threshold": 3}

    def config(weight):
        text = lb_config(
            [{"name": "web", "listen": f"127.0.0.1:{hport}", "pool": "app"},
             {"name": "secure", "listen": f"127.0.0.1:{sport}", "pool": "app",
              "tls": {"cert": pki["site"][0], "key": pki["site"][1]}},
             {"name": "raw", "listen": f"127.0.0.1:{tport}", "mode": "tcp", "pool": "echo"}],
            [{"name": "app", "balance": "weighted_round_robin", "backends": backends(web1, web2, weight=weight),
              "health": health},
             {"name": "echo", "backends": backends(echo), "health": {"check": "tcp", "interval": "300ms",
                                                                      "timeout": "2s"}}],
            runtime={"workers": 2})
        return text.replace("[admin]\n", f'[admin]\ntoken_file = "{token_file}"\n')

    text = config(1)
    aport = int(text.split('[admin]\n')[1].split('listen = "127.0.0.1:')[1].split('"')[0])
    cfg = tmp_path / "lb.toml"
    cfg.write_text(text)
    lb, log = memcheck(procs, tmp_path, [ebbtest.binary("ebb-lb"), "-c", cfg], "ebb-lb")
    for port in (hport, sport, tport, aport):
        ebbtest.wait_until(lambda: ebbtest.port_open(port) or not lb.alive(), SLOW, interval=0.1, what=f"ebb-lb on {port}")
        assert lb.alive(), lb.stderr()

    # HTTP keep-alive: three requests on one connection, one with a body
    with connect(hport, timeout=SLOW) as s:
        rd = Reader(s)
        for path in ("/", "/echo"):
            send_request(s, "GET", path)
            assert rd.read_response().status == 200
        send_request(s, "POST", "/echo", body=b"x" * 3000)
        r = rd.read_response()
        assert r.status == 200 and r.json()["body_length"] == 3000
    # HTTP with Connection: close, and a response the LB produces itself (400)
    for _ in range(2):
        r = request(hport, "GET", "/", headers={"Connection": "close"}, timeout=SLOW)
        assert r.status == 200 and r.header("connection") == "close"
    assert request(hport, "GET", "/", headers={"Content-Length": "1", "Transfer-Encoding": "chunked"},
                   timeout=SLOW).status == 400

    # error and streaming paths: a backend reset (502), a chunked response, a WebSocket upgrade
    # closed at once, and a client that disconnects mid-download
    assert request(hport, "GET", "/reset", timeout=SLOW).status == 502
    r = request(hport, "GET", "/stream?chunks=3&interval_ms=0&size=100", timeout=SLOW)
    assert r.status == 200 and len(r.body) == 300
    with connect(hport, timeout=SLOW) as s:
        send_request(s, "GET", "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                               "Sec-WebSocket-Version": "13"})
        assert Reader(s).read_head()[0] == 101
    with connect(hport, timeout=SLOW) as s:
        send_request(s, "GET", "/bytes?n=50000000")
        assert Reader(s).read_head()[0] == 200  # then close with most of the body unread

    # HTTPS: handshake and two requests
    ctx = ssl.create_default_context(cafile=pki["root"])
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", sport), timeout=SLOW),
                         server_hostname="example.com") as s:
        rd = Reader(s)
        for _ in range(2):
            send_request(s, "GET", "/echo")
            r = rd.read_response()
            assert r.status == 200
            assert {k.lower(): v for k, v in r.json()["headers"]}["x-forwarded-proto"] == "https"

    # TCP mode: echo through the LB, half-close
    with connect(tport, timeout=SLOW) as s:
        s.sendall(b"through the tcp listener")
        s.shutdown(socket.SHUT_WR)
        got = b""
        for _ in range(100):  # bounded: ends at EOF
            data = s.recv(4096)
            if not data:
                break
            got += data
        assert got == b"through the tcp listener"

    # admin API: reads, an add and a drain with the token, /metrics
    assert api(aport, "GET", "/healthz") == (200, b"ok")
    status, body = api(aport, "GET", "/api/v1/pools")
    assert status == 200 and [p["name"] for p in json.loads(body)] == ["app", "echo"]
    added = f"127.0.0.1:{extra}"
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": added, "weight": 1})[0] == 401
    assert api(aport, "POST", "/api/v1/pools/app/backends", {"address": added, "weight": 1},
               token="memcheck-token")[0] == 201
    assert api(aport, "DELETE", f"/api/v1/pools/app/backends/{added}", token="memcheck-token")[0] == 202
    status, body = api(aport, "GET", "/api/v1/events")
    assert status == 200 and any(e["type"] == "drain_started" for e in json.loads(body))
    assert metric(aport, "ebb_requests_total", 'listener="web"', 'code="2xx"')
    assert metric(aport, "ebb_tls_handshakes_total", 'listener="secure"', 'result="ok"', value="1")

    # SIGHUP reload to different weights, then traffic on the new configuration
    cfg.write_text(config(2))
    lb.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: metric(aport, "ebb_config_reloads_total", 'result="success"', value="1"), SLOW,
                       interval=0.2, what="reload counted")
    assert request(hport, "GET", "/", timeout=SLOW).status == 200

    stop_and_check(lb, log)


def test_ebb_scaler_dry_run_under_memcheck(procs, tmp_path):
    b0, _ = start_backend(procs, "b0")
    b1, _ = start_backend(procs, "b1")
    lport = ebbtest.free_port()
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": "app"}],
                     [{"name": "app", "managed": True, "backends": backends(b0, b1)}])
    aport = int(text.split('[admin]\nlisten = "127.0.0.1:')[1].split('"')[0])
    (tmp_path / "lb.toml").write_text(text)
    lb = procs.start([ebbtest.binary("ebb-lb"), "-c", tmp_path / "lb.toml"], "ebb-lb")
    ebbtest.wait_port(aport)
    mport, port_base = ebbtest.free_port(), ebbtest.free_port()
    cfg = tmp_path / "scaler.toml"
    cfg.write_text(f"""
[scaler]
pool = "app"
lb_admin = ["http://127.0.0.1:{aport}"]
metrics_listen = "127.0.0.1:{mport}"
state_file = "{tmp_path / 'state.json'}"
min = 3
max = 4
interval = "200ms"
warmup = "200ms"
[[scaler.targets]]
metric = "active_per_backend"
target = 2.0

[driver]
type = "process"
command = ["{ebbtest.binary('ebb-testbackend')}", "--listen", "{{address}}"]
ports = "{port_base}-{port_base + 3}"
host = "127.0.0.1"
""")
    scaler, log = memcheck(procs, tmp_path, [ebbtest.binary("ebb-scaler"), "-c", cfg, "--dry-run"], "ebb-scaler")

    def decisions():
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/api/v1/decisions", timeout=SLOW) as r:
            return json.loads(r.read())

    # a few control-loop rounds against the LB; the scaler counts only instances it launched, so it
    # wants min = 3 of its own and, in a dry run, only says so
    ebbtest.wait_until(lambda: len(decisions()) >= 3, SLOW, interval=0.2, what="three decisions")
    d = decisions()[-1]
    assert d["pool"] == "app" and d["desired"] == 3 and d["action"] == "launch 3"
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=SLOW) as r:
        assert 'ebb_scaler_backends{kind="desired",pool="app"} 3' in r.read().decode()
    stop_and_check(scaler, log)
    # dry run: the LB's pool is untouched
    status, body = api(aport, "GET", "/api/v1/pools/app")
    assert status == 200 and len(json.loads(body)["backends"]) == 2
    assert lb.alive()
