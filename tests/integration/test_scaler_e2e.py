"""End to end (issue 7): a real ebb-lb with a managed pool and fast HTTP health checks, a real
ebb-scaler with the process driver launching ebb-testbackend, and real client load through the LB.
  - load → the pool grows; load drops → it shrinks back to `min`, with zero failed client requests
    (a light load keeps running through every drain);
  - a backend SIGKILLed → replaced (a new address, registered and healthy, the dead one gone);
  - a backend not healthy by health_grace → replaced;
  - the scaler restarted with the same state file → it re-adopts: nothing launched, same instances;
  - a scale-out while a drain is in progress cancels the drain (PUT healthy) instead of launching;
  - a restarted LB (empty managed pool) gets the instances registered again (reconciliation);
  - two LBs get the same membership; with one down its metrics are missing: no scale-in until it
    is back and reconciled.
Waits poll with deadlines; the load threads are bounded in count and time."""
import http.client
import json
import os
import signal
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import ebbtest
from ebbtest import binary, free_port, free_ports, wait_until
from proxy_support import lb_config, start_lb

POOL = "app"
PORTS = 20  # the process driver's port range


class Setup:
    def __init__(self, procs, tmp_path, min_backends=2, max_backends=4, health_grace="5s", command=None,
                 second_lb=False):
        self.procs, self.tmp_path = procs, tmp_path
        self.port_base = free_ports(PORTS)  # the process driver's range, held for this test
        pool = {"name": POOL, "managed": True, "backends": [], "drain_timeout": "10s", "retries": 1,
                "health": {"check": "http", "path": "/healthz", "interval": "300ms", "timeout": "300ms",
                           "healthy_threshold": 1, "unhealthy_threshold": 2}}
        self.nodes = []  # (listener port, admin port, config text) of each ebb-lb
        for _ in range(2 if second_lb else 1):
            lport = free_port()
            text = lb_config([{"name": "web", "listen": f"127.0.0.1:{lport}", "pool": POOL}], [pool])
            self.nodes.append((lport, int(text.split('[admin]\nlisten = "127.0.0.1:')[1].split('"')[0]), text))
        self.lport, self.aport, self.lb_text = self.nodes[0]
        self.lbs = [start_lb(procs, tmp_path, text, name=f"ebb-lb-{i}", wait_ports=(lport, aport))
                    for i, (lport, aport, text) in enumerate(self.nodes)]
        self.lb = self.lbs[0]
        lb_admin = ", ".join(f'"http://127.0.0.1:{aport}"' for _, aport, _ in self.nodes)
        self.mport = free_port()
        self.state = tmp_path / "scaler-state.json"
        self.cfg = tmp_path / "scaler.toml"
        self.cfg.write_text(f"""
[scaler]
pool = "{POOL}"
lb_admin = [{lb_admin}]
metrics_listen = "127.0.0.1:{self.mport}"
state_file = "{self.state}"
min = {min_backends}
max = {max_backends}
interval = "500ms"
scale_out_cooldown = "1s"
scale_in_cooldown = "1500ms"
warmup = "500ms"
health_grace = "{health_grace}"
scale_in_step = 1
[[scaler.targets]]
metric = "active_per_backend"
target = 2.0

[driver]
type = "process"
command = {json.dumps(command or [binary('ebb-testbackend'), "--listen", "{address}", "--name", "i{port}"])}
ports = "{self.port_base}-{self.port_base + PORTS - 1}"
host = "127.0.0.1"
""")
        self.scalers = []

    def start_scaler(self):
        p = self.procs.start([binary("ebb-scaler"), "-c", self.cfg], f"scaler{len(self.scalers) + 1}")
        self.scalers.append(p)
        return p

    # --- what the LB, the scaler and the OS say ---
    def pool(self, aport=None):
        """address → state of every backend the LB lists (draining ones included)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{aport or self.aport}/api/v1/pools", timeout=2) as r:
            pools = json.loads(r.read())
        (p,) = [p for p in pools if p["name"] == POOL]
        return {b["address"]: b["state"] for b in p["backends"]}

    def healthy(self, n, aport=None):
        """The pool has exactly n backends, all healthy (nothing draining or unknown)."""
        m = self.pool(aport)
        return len(m) == n and set(m.values()) == {"healthy"} and m

    def instances(self):
        try:
            return {i["address"]: i for i in json.loads(self.state.read_text())["instances"]}
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return {}

    def scaler_get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.mport}{path}", timeout=2) as r:
            return r.read().decode()

    def decisions(self):
        return json.loads(self.scaler_get("/api/v1/decisions"))

    def backend_processes(self):
        """pid → address of every running ebb-testbackend listening in our port range."""
        want = {f"127.0.0.1:{self.port_base + i}" for i in range(PORTS)}
        out = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if stat[stat.rfind(")") + 2] == "Z":
                continue
            argv = [a.decode(errors="replace") for a in argv]
            if argv and argv[0].endswith("ebb-testbackend") and "--listen" in argv:
                addr = argv[argv.index("--listen") + 1]
                if addr in want:
                    out[int(d.name)] = addr
        return out

    def kill_instances(self):
        for pid in self.backend_processes():  # they outlive the scaler by design
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Load:
    """Client threads doing GET /delay?ms=N through the LB on keep-alive connections until told to
    stop (or a hard deadline). Every non-200 answer and every connection error is a failure."""

    def __init__(self, port, threads, delay_ms, limit_s=90):
        self.port, self.delay_ms = port, delay_ms
        self.ok = 0
        self.failures = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + limit_s
        self.workers = []
        for _ in range(threads):
            stop = threading.Event()
            t = threading.Thread(target=self._run, args=(stop,), daemon=True)
            self.workers.append((t, stop))
            t.start()

    def _run(self, stop):
        conn = None
        while not stop.is_set() and time.monotonic() < self.deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", f"/delay?ms={self.delay_ms}")
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    with self.lock:
                        self.failures.append(f"status {r.status}: {body[:100]!r}")
                else:
                    with self.lock:
                        self.ok += 1
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failures.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def reduce_to(self, n):
        """Stops all but n threads (and waits for the stopped ones to finish their request)."""
        for t, stop in self.workers[n:]:
            stop.set()
        for t, _ in self.workers[n:]:
            t.join(15)
        self.workers = self.workers[:n]

    def stop(self):
        self.reduce_to(0)


def metric_value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    return None


@pytest.fixture
def setups(procs, tmp_path):
    made = []

    def make(**kw):
        made.append(Setup(procs, tmp_path, **kw))
        return made[-1]
    yield make
    for s in made:
        for p in s.scalers:
            p.stop()
        s.kill_instances()


@pytest.fixture
def setup(setups):
    return setups()


def test_scaler_e2e_grows_under_load_and_shrinks_without_failed_requests(setup):
    s = setup
    scaler = s.start_scaler()
    wait_until(lambda: s.healthy(2), 15, 0.05, "the pool at min = 2, healthy")
    assert s.instances().keys() == s.pool().keys()

    # 8 clients, 50 ms per request: ~4 in flight per backend, twice the target of 2
    load = Load(s.lport, threads=8, delay_ms=50)
    try:
        wait_until(lambda: len(s.pool()) > 2, 20, 0.05, "the pool to grow")
        grown = wait_until(lambda: len(s.instances()) >= 3 and s.healthy(len(s.instances())), 15, 0.05,
                           "the new backends registered and healthy")
        grown = set(grown)
        # The scaler may still add one more while the load stays high: every instance that
        # appears before the pool starts shrinking counts as grown; one launched after that
        # would be a replacement, which scale-in must not do.
        shrinking = [False]

        def back_at_min():
            now = set(s.instances())
            if len(now) < len(grown):
                shrinking[0] = True
            if not shrinking[0]:
                grown.update(now)
            return s.healthy(2) and len(now) == 2
        # a light load keeps running through every drain: ~2 in flight in the whole pool, below
        # the target of 2 per backend even at min
        load.reduce_to(2)
        wait_until(back_at_min, 30, 0.05, "the pool back at min = 2")
        ok_at_min = load.ok
        # the drained instances were terminated, the survivors kept
        wait_until(lambda: set(s.backend_processes().values()) == set(s.instances()), 10, 0.05,
                   "the drained processes gone")
        assert set(s.instances()) <= grown and len(grown) > 2
        # and the remaining backends still serve the light load
        wait_until(lambda: load.ok > ok_at_min + 20, 10, 0.05, "requests after the scale-in")
    finally:
        load.stop()
    assert load.failures == [], f"{len(load.failures)} failed client requests: {load.failures[:5]}"
    assert load.ok > 100

    # GET /api/v1/decisions explains: inputs, desired per target, the bound, the action
    ds = s.decisions()
    assert ds[0]["action"] == "launch 2" and ds[0]["current"] == 0 and "min" in ds[0]["bounds"]
    outs = [d for d in ds if d["launch"] > 0 and d["current"] >= 2]
    ins = [d for d in ds if d["drain"]]
    assert outs and ins, [d["action"] for d in ds]
    d = outs[0]
    assert d["action"].startswith("launch") and d["desired"] > d["current"]
    t = d["targets"][0]
    assert t["metric"] == "active_per_backend" and t["target"] == 2.0 and t["value"] > 2.2
    assert t["desired"] == d["desired"] or "max" in d["bounds"]
    d = ins[-1]
    assert d["action"].startswith("drain") and d["desired"] == d["current"] - 1
    assert any(b in ("stabilisation", "cooldown") for x in ds for b in x["bounds"])
    assert "action=" in scaler.stderr() and "desired=" in scaler.stderr()

    # /metrics (SPEC §6 scaler names)
    text = s.scaler_get("/metrics")
    assert metric_value(text, f'ebb_scaler_backends{{kind="current",pool="{POOL}"}}') == 2
    assert metric_value(text, f'ebb_scaler_backends{{kind="desired",pool="{POOL}"}}') == 2
    assert metric_value(text, f'ebb_scaler_backends{{kind="min",pool="{POOL}"}}') == 2
    assert metric_value(text, f'ebb_scaler_backends{{kind="max",pool="{POOL}"}}') == 4
    assert metric_value(text, f'ebb_scaler_metric{{metric="active_per_backend",pool="{POOL}"}}') is not None
    launched = metric_value(text, f'ebb_scaler_actions_total{{action="launch",pool="{POOL}"}}')
    drained = metric_value(text, f'ebb_scaler_actions_total{{action="drain",pool="{POOL}"}}')
    terminated = metric_value(text, f'ebb_scaler_actions_total{{action="terminate",pool="{POOL}"}}')
    assert launched == len(grown) and drained == terminated == len(grown) - 2
    assert metric_value(text, f'ebb_scaler_actions_total{{action="replace",pool="{POOL}"}}') == 0


def test_scaler_e2e_replaces_a_killed_backend_and_readopts_after_restart(setup):
    s = setup
    scaler = s.start_scaler()
    first = wait_until(lambda: s.healthy(2), 15, 0.05, "the pool at min = 2, healthy")
    insts = wait_until(lambda: len(s.instances()) == 2 and s.instances(), 5, 0.05, "two instances")
    assert set(first) == set(insts)

    # SIGKILL one instance: it is replaced under a new address, the dead one leaves the LB
    victim = sorted(insts)[0]
    os.kill(int(insts[victim]["handle"]), signal.SIGKILL)

    def replaced():
        m = s.healthy(2)
        return m and victim not in m and set(m) == set(s.instances()) and m
    after = wait_until(replaced, 15, 0.05, "the killed backend replaced")
    new = (set(after) - set(first)).pop()
    assert int(s.instances()[new]["handle"]) != int(insts[victim]["handle"])
    assert "replacing it" in scaler.stderr()
    text = s.scaler_get("/metrics")
    assert metric_value(text, f'ebb_scaler_actions_total{{action="replace",pool="{POOL}"}}') == 1
    # the gauges follow the decisions (one per interval)
    wait_until(lambda: metric_value(s.scaler_get("/metrics"), f'ebb_scaler_backends{{kind="current",pool="{POOL}"}}') == 2,
               5, 0.05, "the current-backends gauge at 2")

    # restart the scaler on the same state file: it re-adopts both, launches nothing
    before_lb, before_state, before_procs = s.pool(), s.instances(), s.backend_processes()
    assert set(before_procs.values()) == set(before_lb) == set(before_state)
    scaler.signal(signal.SIGTERM)
    assert scaler.wait(10) == 0
    scaler2 = s.start_scaler()
    wait_until(lambda: scaler2.stderr().count("re-adopted") == 2, 10, 0.05, "re-adoption")
    wait_until(lambda: len(s.decisions()) >= 4, 10, 0.05, "four decisions after the restart")
    assert "launched" not in scaler2.stderr()
    assert all(d["current"] == 2 and d["launch"] == 0 and not d["drain"] for d in s.decisions())
    assert s.pool() == before_lb
    assert s.backend_processes() == before_procs
    assert {a: i["handle"] for a, i in s.instances().items()} == {a: i["handle"] for a, i in before_state.items()}

    # the re-adopted instances are still watched: a kill is noticed and replaced
    victim2 = sorted(before_state)[0]
    os.kill(int(before_state[victim2]["handle"]), signal.SIGKILL)
    wait_until(lambda: (m := s.healthy(2)) and victim2 not in m and set(m) == set(s.instances()), 15, 0.05,
               "the killed re-adopted backend replaced")
    assert len(s.backend_processes()) == 2


def test_scaler_e2e_replaces_a_backend_not_healthy_by_health_grace(setups, tmp_path):
    # the first instance launched answers its health checks with 503, the ones after it are fine
    marker = tmp_path / "first-launch-done"
    script = (f'if [ -e "{marker}" ]; then exec "$0" --listen "$1" --name "i$1"; '
              f'else touch "{marker}"; exec "$0" --listen "$1" --name "i$1" --unhealthy; fi')
    s = setups(min_backends=1, health_grace="2s",
               command=["/bin/sh", "-c", script, binary("ebb-testbackend"), "{address}"])
    scaler = s.start_scaler()
    first = wait_until(lambda: len(s.instances()) == 1 and s.instances(), 10, 0.05, "the first instance")
    (bad,) = first
    wait_until(lambda: s.pool().get(bad) == "unhealthy", 10, 0.05, "the first instance failing its checks")
    good = wait_until(lambda: (m := s.healthy(1)) and bad not in m and set(m) == set(s.instances()) and m, 15, 0.05,
                      "a replacement, healthy")
    assert bad not in good
    assert "not healthy after health_grace 2s: replacing it" in scaler.stderr()
    # the unhealthy one was stopped, not left running
    wait_until(lambda: set(s.backend_processes().values()) == set(good), 10, 0.05, "the unhealthy process stopped")
    text = s.scaler_get("/metrics")
    assert metric_value(text, f'ebb_scaler_actions_total{{action="replace",pool="{POOL}"}}') == 1


def slow_request(port, ms, results):
    """One GET /delay?ms=N through the LB in a thread; its status (or error) lands in results."""
    def run():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=ms / 1000 + 10)
            c.request("GET", f"/delay?ms={ms}")
            r = c.getresponse()
            r.read()
            results.append(r.status)
            c.close()
        except (OSError, http.client.HTTPException) as e:
            results.append(repr(e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_scaler_e2e_scale_out_during_a_drain_cancels_it(setups):
    s = setups(min_backends=1, max_backends=2)
    scaler = s.start_scaler()
    wait_until(lambda: s.healthy(1), 15, 0.05, "the pool at min = 1")
    load = Load(s.lport, threads=6, delay_ms=50)
    try:
        two = set(wait_until(lambda: s.healthy(2), 20, 0.05, "the pool at max = 2"))
    finally:
        load.stop()
    # one long request on each backend (round robin): 1 in flight per backend, half the target,
    # so the scaler drains one of them, and that drain lasts as long as its request
    results = []
    slow = [slow_request(s.lport, 8000, results) for _ in range(2)]
    wait_until(lambda: "draining" in s.pool().values(), 10, 0.05, "a drain")
    (draining,) = [a for a, st in s.pool().items() if st == "draining"]
    procs_before = s.backend_processes()
    # load again: the scale-out takes the draining backend back instead of launching one
    load = Load(s.lport, threads=6, delay_ms=50)
    try:
        wait_until(lambda: s.pool().get(draining) == "healthy", 10, 0.05, "the drain cancelled")
        assert "cancelled the drain of " + draining in scaler.stderr()
        assert results == [], "the drained backend's request still runs"
        assert set(s.pool()) == two and set(s.instances()) == two
        assert s.backend_processes() == procs_before  # nothing launched, nothing stopped
        ds = s.decisions()
        assert any(d["cancel_drain"] == [draining] and d["launch"] == 0 for d in ds), [d["action"] for d in ds]
    finally:
        load.stop()
    for t in slow:
        t.join(15)
    assert results == [200, 200]
    assert load.failures == []


def test_scaler_e2e_reregisters_with_a_restarted_lb(setups, procs, tmp_path):
    s = setups(min_backends=2)
    s.start_scaler()
    before = set(wait_until(lambda: s.healthy(2), 15, 0.05, "the pool at min = 2"))
    # a restarted LB starts its managed pool empty (no backends in the config): the scaler
    # notices on its next observation and registers its instances again
    assert s.lb.proc.stop() == 0
    s.lb = start_lb(procs, tmp_path, s.lb_text, name="ebb-lb-restarted", wait_ports=(s.lport, s.aport))
    assert set(wait_until(lambda: s.healthy(2), 10, 0.05, "the instances registered again")) == before
    assert set(s.instances()) == before and set(s.backend_processes().values()) == before
    r = urllib.request.urlopen(f"http://127.0.0.1:{s.lport}/delay?ms=1", timeout=5)
    assert r.status == 200


def test_scaler_e2e_two_lbs_same_membership_and_a_node_down(setups, procs, tmp_path):
    s = setups(min_backends=1, max_backends=3, second_lb=True)
    (l1, a1, _), (l2, a2, text2) = s.nodes
    scaler = s.start_scaler()
    wait_until(lambda: s.healthy(1, a1) and s.healthy(1, a2), 15, 0.05, "both LBs at min = 1")
    # load through the first LB only: the pool grows on both nodes alike
    load = Load(l1, threads=6, delay_ms=50)
    try:
        grown = wait_until(lambda: (m := s.healthy(3, a1)) and s.pool(a2) == m and m, 20, 0.05,
                           "both LBs at 3, the same members")
        # the second node goes down; the load stops: its metrics are missing, so no scale-in
        assert s.lbs[1].proc.stop() == 0
    finally:
        load.stop()
    n = len(s.decisions())
    wait_until(lambda: len(s.decisions()) >= n + 4, 10, 0.05, "four decisions with a node down")
    later = s.decisions()[n:]
    assert all(not d["drain"] and d["current"] == 3 for d in later), [d["action"] for d in later]
    assert any("missing_data" in d["bounds"] for d in later), later[-1]
    assert f"127.0.0.1:{a2}" in later[-1]["missing"]
    assert set(s.pool(a1)) == set(grown)
    # the node returns with an empty managed pool: reconciled, then the pool shrinks on both
    s.lbs[1] = start_lb(procs, tmp_path, text2, name="ebb-lb-1-restarted", wait_ports=(l2, a2))
    wait_until(lambda: s.healthy(1, a1) and s.healthy(1, a2) and s.pool(a1) == s.pool(a2), 30, 0.05,
               "both LBs back at min = 1, the same member")
    assert set(s.pool(a1)) < set(grown)
    # a drained instance stays tracked until its process has stopped
    wait_until(lambda: set(s.backend_processes().values()) == set(s.instances()) == set(s.pool(a1)), 10, 0.05,
               "the drained instances stopped")
    assert "registering" in scaler.stderr()
