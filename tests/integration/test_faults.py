"""Fault injection (issue 10): a real ebb-lb between real clients and misbehaving backends
(fault_backend.py) on 127.0.0.1. Every scenario checks:
  - the right status or close, never a hang (every socket read has a deadline);
  - no leak: ebb-lb's open descriptors (/proc/PID/fd) come back to their baseline, and
    ebb_connections_active / ebb_backend_active on /metrics come back to 0;
  - no crash: the process lives through the fault and exits 0 on SIGTERM at the end (in the
    sanitizer build this also proves there was no ASan/UBSan/LSan report);
  - other clients unaffected: a well-behaved keep-alive client on a healthy backend keeps
    getting 200 while the fault happens.

Layout: one HTTP listener; paths under /f/ go to the pool "fault" (the misbehaving backends,
short timeouts, passive health off so a fault never ejects anything), everything else to the
pool "good" (an ebb-testbackend). TCP-mode half-close is tested in test_proxy_tcp.py
(test_tcp_echo_with_half_close, test_tcp_reply_after_client_half_close); here only HTTP.
"""
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

import pytest

import ebbtest
from fault_backend import BLOCK, FaultBackend
from proxy_support import Reader, backends, connect, lb_config, request, send_request, start_backend

MIB = 1 << 20
FAULT_POOL = {"retries": 0, "connect_timeout": "1s", "response_timeout": "600ms", "idle_timeout": "800ms"}
# Runs argv[2:] with RLIMIT_NOFILE = argv[1] (soft and hard), in the same process (exec).
EXEC_WITH_NOFILE = ("import os, resource, sys; n = int(sys.argv[1]); "
                    "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_listing(pid):
    out = []
    for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        try:
            out.append(f"{fd}->{os.readlink(f'/proc/{pid}/fd/{fd}')}")
        except OSError:
            pass
    return " ".join(out)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peer_closed(sock):
    """True if the peer closed `sock` (EOF or reset); only call when select() says readable."""
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def connect_repeatedly(port, until, max_count=400):
    """Opens connections one after another (each until the peer closes it) until `until`."""
    for _ in range(max_count):
        if time.monotonic() >= until:
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                c.settimeout(2)
                c.recv(1)
        except OSError:
            pass


@pytest.fixture
def make_fault():
    made = []

    def make(**kw):
        f = FaultBackend(**kw)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


class Env:
    """ebb-lb with the "good" and "fault" pools, and the leak / crash checks."""

    def __init__(self, procs, tmp_path, faults, fault_pool=None, runtime=None, listener=None,
                 nofile=None, good_pool=None):
        self.good_port, _ = start_backend(procs, "good")
        self.faults = faults
        self.port = ebbtest.free_port()
        l = {"name": "web", "listen": f"127.0.0.1:{self.port}", "mode": "http", "pool": "good",
             "routes": [{"path_prefix": "/f/", "pool": "fault"}]}
        l.update(listener or {})
        fault = {"name": "fault", "backends": [{"address": f.address} for f in faults], **FAULT_POOL,
                 "health": {"check": "none", "passive_failures": 0}}
        fault.update(fault_pool or {})
        good = {"name": "good", "backends": backends(self.good_port)}
        good.update(good_pool or {})
        text = lb_config([l], [good, fault], runtime)
        self.aport = int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', text).group(1))
        path = tmp_path / "lb.toml"
        path.write_text(text)
        argv = [ebbtest.binary("ebb-lb"), "-c", path]
        if nofile:
            argv = [sys.executable, "-c", EXEC_WITH_NOFILE, str(nofile)] + argv
        self.proc = procs.start(argv, "ebb-lb")
        for port in (self.port, self.aport):
            ebbtest.wait_until(lambda: ebbtest.port_open(port) or not self.proc.alive(), 10,
                               what=f"ebb-lb on {port}")
            assert self.proc.alive(), self.proc.stderr()
        self.pid = self.proc.pid
        self.base_fds = None

    def metric_sum(self, name):
        text = request(self.aport, "GET", "/metrics", timeout=5).body.decode()
        return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M))

    def idle_metrics(self):
        return self.metric_sum("ebb_connections_active") == 0 and self.metric_sum("ebb_backend_active") == 0

    def settle_baseline(self):
        """After the warm-up: no client connection, then a descriptor count steady over 5 polls."""
        ebbtest.wait_until(self.idle_metrics, 10, what="no client connection before the fault")
        seen = []

        def steady():
            seen.append(fd_count(self.pid))
            return len(seen) >= 5 and len(set(seen[-5:])) == 1

        ebbtest.wait_until(steady, 10, interval=0.02, what="a steady descriptor count")
        self.base_fds = seen[-1]
        return self.base_fds

    def fault_open(self):
        return sum(f.stats()["open"] for f in self.faults)

    def wait_upstreams_closed(self, keep=0):
        """Waits until ebb-lb closed its connections to the fault backends (but `keep`)."""
        ebbtest.wait_until(lambda: self.fault_open() <= keep, 10,
                           what=f"ebb-lb to close its upstream connections (open: {self.fault_open()})")

    def finish(self):
        """No leak, no crash: metrics and descriptors back to the baseline, clean exit on SIGTERM."""
        assert self.proc.alive(), self.proc.stderr()
        ebbtest.wait_until(self.idle_metrics, 10, what="ebb_connections_active and ebb_backend_active back to 0")
        # Idle keep-alive connections to a fault backend are legitimate: one descriptor each.
        try:
            ebbtest.wait_until(lambda: fd_count(self.pid) <= self.base_fds + self.fault_open(), 10)
        except TimeoutError:
            pytest.fail(f"descriptor leak: {fd_count(self.pid)} open, baseline {self.base_fds} "
                        f"+ {self.fault_open()} idle upstream: {fd_listing(self.pid)}")
        self.proc.signal(signal.SIGTERM)
        assert self.proc.wait(20) == 0, self.proc.stderr()
        err = self.proc.stderr()
        for report in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert report not in err, err


