"""ebb-lb signals and lifecycle (SPEC §1): SIGHUP reload under load, invalid reloads,
listeners added/removed, SIGTERM drain with an in-flight request, SIGINT twice, sd_notify."""
import signal
import socket
import threading
import time

import ebbtest
from proxy_support import (Reader, backends, connect, deadline_loop, lb_config, request,
                           send_request, start_backend, start_lb)


def web(port, pool="app"):
    return {"name": f"web{port}", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": pool}


def test_sighup_under_load_zero_failures(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    b, _ = start_backend(procs, "b")
    port = ebbtest.free_port()
    cfg_a = lb_config([web(port)], [{"name": "app", "backends": backends(a)}], {"workers": 2})
    cfg_ab = lb_config([web(port)], [{"name": "app", "backends": backends(a, b)}], {"workers": 2})
    lb = start_lb(procs, tmp_path, cfg_a, wait_ports=[port])

    failures, done, seen = [], threading.Event(), set()

    def client(keepalive):
        s, rd = None, None
        for i in deadline_loop(20, 5000):
            if done.is_set():
                break
            try:
                if s is None:
                    s = connect(port)
                    rd = Reader(s)
                send_request(s, "GET", f"/?i={i}")
                r = rd.read_response()
                if r.status != 200:
                    failures.append(r.status)
                seen.add(r.header("X-Backend"))
                if not keepalive:
                    s.close()
                    s = None
            except Exception as e:  # any error is a failed request
                failures.append(repr(e))
                s = None
        if s:
            s.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in (True, False, True)]
    for t in threads:
        t.start()
    try:
        for i in range(6):
            lb.rewrite(cfg_ab if i % 2 == 0 else cfg_a)
            lb.proc.signal(signal.SIGHUP)
            ebbtest.wait_until(lambda: lb.proc.stderr().count("configuration reloaded") >= i + 1, 10,
                               what="reload logged")
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert failures == []
    assert seen == {"a", "b"}
    assert lb.proc.alive()


def test_invalid_reload_keeps_old_config(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    cfg = lb_config([web(port)], [{"name": "app", "backends": backends(a)}])
    lb = start_lb(procs, tmp_path, cfg, wait_ports=[port])
    lb.rewrite(cfg.replace('balance', 'balance') + "\n[bogus]\nkey = 1\n")
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: "reload rejected" in lb.proc.stderr(), 10, what="rejected reload")
    assert "bogus" in lb.proc.stderr()
    assert request(port).status == 200
    # A config whose listener cannot bind is rejected too, and the old one keeps serving.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    lb.rewrite(lb_config([web(port), web(taken)], [{"name": "app", "backends": backends(a)}]))
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: lb.proc.stderr().count("reload rejected") >= 2, 10, what="second rejection")
    assert request(port).status == 200
    blocker.close()


