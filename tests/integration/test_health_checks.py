"""Health checks of a real ebb-lb against real test backends (SPEC §2 [pools.health]):
transitions in both directions (/fail-health, stopped backends), first-check failure at load,
expected status range, tcp checks, passive ejection with back-off, events and metrics."""
import json
import re

import ebbtest
from proxy_support import admin_port, backends, lb_config, request, start_backend, start_lb


def api_get(aport, path):
    r = request(aport, "GET", path)
    assert r.status == 200, (path, r.status, r.body)
    return json.loads(r.body)


def states(aport):
    return {b["address"]: b["state"] for b in api_get(aport, "/api/v1/pools/app")["backends"]}


def served_by(lport, n):
    return [request(lport, "GET", "/").header("x-backend") for _ in range(n)]


def start(procs, tmp_path, ports, health, pool_extra=None):
    lport = ebbtest.free_port()
    pool = {"name": "app", "backends": backends(*ports), "health": health}
    pool.update(pool_extra or {})
    text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": "app"}], [pool])
    aport = admin_port(text)
    lb = start_lb(procs, tmp_path, text, wait_ports=(lport, aport))
    return lb, lport, aport


FAST_HTTP = {"check": "http", "path": "/healthz", "interval": "100ms", "timeout": "500ms",
             "healthy_threshold": 2, "unhealthy_threshold": 2}


