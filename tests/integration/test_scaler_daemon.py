"""ebb-scaler as a daemon without an ebb-lb: --dry-run explains and never acts; a real run launches
through the process driver, replaces an instance that dies, and re-adopts after a restart.
(The end-to-end test with a real ebb-lb is separate.)"""
import json
import os
import signal
import urllib.request

from ebbtest import binary, free_port, free_ports, port_open, wait_until


def write_config(tmp_path, lb_port, metrics_port, port_base, state):
    cfg = tmp_path / "scaler.toml"
    cfg.write_text(f"""
[scaler]
pool = "app"
lb_admin = ["http://127.0.0.1:{lb_port}"]
metrics_listen = "127.0.0.1:{metrics_port}"
state_file = "{state}"
min = 2
max = 4
interval = "200ms"
warmup = "1s"

[[scaler.targets]]
metric = "cpu_percent"
target = 60

[driver]
type = "process"
command = ["/usr/bin/python3", "-m", "http.server", "{{port}}", "--bind", "{{host}}"]
ports = "{port_base}-{port_base + 9}"
host = "127.0.0.1"
""")
    return cfg


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
        return r.status, r.read().decode()


def decisions(port):
    return json.loads(get(port, "/api/v1/decisions")[1])


def read_state(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_dry_run_decides_and_explains_but_never_acts(tmp_path, procs):
    metrics_port, port_base = free_port(), free_ports(10)
    state = tmp_path / "state.json"
    cfg = write_config(tmp_path, free_port(), metrics_port, port_base, state)
    p = procs.start([binary("ebb-scaler"), "-c", cfg, "--dry-run"], "scaler")
    wait_until(lambda: len(decisions(metrics_port)) >= 3, timeout=10, what="three decisions")
    d = decisions(metrics_port)[-1]
    assert d["pool"] == "app" and d["policy"] == "target_tracking"
    assert d["current"] == 0 and d["desired"] == 2
    assert d["action"] == "launch 2"
    assert "min" in d["bounds"]
    assert d["targets"][0]["metric"] == "cpu_percent"
    assert d["targets"][0]["value"] is None
    assert get(metrics_port, "/healthz") == (200, "ok")
    status, text = get(metrics_port, "/metrics")
    assert 'ebb_scaler_backends{kind="desired",pool="app"} 2' in text
    assert 'ebb_scaler_backends{kind="min",pool="app"} 2' in text
    assert 'ebb_scaler_actions_total{action="launch",pool="app"} 0' in text
    # the log has one line per decision, with the bound and the action
    assert "bound=missing_data,min" in p.stderr() or "bound=min" in p.stderr()
    assert "action=launch 2" in p.stderr()
    # nothing was launched, nothing written
    assert not any(port_open(port_base + i) for i in range(10))
    assert not state.exists()
    p.signal(signal.SIGTERM)
    assert p.wait(10) == 0


def test_launches_replaces_and_readopts_without_duplicates(tmp_path, procs):
    metrics_port, port_base = free_port(), free_ports(10)
    state = tmp_path / "state.json"
    cfg = write_config(tmp_path, free_port(), metrics_port, port_base, state)
    pids = []
    try:
        p = procs.start([binary("ebb-scaler"), "-c", cfg], "scaler1")
        wait_until(lambda: (s := read_state(state)) and len(s["instances"]) == 2, timeout=10, what="two instances")
        first = read_state(state)["instances"]
        pids = [int(i["handle"]) for i in first]
        for i in first:
            wait_until(lambda: port_open(int(i["address"].split(":")[1])), timeout=10, what=i["address"])

        # an instance that dies is replaced at once
        victim = first[0]
        os.kill(int(victim["handle"]), signal.SIGKILL)

        def replaced():
            s = read_state(state)
            return s and len(s["instances"]) == 2 and victim["handle"] not in [i["handle"] for i in s["instances"]]
        wait_until(replaced, timeout=10, what="a replacement")
        second = read_state(state)["instances"]
        pids += [int(i["handle"]) for i in second]
        assert "replacing it" in p.stderr()
        _, text = get(metrics_port, "/metrics")
        assert 'ebb_scaler_actions_total{action="replace",pool="app"} 1' in text
        p.signal(signal.SIGTERM)
        assert p.wait(10) == 0

        # a restarted scaler re-adopts both and launches nothing
        p2 = procs.start([binary("ebb-scaler"), "-c", cfg], "scaler2")
        wait_until(lambda: p2.stderr().count("re-adopted") == 2, timeout=10, what="re-adoption")
        wait_until(lambda: len(decisions(metrics_port)) >= 5, timeout=10, what="five decisions")
        assert "launched" not in p2.stderr()
        assert sorted(i["handle"] for i in read_state(state)["instances"]) == sorted(i["handle"] for i in second)
        assert all(d["current"] == 2 and d["launch"] == 0 for d in decisions(metrics_port))
        p2.signal(signal.SIGTERM)
        assert p2.wait(10) == 0
    finally:
        for pid in set(pids):  # the instances outlive the scaler by design
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def raw_exchange(port, data):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode(errors="replace")


def test_metrics_listener_rejects_bad_requests_and_keeps_serving(tmp_path, procs):
    metrics_port = free_port()
    cfg = write_config(tmp_path, free_port(), metrics_port, free_port(), tmp_path / "state.json")
    p = procs.start([binary("ebb-scaler"), "-c", cfg, "--dry-run"], "scaler")
    wait_until(lambda: get(metrics_port, "/healthz")[0] == 200, timeout=10, what="the metrics listener")
    cases = [
        (b"GARBAGE\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n", "431"),
        (b"POST /api/v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "405"),
        (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
    ]
    for data, status in cases:
        reply = raw_exchange(metrics_port, data)
        assert reply.startswith(f"HTTP/1.1 {status} "), (data[:40], reply[:200])
    # a client that connects and says nothing does not block others
    import socket
    idle = socket.create_connection(("127.0.0.1", metrics_port), timeout=5)
    try:
        assert get(metrics_port, "/healthz") == (200, "ok")
    finally:
        idle.close()
    assert p.alive()