class GoodClient:
    """A well-behaved keep-alive client of the healthy pool, in a thread, during a fault."""

    def __init__(self, port):
        self.port = port
        self.statuses = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            with connect(self.port, 10) as s:
                rd = Reader(s)
                for _ in range(5000):
                    if self._stop.is_set():
                        return
                    send_request(s, "GET", "/")
                    self.statuses.append(rd.read_response().status)
                    self._stop.wait(0.02)  # pacing, not synchronisation
        except Exception as exc:  # reported by __exit__
            self.errors.append(repr(exc))

    def mark(self):
        return len(self.statuses)

    def wait_more(self, since, n=3):
        """Waits for n more answered requests after `since` (the fault happened meanwhile)."""
        ebbtest.wait_until(lambda: len(self.statuses) >= since + n or self.errors, 20,
                           what="the healthy client's requests")

    def __enter__(self):
        self._thread.start()
        self.wait_more(0, 1)
        return self

    def __exit__(self, exc_type, *_):
        self._stop.set()
        self._thread.join(20)
        if exc_type is None:
            assert not self.errors, self.errors
            assert self.statuses and set(self.statuses) == {200}, self.statuses


def start(procs, tmp_path, faults, **kw):
    env = Env(procs, tmp_path, faults, **kw)
    assert request(env.port, "GET", "/").status == 200  # warm-up: one idle upstream to "good"
    env.settle_baseline()
    return env


# ---------------------------------------------------------------------------------------------
# backend faults