def test_http_check_down_and_up_with_fail_health(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    p1, _ = start_backend(procs, "b1")
    lb, lport, aport = start(procs, tmp_path, [p0, p1], FAST_HTTP)
    a0 = f"127.0.0.1:{p0}"
    assert sorted(served_by(lport, 4)) == ["b0", "b0", "b1", "b1"]
    pass_counted = rf'ebb_health_checks_total\{{pool="app",backend="{re.escape(a0)}",result="pass"\}} [1-9]'
    ebbtest.wait_until(lambda: re.search(pass_counted, request(aport, "GET", "/metrics").body.decode()), 5,
                       what="first check of b0")

    assert request(p0, "GET", "/fail-health").body == b"unhealthy"
    ebbtest.wait_until(lambda: states(aport)[a0] == "unhealthy", 5, what="b0 unhealthy")
    assert set(served_by(lport, 6)) == {"b1"}  # traffic avoids it
    metrics = request(aport, "GET", "/metrics").body.decode()
    assert f'ebb_backend_up{{pool="app",backend="{a0}"}} 0' in metrics
    assert f'ebb_backend_state{{pool="app",backend="{a0}",state="unhealthy"}} 1' in metrics
    assert re.search(rf'ebb_health_checks_total\{{pool="app",backend="{re.escape(a0)}",result="fail"\}} [1-9]', metrics)

    assert request(p0, "GET", "/fail-health").body == b"healthy"
    ebbtest.wait_until(lambda: states(aport)[a0] == "healthy", 5, what="b0 healthy again")
    assert "b0" in set(served_by(lport, 6))

    events = [e for e in api_get(aport, "/api/v1/events") if e["type"] == "health"]
    assert [e["message"] for e in events] == [
        "healthy -> unhealthy: 2 consecutive failed checks: HTTP 503",
        "unhealthy -> healthy: 2 consecutive passed checks: HTTP 200",
    ]
    assert all(e["backend"] == a0 and e["pool"] == "app" for e in events)


def test_first_check_failure_at_load(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    dead = ebbtest.free_port()  # nothing listens here
    health = dict(FAST_HTTP, interval="300ms", unhealthy_threshold=5)
    lb, lport, aport = start(procs, tmp_path, [p0, dead], health)
    # Starts healthy (a fresh LB serves at once), the first failed check takes it out.
    ebbtest.wait_until(lambda: states(aport)[f"127.0.0.1:{dead}"] == "unhealthy", 5, what="dead backend out")
    assert set(served_by(lport, 4)) == {"b0"}
    events = [e for e in api_get(aport, "/api/v1/events") if e["type"] == "health"]
    assert events[0]["message"] == "healthy -> unhealthy: first check failed: connection refused"


def test_expected_status_range_and_path(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    p1, _ = start_backend(procs, "b1")
    # /status/204 answers 204: outside "200" but inside "200-299"
    health = dict(FAST_HTTP, path="/status/204", expect="200")
    lb, lport, aport = start(procs, tmp_path, [p0, p1], health)
    ebbtest.wait_until(lambda: set(states(aport).values()) == {"unhealthy"}, 5, what="both out")
    assert request(lport, "GET", "/").status == 503  # no healthy backend
    text = lb.path.read_text().replace('expect = "200"', 'expect = "200-299"')
    lb.rewrite(text)
    assert request(aport, "POST", "/api/v1/reload", headers={"Content-Length": "0"}).status == 200
    ebbtest.wait_until(lambda: set(states(aport).values()) == {"healthy"}, 5, what="both back")
    assert request(lport, "GET", "/").status == 200


def test_tcp_check_follows_the_process(procs, tmp_path):
    p0, b0 = start_backend(procs, "b0")
    p1, _ = start_backend(procs, "b1")
    health = {"check": "tcp", "interval": "100ms", "timeout": "300ms",
              "healthy_threshold": 2, "unhealthy_threshold": 2}
    lb, lport, aport = start(procs, tmp_path, [p0, p1], health)
    a0 = f"127.0.0.1:{p0}"
    b0.stop()
    ebbtest.wait_until(lambda: states(aport)[a0] == "unhealthy", 5, what="stopped backend unhealthy")
    assert set(served_by(lport, 4)) == {"b1"}
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", a0, "--name", "b0"], "b0-again")
    ebbtest.wait_until(lambda: states(aport)[a0] == "healthy", 5, what="restarted backend healthy")
    assert "b0" in set(served_by(lport, 6))


def test_api_backend_needs_passing_checks(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    lb, lport, aport = start(procs, tmp_path, [p0], dict(FAST_HTTP, healthy_threshold=3))
    p1, b1 = start_backend(procs, "b1")
    assert request(p1, "GET", "/fail-health").body == b"unhealthy"
    a1 = f"127.0.0.1:{p1}"
    r = request(aport, "POST", "/api/v1/pools/app/backends", headers={"Content-Type": "application/json"},
                body=json.dumps({"address": a1}).encode())
    assert r.status == 201 and json.loads(r.body)["state"] == "unknown"
    ebbtest.wait_until(lambda: states(aport)[a1] == "unhealthy", 5, what="failing API backend unhealthy")
    assert set(served_by(lport, 4)) == {"b0"}
    request(p1, "GET", "/fail-health")
    ebbtest.wait_until(lambda: states(aport)[a1] == "healthy", 5, what="API backend healthy")
    assert "b1" in set(served_by(lport, 4))


def test_passive_ejection_without_active_checks(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    p1, b1 = start_backend(procs, "b1")
    # checks off: re-admission after the back-off, max(1 s, 5 × interval) = 1 s
    health = {"check": "none", "interval": "100ms", "passive_failures": 2}
    lb, lport, aport = start(procs, tmp_path, [p0, p1], health, pool_extra={"retries": 1})
    a1 = f"127.0.0.1:{p1}"
    b1.stop()
    # Every request still succeeds (a failed connect is retried on b0) while b1 counts failures.
    def ejected():
        assert request(lport, "GET", "/").status == 200
        return states(aport)[a1] == "unhealthy"
    ebbtest.wait_until(ejected, 5, what="passive ejection")
    events = [e for e in api_get(aport, "/api/v1/events") if e["type"] == "health"]
    # the control thread polls the workers' counters (every 100 ms), so it may see more than 2
    assert re.match(r"healthy -> unhealthy: passive: \d+ consecutive connect errors", events[-1]["message"])
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", a1, "--name", "b1"], "b1-again")
    ebbtest.wait_port(p1)
    ebbtest.wait_until(lambda: states(aport)[a1] == "healthy", 5, what="re-admitted after back-off")
    assert "b1" in set(served_by(lport, 4))


def test_passive_ejection_readmitted_by_active_checks(procs, tmp_path):
    p0, _ = start_backend(procs, "b0")
    p1, b1 = start_backend(procs, "b1")
    health = dict(FAST_HTTP, interval="2s", passive_failures=1)  # slow checks: passive acts first
    lb, lport, aport = start(procs, tmp_path, [p0, p1], health, pool_extra={"retries": 1})
    a1 = f"127.0.0.1:{p1}"
    b1.stop()
    def ejected():
        assert request(lport, "GET", "/").status == 200
        return states(aport)[a1] == "unhealthy"
    ebbtest.wait_until(ejected, 5, what="passive ejection")
    procs.start([ebbtest.binary("ebb-testbackend"), "--listen", a1, "--name", "b1"], "b1-again")
    # two passing checks at ~2 s intervals (the first one is prompt after the ejection)
    ebbtest.wait_until(lambda: states(aport)[a1] == "healthy", 8, what="re-admitted by active checks")
    msgs = [e["message"] for e in api_get(aport, "/api/v1/events") if e["type"] == "health"]
    assert any("re-admitted after passive ejection" in m for m in msgs)


def test_passive_ejection_on_5xx_responses(procs, tmp_path):
    p1, _ = start_backend(procs, "b1")
    health = {"check": "none", "interval": "1s", "passive_failures": 3}
    lb, lport, aport = start(procs, tmp_path, [p1], health)
    a1 = f"127.0.0.1:{p1}"
    # A non-5xx response resets the count: 2 + 2 failures never reach 3 in a row.
    for path in ("/status/500", "/status/502", "/", "/status/500", "/status/503"):
        request(lport, "GET", path)
    assert states(aport)[a1] == "healthy"
    assert request(lport, "GET", "/status/500").status == 500  # the third in a row
    ebbtest.wait_until(lambda: states(aport)[a1] == "unhealthy", 5, what="passive ejection on 5xx")
    assert request(lport, "GET", "/").status == 503  # no backend left
    msgs = [e["message"] for e in api_get(aport, "/api/v1/events") if e["type"] == "health"]
    assert any("consecutive connect errors or 5xx responses" in m for m in msgs)