def test_reload_adds_and_removes_listeners_keeping_connections(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    p1, p2 = ebbtest.free_port(), ebbtest.free_port()
    pools = [{"name": "app", "backends": backends(a)}]
    lb = start_lb(procs, tmp_path, lb_config([web(p1)], pools), wait_ports=[p1])
    keep = connect(p1)
    rd = Reader(keep)
    send_request(keep)
    assert rd.read_response().status == 200
    lb.rewrite(lb_config([web(p2)], pools))
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_port(p2)
    ebbtest.wait_until(lambda: not ebbtest.port_open(p1), 10, what="old listener closed")
    # The connection accepted before the reload still works.
    send_request(keep)
    assert rd.read_response().status == 200
    keep.close()
    assert request(p2).status == 200


def test_sigterm_finishes_in_flight_request(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config([web(port)], [{"name": "app", "backends": backends(a)}],
                                             {"shutdown_grace": "10s"}), wait_ports=[port])
    idle = connect(port)  # an idle keep-alive client connection is closed at once
    slow = connect(port)
    send_request(slow, "GET", "/delay?ms=700")
    # Wait until the request reached the backend side (ebb-lb holds it in flight).
    ebbtest.wait_until(lambda: request(port, "GET", "/").status == 200, 5, what="lb serving")
    lb.proc.signal(signal.SIGTERM)
    r = Reader(slow).read_response()
    assert r.status == 200
    assert Reader(idle).closed()
    assert lb.proc.wait(10) == 0
    assert not ebbtest.port_open(port)
    slow.close()
    idle.close()


def test_sigterm_grace_expires(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config([web(port)], [{"name": "app", "backends": backends(a)}],
                                             {"shutdown_grace": "300ms"}), wait_ports=[port])
    slow = connect(port)
    send_request(slow, "GET", "/delay?ms=20000")
    ebbtest.wait_until(lambda: request(port, "GET", "/").status == 200, 5, what="lb serving")
    t0 = time.monotonic()
    lb.proc.signal(signal.SIGTERM)
    assert lb.proc.wait(10) == 0
    assert time.monotonic() - t0 < 5
    slow.close()


def test_two_sigints_exit_at_once(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config([web(port)], [{"name": "app", "backends": backends(a)}],
                                             {"shutdown_grace": "60s"}), wait_ports=[port])
    slow = connect(port)
    send_request(slow, "GET", "/delay?ms=30000")
    ebbtest.wait_until(lambda: request(port, "GET", "/").status == 200, 5, what="lb serving")
    lb.proc.signal(signal.SIGINT)
    ebbtest.wait_until(lambda: "shutting down" in lb.proc.stderr(), 5, what="first SIGINT handled")
    lb.proc.signal(signal.SIGINT)
    assert lb.proc.wait(5) != 0
    slow.close()


def test_sd_notify_messages(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    port = ebbtest.free_port()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"\0ebb-test-notify-{port}"
    sock.bind(name)
    sock.settimeout(10)
    cfg = lb_config([web(port)], [{"name": "app", "backends": backends(a)}])
    lb = start_lb(procs, tmp_path, cfg, wait_ports=[port], env={"NOTIFY_SOCKET": "@" + name[1:]})
    assert sock.recv(4096) == b"READY=1"
    lb.proc.signal(signal.SIGHUP)
    assert sock.recv(4096).startswith(b"RELOADING=1\nMONOTONIC_USEC=")
    assert sock.recv(4096) == b"READY=1"
    lb.proc.signal(signal.SIGTERM)
    assert sock.recv(4096) == b"STOPPING=1"
    assert lb.proc.wait(10) == 0
    sock.close()


def test_reload_removing_backend_drains_in_flight_request(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    b, _ = start_backend(procs, "b")
    port = ebbtest.free_port()
    lb = start_lb(procs, tmp_path, lb_config([web(port)], [{"name": "app", "backends": backends(a)}]),
                  wait_ports=[port])
    slow = connect(port)
    send_request(slow, "GET", "/delay?ms=800")
    ebbtest.wait_until(lambda: request(port, "GET", "/").status == 200, 5, what="lb serving")
    lb.rewrite(lb_config([web(port)], [{"name": "app", "backends": backends(b)}]))
    lb.proc.signal(signal.SIGHUP)
    ebbtest.wait_until(lambda: request(port).header("X-Backend") == "b", 5, what="new membership")
    for _ in range(4):
        assert request(port).header("X-Backend") == "b"  # the draining backend gets nothing new
    r = Reader(slow).read_response()
    assert r.status == 200 and r.header("X-Backend") == "a"  # in-flight work finished
    slow.close()


def test_drain_timeout_ends_remaining_work(procs, tmp_path):
    a, _ = start_backend(procs, "a")
    b, _ = start_backend(procs, "b")
    port = ebbtest.free_port()
    pools = lambda ports: [{"name": "app", "drain_timeout": "300ms", "backends": backends(*ports)}]
    lb = start_lb(procs, tmp_path, lb_config([web(port)], pools([a])), wait_ports=[port])
    slow = connect(port)
    send_request(slow, "GET", "/delay?ms=20000")
    ebbtest.wait_until(lambda: request(port, "GET", "/").status == 200, 5, what="lb serving")
    t0 = time.monotonic()
    lb.rewrite(lb_config([web(port)], pools([b])))
    lb.proc.signal(signal.SIGHUP)
    assert Reader(slow).closed(timeout=10)
    assert time.monotonic() - t0 < 5
    slow.close()
