"""Backpressure: a slow client never makes ebb-lb buffer more than a bounded amount (watermarks
stop reading the fast side). Measured through ebb-lb's RSS while a large response is read slowly.
(The 1 GiB at 1 MiB/s soak is proxy_backpressure_soak.py, a script, not a CI test.)"""
import hashlib
import socket
import threading
import time

import ebbtest
from proxy_support import (Reader, backends, connect, lb_config, pattern_sha256, send_request,
                           start_backend, start_lb)

MIB = 1 << 20


def test_slow_reader_keeps_rss_bounded_http(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config(
        [{"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}],
        [{"name": "app", "backends": backends(a)}]), wait_ports=[port])
    base = lb.rss_kib()
    total = 256 * MIB
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.connect(("127.0.0.1", port))
    s.settimeout(20)
    send_request(s, "GET", f"/bytes?n={total}")
    rd = Reader(s)
    status, _, headers = rd.read_head()
    assert status == 200
    h = hashlib.sha256()
    got = len(rd.buf)
    h.update(rd.buf)
    peak = 0
    # Phase 1, ~3 s: read at about 4 MiB/s (the backend could push 256 MiB meanwhile).
    end = time.monotonic() + 3
    while time.monotonic() < end:
        data = s.recv(64 * 1024)
        assert data
        h.update(data)
        got += len(data)
        peak = max(peak, lb.rss_kib())
        time.sleep(0.015)  # rate limit, not synchronisation
    assert got < total // 2  # really slow so far
    # Phase 2: the rest at full speed; everything must arrive intact.
    while got < total:
        data = s.recv(1 << 20)
        assert data, f"closed after {got} bytes"
        h.update(data)
        got += len(data)
    s.close()
    assert got == total
    assert h.hexdigest() == pattern_sha256(total)
    assert peak - base < 24 * 1024, f"RSS grew by {(peak - base) // 1024} MiB while the client was slow"


def test_non_reading_client_keeps_rss_bounded_tcp(procs, tmp_path):
    echo, _ = start_backend(procs, "echo", tcp_echo=True)
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config(
        [{"name": "raw", "listen": f"127.0.0.1:{port}", "mode": "tcp", "pool": "app"}],
        [{"name": "app", "backends": backends(echo)}]), wait_ports=[port])
    base = lb.rss_kib()
    s = connect(port)
    s.setblocking(False)
    chunk = b"x" * (256 * 1024)
    sent = 0
    # Write without reading the echo: once every buffer on the way is full, sends stall.
    end = time.monotonic() + 3
    stalled_since = None
    while time.monotonic() < end and sent < 512 * MIB:
        try:
            sent += s.send(chunk)
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 0.5:
                break
            time.sleep(0.01)
    peak = lb.rss_kib()
    assert stalled_since is not None, f"sent {sent // MIB} MiB without ever stalling"
    assert sent < 128 * MIB
    assert peak - base < 24 * 1024
    # Drain: reading resumes the flow; everything sent comes back.
    s.setblocking(True)
    s.settimeout(20)
    s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        data = s.recv(1 << 20)
        if not data:
            break
        got += len(data)
    assert got == sent
    s.close()
