"""ebb-testbackend: every route, keep-alive, pipelining, WebSocket, TCP echo, faults, signals.

Real sockets on 127.0.0.1 only; every wait is bounded by a socket timeout or a deadline.
"""
import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import time

import pytest

import ebbtest

PATTERN = b"abcdefghijklmnopqrstuvwxyz"
TIMEOUT = 10.0


def pattern(n, offset=0):
    reps = (offset % 26 + n) // 26 + 1
    return (PATTERN * reps)[offset % 26: offset % 26 + n]


@pytest.fixture
def backend(procs):
    port = ebbtest.free_port()
    p = procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}",
                     "--name", "b1"], "backend")
    ebbtest.wait_port(port)
    p.port = port
    return p


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


def get(port, path, method="GET", body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


class Reader:
    """A minimal HTTP/1.x response reader over one socket, so pipelined responses and chunk
    framing can be checked byte for byte."""

    def __init__(self, sock):
        self.f = sock.makefile("rb")

    def response(self, head_request=False):
        status_line = self.f.readline()
        assert status_line, "connection closed before a response"
        version, status, _ = status_line.decode().split(" ", 2)
        headers = []
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b""):
                break
            name, value = line.decode().split(":", 1)
            headers.append((name.strip().lower(), value.strip()))
        h = dict(headers)
        status = int(status)
        chunks = []
        if head_request or status in (101, 204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in h:
            body = self.f.read(int(h["content-length"]))
        elif h.get("transfer-encoding") == "chunked":
            while True:
                size = int(self.f.readline().split(b";")[0], 16)
                data = self.f.read(size)
                assert self.f.read(2) == b"\r\n"
                if size == 0:
                    break
                chunks.append(data)
            body = b"".join(chunks)
        else:
            body = self.f.read()
        return version, status, h, body, chunks


# --- plain routes -------------------------------------------------------------------------

def test_root_and_unknown_paths_name_the_backend(backend):
    for path in ("/", "/some/unknown/path?x=1"):
        status, headers, body = get(backend.port, path)
        assert status == 200
        assert headers["X-Backend"] == "b1"
        assert body == b"backend b1\n"


def test_name_defaults_to_listen_address(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}"], "noname")
    ebbtest.wait_port(port)
    status, headers, body = get(port, "/")
    assert headers["X-Backend"] == f"127.0.0.1:{port}"
    assert body == f"backend 127.0.0.1:{port}\n".encode()


def test_healthz_toggles_with_fail_health(backend):
    assert get(backend.port, "/healthz")[::2] == (200, b"ok")
    assert get(backend.port, "/fail-health")[::2] == (200, b"unhealthy")
    assert get(backend.port, "/healthz")[::2] == (503, b"unhealthy")
    assert get(backend.port, "/fail-health")[::2] == (200, b"healthy")
    assert get(backend.port, "/healthz")[::2] == (200, b"ok")


def test_unhealthy_flag_starts_failing(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}", "--unhealthy"], "sick")
    ebbtest.wait_port(port)
    assert get(port, "/healthz")[0] == 503


def test_status_codes(backend):
    for code in (200, 201, 302, 404, 500, 503, 599):
        status, headers, body = get(backend.port, f"/status/{code}")
        assert status == code
        assert headers["X-Backend"] == "b1"
        assert body == f"status {code}\n".encode()
    status, headers, body = get(backend.port, "/status/204")
    assert (status, body) == (204, b"")
    assert "Content-Length" not in headers
    for bad in ("/status/99", "/status/600", "/status/abc", "/status/"):
        assert get(backend.port, bad)[0] == 400


def test_delay_responds_later_without_blocking_the_loop(backend):
    slow = connect(backend.port)
    slow.sendall(b"GET /delay?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
    t0 = time.monotonic()
    # While the delayed request waits, other connections are served.
    assert get(backend.port, "/")[0] == 200
    slow_reader = Reader(slow)
    _, status, h, body, _ = slow_reader.response()
    assert (status, body) == (200, b"backend b1\n")
    assert time.monotonic() - t0 >= 1.4  # a lower bound only: never flaky on a slow machine
    slow.close()
    assert get(backend.port, "/delay?ms=notanumber")[0] == 400


def test_cpu_burns_then_responds(backend):
    def cpu_seconds():
        with open(f"/proc/{backend.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    before = cpu_seconds()
    status, _, body = get(backend.port, "/cpu?ms=300")
    assert (status, body) == (200, b"backend b1\n")
    # The backend burnt CPU (a loose bound: the machine may be shared and loaded).
    assert cpu_seconds() - before >= 0.05
    assert get(backend.port, "/cpu?ms=999999")[0] == 400


def test_headers_route_makes_large_heads(backend):
    status, headers, body = get(backend.port, "/headers?count=50&size=100")
    assert status == 200 and body == b"backend b1\n"
    fills = {k: v for k, v in headers.items() if k.startswith("X-Fill-")}
    assert len(fills) == 50 and all(v == pattern(100).decode() for v in fills.values())
    assert get(backend.port, "/headers?count=10001")[0] == 400


def test_listen_on_a_name(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"localhost:{port}"], "named")
    ebbtest.wait_until(lambda: ebbtest.port_open(port, "127.0.0.1") or ebbtest.port_open(port, "::1"),
                       what="backend on localhost")


# --- /echo ---------------------------------------------------------------------------------

def test_echo_returns_head_and_body(backend):
    status, headers, body = get(backend.port, "/echo?q=1", method="POST", body=b"hello world",
                                headers={"X-Custom": "Value 1", "Content-Type": "text/plain"})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    j = json.loads(body)
    assert j["backend"] == "b1"
    assert j["method"] == "POST"
    assert j["path"] == "/echo?q=1"
    assert j["version"] == "HTTP/1.1"
    assert ["X-Custom", "Value 1"] in j["headers"]
    assert ["Content-Length", "11"] in j["headers"]
    assert j["body"] == "hello world"
    assert j["body_length"] == 11
    assert j["body_sha256"] == hashlib.sha256(b"hello world").hexdigest()


def test_echo_chunked_request_body(backend):
    s = connect(backend.port)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
    _, status, _, body, _ = Reader(s).response()
    s.close()
    j = json.loads(body)
    assert (status, j["body"], j["body_length"]) == (200, "hello world", 11)
    assert ["Transfer-Encoding", "chunked"] in j["headers"]


def test_echo_large_body_is_hashed_not_returned(backend):
    data = os.urandom(3 * 1024 * 1024 + 7)
    status, _, body = get(backend.port, "/echo", method="PUT", body=data)
    j = json.loads(body)
    assert status == 200
    assert "body" not in j
    assert j["body_length"] == len(data)
    assert j["body_sha256"] == hashlib.sha256(data).hexdigest()


def test_expect_100_continue(backend):
    s = connect(backend.port)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    r = Reader(s)
    _, status, _, _, _ = r.response()
    assert status == 100
    s.sendall(b"abcd")
    _, status, _, body, _ = r.response()
    assert status == 200 and json.loads(body)["body"] == "abcd"
    s.close()


# --- streaming -----------------------------------------------------------------------------

def test_stream_sends_spaced_chunks(backend):
    s = connect(backend.port)
    s.sendall(b"GET /stream?chunks=4&interval_ms=100&size=30 HTTP/1.1\r\nHost: x\r\n\r\n")
    t0 = time.monotonic()
    _, status, h, body, chunks = Reader(s).response()
    elapsed = time.monotonic() - t0
    s.close()
    assert status == 200 and h["transfer-encoding"] == "chunked"
    assert [len(c) for c in chunks] == [30, 30, 30, 30]
    assert body == pattern(120)
    assert elapsed >= 0.25  # three gaps of 100 ms (lower bound only)


def test_stream_http10_ends_with_close(backend):
    s = connect(backend.port)
    s.sendall(b"GET /stream?chunks=3&interval_ms=0&size=5 HTTP/1.0\r\n\r\n")
    _, status, h, body, _ = Reader(s).response()
    s.close()
    assert status == 200 and "transfer-encoding" not in h and h["connection"] == "close"
    assert body == pattern(15)


def test_bytes_pattern_and_length(backend):
    status, headers, body = get(backend.port, "/bytes?n=1000003")
    assert status == 200
    assert headers["Content-Length"] == "1000003"
    assert body == pattern(1000003)
    assert get(backend.port, "/bytes?n=0")[2] == b""
    assert get(backend.port, "/bytes?n=-1")[0] == 400


def test_bytes_respects_backpressure(backend):
    """A huge body to a client that does not read: the backend's memory stays bounded."""
    s = connect(backend.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(b"GET /bytes?n=4294967296 HTTP/1.1\r\nHost: x\r\n\r\n")

    def rss_kib():
        with open(f"/proc/{backend.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    before = rss_kib()
    got = s.recv(4096)
    assert got.startswith(b"HTTP/1.1 200 OK")
    # Read a little, slowly; a backend that buffered the body would grow by gigabytes.
    total = 0
    deadline = time.monotonic() + 5
    while total < 8 * 1024 * 1024 and time.monotonic() < deadline:
        total += len(s.recv(65536))
    assert rss_kib() - before < 64 * 1024
    s.close()
    assert get(backend.port, "/")[0] == 200  # still serving


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_body_framing_choices(backend, framing):
    s = connect(backend.port)
    s.sendall(f"GET /bytes?n=600000&framing={framing} HTTP/1.1\r\nHost: x\r\n\r\n"
              f"GET /stream?chunks=3&interval_ms=0&size=7&framing={framing} HTTP/1.1\r\nHost: x\r\n\r\n"
              .encode())
    r = Reader(s)
    _, status, h, body, chunks = r.response()
    assert status == 200 and body == pattern(600000)
    if framing == "length":
        assert h["content-length"] == "600000"
    elif framing == "chunked":
        assert h["transfer-encoding"] == "chunked" and len(chunks) >= 3
    else:
        assert "content-length" not in h and "transfer-encoding" not in h and h["connection"] == "close"
        s.close()
        return  # the body ended with the connection: the pipelined request is never answered
    _, status, h, body, chunks = r.response()
    assert status == 200 and body == pattern(21)
    s.close()
    assert get(backend.port, "/bytes?framing=bogus")[0] == 400


def test_idle_timeout_closes_idle_keep_alive_connections(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}",
                 "--idle-timeout", "200"], "idle")
    ebbtest.wait_port(port)
    s = connect(port)
    s.sendall(b"GET /delay?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")
    r = Reader(s)
    assert r.response()[1] == 200  # a request in progress longer than the idle timeout is fine
    t0 = time.monotonic()
    assert r.f.read(1) == b""  # then, idle, the backend closes the connection (FIN)
    assert time.monotonic() - t0 >= 0.15
    s.close()


# --- connection handling -------------------------------------------------------------------

def test_keep_alive_and_pipelining(backend):
    s = connect(backend.port)
    s.sendall(b"GET /delay?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
              b"GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
              b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    r = Reader(s)
    assert r.response()[1] == 200
    _, status, _, body, _ = r.response()
    assert status == 200 and json.loads(body)["body"] == "abc"
    assert r.response()[1] == 404
    _, status, h, body, _ = r.response(head_request=True)
    assert status == 200 and h["content-length"] == "11"
    # The same connection keeps serving.
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.response()[3] == b"backend b1\n"
    s.close()


def test_http10_keep_alive_only_when_asked(backend):
    s = connect(backend.port)
    s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = Reader(s)
    _, status, h, _, _ = r.response()
    assert status == 200 and h["connection"] == "keep-alive"
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    _, status, h, _, _ = r.response()
    assert status == 200 and h["connection"] == "close"
    assert s.recv(1) == b""  # closed by the backend
    s.close()


def test_close_route_closes_after_response(backend):
    s = connect(backend.port)
    s.sendall(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
    r = Reader(s)
    _, status, h, body, _ = r.response()
    assert (status, h["connection"], body) == (200, "close", b"backend b1\n")
    assert r.f.read(1) == b""
    s.close()


def test_reset_route_sends_rst(backend):
    s = connect(backend.port)
    s.sendall(b"GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(ConnectionResetError):
        data = s.recv(100)
        assert data == b""
        s.recv(100)
    s.close()


@pytest.mark.parametrize("request_bytes", [
    b"NOT HTTP AT ALL\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: \x00x\r\n\r\n",
])
def test_malformed_requests_get_400_and_close(backend, request_bytes):
    s = connect(backend.port)
    s.sendall(request_bytes)
    r = Reader(s)
    _, status, h, _, _ = r.response()
    assert status == 400 and h["connection"] == "close"
    assert r.f.read(1) == b""
    s.close()
    assert get(backend.port, "/")[0] == 200


def test_oversized_head_gets_431(backend):
    s = connect(backend.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n")
    _, status, _, _, _ = Reader(s).response()
    assert status == 431
    s.close()


def test_abrupt_clients_do_not_hurt(backend):
    for req in (b"GET /delay?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /stream?chunks=100&interval_ms=10 HTTP/1.1\r\n\r\n",
                b"GET /bytes?n=100000000 HTTP/1.1\r\n\r\n",
                b"POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\npartial"):
        s = connect(backend.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(req)
        s.close()  # RST
    assert get(backend.port, "/")[0] == 200
    assert backend.alive()


def test_garbage_and_many_connections_never_crash(backend):
    import random
    rng = random.Random(1234)  # deterministic
    seeds = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
             b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
             b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\xff"]
    socks = []
    for i in range(150):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(0, 8)):  # mutate a few bytes
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 3 == 0:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        s = connect(backend.port)
        s.sendall(bytes(data))
        socks.append(s)
    for s in socks:
        s.close()
    assert get(backend.port, "/")[0] == 200
    assert backend.alive()


# --- WebSocket -----------------------------------------------------------------------------

def ws_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def ws_read(f):
    b0, b1 = f.read(2)
    assert not b1 & 0x80, "server frames are not masked"
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", f.read(8))[0]
    return bool(b0 & 0x80), b0 & 0x0F, f.read(n)


def test_websocket_echo(backend):
    s = connect(backend.port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
              + ws_frame(0x1, b"early"))  # a frame right behind the handshake
    r = Reader(s)
    _, status, h, _, _ = r.response()
    assert status == 101
    expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                             .encode()).digest()).decode()
    assert h["sec-websocket-accept"] == expected
    assert h["x-backend"] == "b1"
    assert ws_read(r.f) == (True, 0x1, b"early")
    big = os.urandom(70000)
    s.sendall(ws_frame(0x2, big) + ws_frame(0x1, b"frag", fin=False) + ws_frame(0x0, b"ment"))
    assert ws_read(r.f) == (True, 0x2, big)
    assert ws_read(r.f) == (False, 0x1, b"frag")
    assert ws_read(r.f) == (True, 0x0, b"ment")
    s.sendall(ws_frame(0x9, b"pingdata"))
    assert ws_read(r.f) == (True, 0xA, b"pingdata")
    s.sendall(ws_frame(0x8, struct.pack("!H", 1000) + b"bye"))
    assert ws_read(r.f) == (True, 0x8, struct.pack("!H", 1000))
    assert r.f.read(1) == b""
    s.close()


def test_websocket_unmasked_frame_is_protocol_error(backend):
    s = connect(backend.port)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
              b"\x81\x02hi")
    r = Reader(s)
    assert r.response()[1] == 101
    assert ws_read(r.f) == (True, 0x8, struct.pack("!H", 1002))
    s.close()


def test_ws_without_upgrade_is_426(backend):
    assert get(backend.port, "/ws")[0] == 426


# --- TCP echo ------------------------------------------------------------------------------

def test_tcp_echo_with_half_close(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}", "--tcp-echo"], "echo")
    ebbtest.wait_port(port)
    s = connect(port)
    data = os.urandom(5 * 1024 * 1024)
    s.sendall(data[:1000])
    got = b""
    while len(got) < 1000:
        got += s.recv(65536)
    assert got == data[:1000]
    # Send the rest, then shut our write side down; the echo must finish before its EOF.
    import threading
    sender = threading.Thread(target=lambda: (s.sendall(data[1000:]), s.shutdown(socket.SHUT_WR)))
    sender.start()
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    sender.join(timeout=TIMEOUT)
    assert got + b"".join(chunks) == data
    s.close()


def test_tcp_greeting_names_the_backend_then_echoes(procs):
    port = ebbtest.free_port()
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}",
                 "--name", "t1", "--tcp-greeting"], "greet")
    ebbtest.wait_port(port)
    s = connect(port)
    f = s.makefile("rb")
    assert f.readline() == b"backend t1\n"
    s.sendall(b"ping\n")
    assert f.readline() == b"ping\n"
    s.shutdown(socket.SHUT_WR)
    assert f.read() == b""
    s.close()


# --- process -------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_promptly(procs, sig):
    port = ebbtest.free_port()
    p = procs.start([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}"], "sig")
    ebbtest.wait_port(port)
    idle = connect(port)  # an open keep-alive connection must not hold the exit up
    busy = connect(port)
    busy.sendall(b"GET /delay?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")
    ebbtest.wait_until(lambda: get(port, "/")[0] == 200, what="backend serving")
    p.signal(sig)
    assert p.wait(timeout=5) == 0
    idle.close()
    busy.close()


def test_cli_errors(tmp_path):
    tb = ebbtest.binary("ebb-testbackend")
    r = ebbtest.run([tb])
    assert r.returncode == 2 and "--listen" in r.stderr
    r = ebbtest.run([tb, "--listen", "nonsense"])
    assert r.returncode == 2 and "invalid address" in r.stderr
    r = ebbtest.run([tb, "--listen", "127.0.0.1:1", "--bogus"])
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = ebbtest.run([tb, "--help"])
    assert r.returncode == 0 and "/stream" in r.stdout and "abcdefghijklmnopqrstuvwxyz" in r.stdout
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = ebbtest.run([tb, "--listen", f"127.0.0.1:{port}"], timeout=10)
        assert r.returncode == 1 and "address already in use" in r.stderr