def test_backend_reset_mid_body_closes_the_client(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        with connect(env.port, 5) as s:
            send_request(s, "GET", "/f/reset-body")
            rd = Reader(s)
            status, _, headers = rd.read_head()
            assert status == 200
            rd.read_exact(len(BLOCK))  # the body has begun: the head cannot be taken back
            fault.release()  # now the backend resets
            with pytest.raises((EOFError, ConnectionResetError)):  # closed, not hung (5 s timeout)
                rd.read_exact(MIB - len(BLOCK))
        good.wait_more(m)
    env.wait_upstreams_closed()
    env.finish()


def test_backend_reset_before_response_is_502_and_not_retried(procs, tmp_path, make_fault):
    """SPEC §2: retries are for connect failures, never after the request was sent."""
    f1, f2 = make_fault(name="f1"), make_fault(name="f2")
    env = start(procs, tmp_path, [f1, f2], fault_pool={"retries": 1})
    with GoodClient(env.port) as good:
        m = good.mark()
        r = request(env.port, "GET", "/f/reset-head", timeout=5)
        assert r.status == 502 and r.body.startswith(b"502")
        good.wait_more(m)
    assert len(f1.stats()["requests"]) + len(f2.stats()["requests"]) == 1
    env.wait_upstreams_closed()
    env.finish()


def test_backend_closing_after_the_head_closes_the_client(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        with connect(env.port, 5) as s:
            send_request(s, "GET", "/f/close-head")
            rd = Reader(s)
            status, _, headers = rd.read_head()
            assert status == 200 and {k.lower(): v for k, v in headers}["content-length"] == "100"
            with pytest.raises((EOFError, ConnectionResetError)):
                rd.read_exact(100)
        good.wait_more(m)
    env.wait_upstreams_closed()
    # The cut connection is not reused: the next request gets a new one, and an answer.
    assert request(env.port, "GET", "/f/ok", timeout=5).status == 200
    assert fault.stats()["accepted"] == 2
    env.finish()


def test_backend_garbage_is_502(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        r = request(env.port, "GET", "/f/garbage", timeout=5)
        assert r.status == 502
        good.wait_more(m)
    env.wait_upstreams_closed()  # the backend waits for ebb-lb to hang up
    env.finish()


def test_backend_stalling_before_the_response_is_504(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        t0 = time.monotonic()
        r = request(env.port, "GET", "/f/stall", timeout=10)
        elapsed = time.monotonic() - t0
        assert r.status == 504
        assert 0.5 <= elapsed < 8, elapsed  # response_timeout = 600ms
        good.wait_more(m)
    env.wait_upstreams_closed()
    env.finish()


def test_backend_stalling_mid_body_closes_the_client_after_idle_timeout(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        with connect(env.port, 10) as s:
            send_request(s, "GET", "/f/stall-body")
            rd = Reader(s)
            assert rd.read_head()[0] == 200
            rd.read_exact(len(BLOCK))
            t0 = time.monotonic()
            with pytest.raises((EOFError, ConnectionResetError)):
                rd.read_exact(MIB - len(BLOCK))
            elapsed = time.monotonic() - t0
            assert elapsed < 8, elapsed  # idle_timeout = 800ms
        good.wait_more(m)
    env.wait_upstreams_closed()
    env.finish()


def test_backend_never_reading_an_upload_gets_backpressure_and_a_timeout(procs, tmp_path, make_fault):
    fault = make_fault(never_read=True)
    env = start(procs, tmp_path, [fault], fault_pool={"idle_timeout": "1500ms"})
    rss0 = rss_kib(env.pid)
    total = 1 << 30
    with GoodClient(env.port) as good:
        m = good.mark()
        s = connect(env.port, 10)
        s.sendall(f"POST /f/upload HTTP/1.1\r\nHost: t\r\nContent-Length: {total}\r\n\r\n".encode())
        s.setblocking(False)
        sent, blocked = 0, False
        deadline = time.monotonic() + 30
        while sent < total and time.monotonic() < deadline:
            _, writable, _ = select.select([], [s], [], 0.5)
            if not writable:  # nothing could be sent for 0.5 s: backpressure reached the client
                blocked = True
                break
            try:
                sent += s.send(BLOCK)
            except BlockingIOError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                break  # already timed out (a very slow machine): still bounded below
        assert blocked, f"sent {sent} bytes without backpressure"
        assert sent < 64 * MIB, sent
        grown = rss_kib(env.pid) - rss0
        assert grown < 32 * 1024, f"RSS grew by {grown} KiB"
        # The upload cannot finish: ebb-lb gives up after idle_timeout (504 or a close).
        s.setblocking(True)
        s.settimeout(10)
        try:
            data = s.recv(65536)
            assert data == b"" or data.startswith(b"HTTP/1.1 504"), data[:100]
        except ConnectionResetError:
            pass
        s.close()
        good.wait_more(m)
    fault.release_readers()  # the backend now reads: it finds its connection closed
    env.wait_upstreams_closed()
    env.finish()


# ---------------------------------------------------------------------------------------------
# client faults


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_client_disconnecting_mid_upload_closes_the_upstream(procs, tmp_path, make_fault, how):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        s = connect(env.port, 10)
        s.sendall(f"POST /f/sink HTTP/1.1\r\nHost: t\r\nContent-Length: {64 * MIB}\r\n\r\n".encode())
        for _ in range(16):
            s.sendall(BLOCK)
        ebbtest.wait_until(lambda: fault.stats()["sunk"] >= 512 * 1024, 10, what="the upload to reach the backend")
        if how == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        env.wait_upstreams_closed()
        good.wait_more(m)
    env.finish()


def test_client_disconnecting_mid_download_closes_the_upstream(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        s = connect(env.port, 10)
        send_request(s, "GET", "/f/big")
        rd = Reader(s)
        assert rd.read_head()[0] == 200
        rd.read_exact(4 * MIB)
        s.close()  # unread bytes pending: the kernel resets the connection
        env.wait_upstreams_closed()
        good.wait_more(m)
    env.finish()


def test_client_half_close_still_gets_its_responses(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault])
    with GoodClient(env.port) as good:
        m = good.mark()
        # GET, then FIN: the response still comes, then the connection closes.
        with connect(env.port, 5) as s:
            send_request(s, "GET", "/f/ok")
            s.shutdown(socket.SHUT_WR)
            rd = Reader(s)
            r = rd.read_response()
            assert r.status == 200 and r.body == b"ok\n"
            assert rd.closed()
        # A body, then FIN.
        with connect(env.port, 5) as s:
            send_request(s, "POST", "/f/ok", body=os.urandom(300 * 1024))
            s.shutdown(socket.SHUT_WR)
            rd = Reader(s)
            assert rd.read_response().status == 200
            assert rd.closed()
        # Two pipelined requests, then FIN: both answered in order.
        with connect(env.port, 5) as s:
            s.sendall(b"GET /f/ok?1 HTTP/1.1\r\nHost: t\r\n\r\nGET /f/ok?2 HTTP/1.1\r\nHost: t\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            rd = Reader(s)
            assert rd.read_response().status == 200
            assert rd.read_response().status == 200
            assert rd.closed()
        good.wait_more(m)
    assert fault.stats()["requests"][-2:] == ["/f/ok?1", "/f/ok?2"]
    env.finish()


# ---------------------------------------------------------------------------------------------
# resource limits


def closed_by_peer_within(sock, seconds):
    try:
        ebbtest.wait_until(lambda: select.select([sock], [], [], 0)[0] and peer_closed(sock), seconds)
        return True
    except TimeoutError:
        return False


def fill_descriptors(port, hogs):
    """Opens idle connections (kept in hogs) until ebb-lb closes a new one at once: from then on
    its descriptor table is full (nothing else frees one while the test holds the hogs)."""
    for _ in range(100):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        if closed_by_peer_within(c, 0.5):
            c.close()
            return
        hogs.append(c)  # accepted: it holds a descriptor
    raise AssertionError("ebb-lb never ran out of descriptors")


def test_out_of_file_descriptors_refuses_then_recovers(procs, tmp_path, make_fault):
    limit = 96
    # Active health checks on the good pool run while descriptors are out: they must be skipped,
    # not counted as failures of a healthy backend.
    env = Env(procs, tmp_path, [], nofile=limit, listener={"header_timeout": "60s"},
              good_pool={"health": {"check": "http", "path": "/", "interval": "200ms", "timeout": "1s",
                                    "unhealthy_threshold": 2}})
    # Warm-up through /close: no idle upstream connection stays, so later requests need a new
    # descriptor for their backend connection.
    assert request(env.port, "GET", "/close").status == 200
    base = env.settle_baseline()
    assert base < limit - 20, fd_listing(env.pid)
    hogs = []
    try:
        # Idle client connections until ebb-lb has no descriptor left and closes new ones.
        for _ in range(limit + 20):
            hogs.append(socket.create_connection(("127.0.0.1", env.port), timeout=5))

        def refused():
            readable, _, _ = select.select(hogs, [], [], 0)
            return [c for c in readable if peer_closed(c)]

        closed = ebbtest.wait_until(refused, 10, what="ebb-lb to close connections over its descriptor limit")
        for c in closed:
            hogs.remove(c)
            c.close()
        assert env.proc.alive()
        ebbtest.wait_until(lambda: "out of file descriptors" in env.proc.stderr(), 10,
                           what="the condition to be logged")
        # Still out of descriptors: new connections are closed at once.
        fill_descriptors(env.port, hogs)
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", env.port), timeout=5) as extra:
                assert closed_by_peer_within(extra, 5), "a connection over the limit was not closed"

        # An accepted connection still gets an answer: the backend connect fails with EMFILE.
        s = hogs[0]  # accepted while descriptors were plentiful
        send_request(s, "GET", "/close")
        r = Reader(s).read_response()
        assert r.status in (502, 503), r.status
        assert env.proc.alive()

        # Connections to the listener and to the admin API (another thread) at the same time: the
        # admin thread can take the descriptor libuv's remedy frees for a moment, the case where
        # libuv alone would retry accept() in a busy loop. Then, with a connection waiting,
        # ebb-lb must sit idle, not spin.
        hammer_until = time.monotonic() + 1.5
        hammers = [threading.Thread(target=connect_repeatedly, args=(port, hammer_until), daemon=True)
                   for port in (env.port, env.aport, env.port, env.aport)]
        for t in hammers:
            t.start()
        for t in hammers:
            t.join(10)
        fill_descriptors(env.port, hogs)
        with socket.create_connection(("127.0.0.1", env.port), timeout=5):
            cpu0, t0 = cpu_seconds(env.pid), time.monotonic()
            ebbtest.wait_until(lambda: time.monotonic() - t0 >= 1.0, 5, interval=0.05, what="a 1 s CPU sample")
            used = (cpu_seconds(env.pid) - cpu0) / (time.monotonic() - t0)
            assert used < 0.5, f"ebb-lb used {used:.0%} of a core while out of descriptors"
        assert env.proc.alive()
    finally:
        for c in hogs:
            c.close()
    # Recovers once the hog connections are gone.
    ebbtest.wait_until(lambda: request(env.port, "GET", "/close", timeout=5).status == 200, 10,
                       what="requests to succeed again")
    ebbtest.wait_until(lambda: "file descriptors available again" in env.proc.stderr(), 10,
                       what="the recovery to be logged")
    err = env.proc.stderr()
    assert "skipped: EMFILE" in err, err  # checks did run out of descriptors ...
    assert "-> unhealthy" not in err, err  # ... and the good backend never left the pool
    env.finish()


def test_max_connections_refuses_extra_and_recovers(procs, tmp_path, make_fault):
    fault = make_fault()
    env = start(procs, tmp_path, [fault], runtime={"max_connections": 3})
    with GoodClient(env.port) as good:  # connection 1
        m = good.mark()

        def two_served():  # a probe connection of the start-up may still count for a moment
            socks = [connect(env.port, 5), connect(env.port, 5)]
            try:
                for c in socks:
                    send_request(c, "GET", "/f/ok")
                    assert Reader(c).read_response().status == 200
                return socks
            except (EOFError, ConnectionError):
                for c in socks:
                    c.close()
                return None

        a, b = ebbtest.wait_until(two_served, 10, what="connections 2 and 3 served")
        with connect(env.port, 5) as extra:  # connection 4: over the limit, closed at once
            assert Reader(extra).closed()
        for c in (a, b):  # the existing ones are unaffected
            send_request(c, "GET", "/f/ok")
            assert Reader(c).read_response().status == 200
        a.close()

        def served():
            try:
                return request(env.port, "GET", "/f/ok", timeout=5).status == 200
            except (EOFError, ConnectionError):
                return False

        ebbtest.wait_until(served, 10, what="a slot to free up")
        b.close()
        good.wait_more(m)
    env.finish()
