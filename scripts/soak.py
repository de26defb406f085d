#!/usr/bin/env python3
"""Soak test of ebb-lb (not a CI test): wrk at a moderate fixed rate through ebb-lb for a long time
(default 30 min) while faults are injected on a schedule; RSS and open fds are sampled every 10 s.

Set-up (everything on 127.0.0.1, from a built tree's bin/):
  ebb-lb, 2 workers, access log off, admin API with a token, two listeners:
    web    (HTTP)       default pool "app", path prefix /dyn/ -> pool "dyn"
    secure (HTTPS, TLS) same routes, self-signed ECDSA certificate made with the openssl CLI
  pool app: 3 ebb-testbackend backends, weighted_round_robin, membership owned by the config file
  pool dyn: managed = true (membership owned by the admin API), seeded with 3 backends, plus two
            spare backends that the API adds and removes
  active HTTP health checks every 500 ms on both pools, retries = 2.
Load: one wrk on "web" (8 keep-alive connections, 4 ms pause before each request: ~1.5-2k req/s,
  paths alternating between the pools) and one wrk on "secure" (2 connections, every request with
  "Connection: close", so each is a new TLS handshake: ~100/s). A Lua response() hook counts every
  status exactly.
Faults, each on its own thread:
  reload  every 5 s: the config file alternates between two valid versions (app weights 3/1/2 vs
          1/2/3, dyn balance round_robin vs least_conn, health interval 500 vs 700 ms), then SIGHUP.
  flap    one app backend at a time: /fail-health (LB marks it unhealthy), 5 s later back
          (healthy again), 4 s pause, next backend.
  api     every 5 s the next step of: add spare 0, add spare 1, remove spare 0, recycle a seeded dyn
          backend (DELETE, wait until it has drained and left the pool, stop the process, start a
          new one on the same port, POST it back, wait until healthy), remove spare 1, change a
          seeded backend's weight (PUT). Removal always drains first.
  crash   every 5 min (first at 2.5 min) instead of a flap: SIGKILL one app backend, restart it 3 s
          later. This is the only deliberate source of errors: requests already sent to the killed
          backend (on a pooled upstream connection) cannot be retried and get a 502. Those are
          counted from ebb-lb's metrics (5xx of that backend inside the crash window) as deliberate.
Every other non-2xx response, wrk socket error, failed reload or failed API step is a failure.

Pass/fail (exit 0 / 1; 2 when the set-up itself fails):
  RSS:  end <= RSS at the end of warm-up * 1.10 + 2 MiB. Warm-up is 5 min (a sixth of shorter runs):
        by then the allocator's per-thread arenas, the upstream connection pools and the TLS session
        cache have reached their working size, and the event ring (1000 entries) is mostly full.
        After that ebb-lb's state is bounded, so growth is either a leak or allocator noise; glibc
        keeps freed memory in its arenas and RSS moves by a few hundred KiB with the allocation
        pattern, hence the 2 MiB floor. On a ~10 MiB process the bound is ~3 MiB: a leak of 1 KiB
        per reload (300+ reloads), of 10 KiB per API step, or of 1 byte per request (~3M requests)
        exceeds it in a 30-minute run.
  fds:  the median of the last 3 samples <= the median over the last minute of warm-up + 16. The
        count moves with the connections open at the sampling instant (8 + 2 client connections,
        pooled idle upstream connections, health checks in flight: +-6 when nothing else happens,
        and a burst of pooled connections after a crash that the idle sweep closes within a
        minute); a per-event leak (hundreds of reloads, API steps, TLS handshakes, flaps) would
        exceed the slack many times over.
  errors: no non-deliberate non-2xx, no wrk socket errors, every SIGHUP counted as a successful
        reload and none failed, no failed fault step, ebb-lb alive throughout and exits 0 on SIGTERM.

Usage: scripts/soak.sh [--duration 30m] [--build-dir build] [--workdir DIR]
Output: DIR/soak.csv (one row per 10 s), DIR/summary.txt, the processes' logs in DIR/logs.
Python 3 standard library only.
"""
import argparse
from http.client import HTTPConnection
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_EVERY = 10.0
RELOAD_EVERY = 5.0
API_EVERY = 5.0
FLAP_HOLD, FLAP_GAP = 5.0, 4.0
CRASH_FIRST, CRASH_EVERY, CRASH_DOWN = 150.0, 300.0, 3.0
RSS_FACTOR, RSS_SLACK_KIB, FD_SLACK = 1.10, 2048, 16

WRK_LUA = r"""
-- Written by scripts/soak.py. SOAK_DELAY_MS: pause before each request on a connection;
-- SOAK_PATHS: comma-separated paths, used in turn; SOAK_CLOSE=1: "Connection: close".
local threads = {}
function setup(thread) table.insert(threads, thread) end

local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "4")
local close = os.getenv("SOAK_CLOSE") == "1"
local paths = {}
for p in string.gmatch(os.getenv("SOAK_PATHS") or "/", "[^,]+") do table.insert(paths, p) end
local next_path = 0
statuses = {}

function request()
   next_path = next_path % #paths + 1
   local headers = { Host = "soak.test" }
   if close then headers["Connection"] = "close" end
   return wrk.format("GET", paths[next_path], headers)
end

function delay() return delay_ms end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local merged = {}
   for _, t in ipairs(threads) do
      for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
   end
   local codes = {}
   for code, n in pairs(merged) do table.insert(codes, code .. ":" .. n) end
   local e = summary.errors
   io.write(string.format(
      "SOAK_RESULT requests=%d connect=%d read=%d write=%d status=%d timeout=%d codes=%s\n",
      summary.requests, e.connect, e.read, e.write, e.status, e.timeout, table.concat(codes, ",")))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, what):
    """Polls predicate() every 50 ms until truthy; raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the thing polled may be restarting
            last = e
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not within {timeout:g}s" + (f" (last error: {last!r})" if last else ""))
        time.sleep(0.05)


def http_call(port, method, path, body=None, token=None, timeout=5.0):
    """One request on a new connection to 127.0.0.1:port; returns (status, body bytes)."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class Child:
    """A child process with stdout/stderr in log files."""

    def __init__(self, argv, logs, name, env=None):
        self.argv, self.name = [str(a) for a in argv], name
        self.out = open(logs / f"{name}.out", "ab")
        self.err = open(logs / f"{name}.err", "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **(env or {})))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig (if running), waits; SIGKILL after timeout. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.out.close()
        self.err.close()
        return self.proc.returncode


class Backend:
    """An ebb-testbackend on a fixed port that can be stopped, killed and started again."""

    def __init__(self, bindir, logs, name):
        self.bindir, self.logs, self.name = bindir, logs, name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.child = None
        self.start()

    def start(self):
        self.child = Child([self.bindir / "ebb-testbackend", "--listen", self.address, "--name", self.name],
                           self.logs, f"backend-{self.name}")
        wait_until(lambda: port_open(self.port) or not self.child.alive(), 10, f"backend {self.name} listening")
        if not self.child.alive():
            raise RuntimeError(f"backend {self.name} exited at start: status {self.child.proc.returncode}")

    def toggle_health(self):
        return http_call(self.port, "GET", "/fail-health")[1].decode()


class RequestCounters:
    """Monotonic totals of ebb_requests_total from successive /metrics scrapes. A removed backend's
    series disappears, and its slot may come back later from zero (a counter reset) or with its old
    count (re-added within the slot quarantine): every series' last value is kept, and an increase
    is counted as new - old, or as the whole value after a reset."""

    LINE = re.compile(r"^(ebb_requests_total|ebb_config_reloads_total|ebb_connections_active)\{([^}]*)\} (\S+)$")
    LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

    def __init__(self, admin_port):
        self.admin_port = admin_port
        self.lock = threading.Lock()
        self.last = {}
        self.total = {}
        self.gauges = {}

    def scrape(self):
        status, body = http_call(self.admin_port, "GET", "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        seen, gauges = {}, {}
        for line in body.decode().splitlines():
            m = self.LINE.match(line)
            if not m:
                continue
            labels = tuple(sorted(self.LABEL.findall(m.group(2))))
            value = int(round(float(m.group(3))))
            if m.group(1) == "ebb_requests_total":
                seen[labels] = value
            else:
                gauges[(m.group(1), labels)] = value
        with self.lock:
            for key, v in seen.items():
                old = self.last.get(key)
                self.total[key] = self.total.get(key, 0) + (v - old if old is not None and v >= old else v)
                self.last[key] = v
            self.gauges = gauges

    def requests(self, backend=None, codes=None):
        with self.lock:
            n = 0
            for labels, v in self.total.items():
                d = dict(labels)
                if backend is not None and d.get("backend") != backend:
                    continue
                if codes is not None and d.get("code") not in codes:
                    continue
                n += v
            return n

    def non2xx_by_series(self):
        with self.lock:
            return {labels: v for labels, v in self.total.items() if dict(labels).get("code") != "2xx" and v}

    def gauge(self, name, **want):
        with self.lock:
            return sum(v for (n, labels), v in self.gauges.items()
                       if n == name and all(dict(labels).get(k) == x for k, x in want.items()))


def toml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def section(header, items):
    return [header] + [f"{k} = {toml(v)}" for k, v in items.items()]


class Soak:
    def __init__(self, args):
        self.args = args
        self.bindir = Path(args.build_dir).resolve() / "bin"
        for b in ("ebb-lb", "ebb-testbackend"):
            if not (self.bindir / b).exists():
                raise RuntimeError(f"{self.bindir / b} not built")
        self.dir = Path(args.workdir or tempfile.mkdtemp(prefix="ebb-soak-")).resolve()
        self.logs = self.dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.csv_path = Path(args.csv) if args.csv else self.dir / "soak.csv"
        self.duration = args.duration
        self.warmup = min(300.0, self.duration / 6)
        self.stop = threading.Event()
        self.anomalies = []
        self.anomaly_lock = threading.Lock()
        self.crashes = []  # (backend name, deliberate 5xx)
        self.reloads_sent = 0
        self.api_steps = 0
        self.flaps = 0
        self.recycles = 0
        self.recycle_5xx = 0
        self.samples = []  # (elapsed s, rss KiB, fds, requests, non-2xx)
        self.children = []

    # ---- set-up ------------------------------------------------------------------------------
    def make_cert(self):
        self.cert, self.key = self.dir / "site.pem", self.dir / "site.key"
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", str(self.key), "-out", str(self.cert)],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("openssl: " + r.stderr)

    def config(self, variant):
        """Two valid configurations that differ in weights, a balance algorithm and a health interval."""
        weights = [3, 1, 2] if variant == 0 else [1, 2, 3]
        health = {"check": "http", "path": "/healthz", "interval": "500ms" if variant == 0 else "700ms",
                  "timeout": "500ms", "healthy_threshold": 2, "unhealthy_threshold": 2}
        out = section("[runtime]", {"workers": 2, "max_connections": 10000, "shutdown_grace": "5s",
                                    "log_level": "info", "access_log": "off"})
        out += section("[admin]", {"listen": f"127.0.0.1:{self.admin_port}", "token_file": str(self.token_file)})
        for name, port, tls in (("web", self.web_port, False), ("secure", self.tls_port, True)):
            out += section("[[listeners]]", {"name": name, "listen": f"127.0.0.1:{port}", "mode": "http",
                                             "pool": "app"})
            if tls:
                out += section("[listeners.tls]", {"cert": str(self.cert), "key": str(self.key)})
            out += section("[[listeners.routes]]", {"path_prefix": "/dyn/", "pool": "dyn"})
        out += section("[[pools]]", {
            "name": "app", "balance": "weighted_round_robin", "retries": 2, "drain_timeout": "10s",
            "backends": [{"address": b.address, "weight": w} for b, w in zip(self.app, weights)]})
        out += section("[pools.health]", health)
        out += section("[[pools]]", {
            "name": "dyn", "managed": True, "balance": "round_robin" if variant == 0 else "least_conn",
            "retries": 2, "drain_timeout": "10s",
            "backends": [{"address": b.address, "weight": 1} for b in self.dyn]})
        out += section("[pools.health]", health)
        return "\n".join(out) + "\n"

    def write_config(self, variant):
        tmp = self.lb_conf.with_suffix(".tmp")
        tmp.write_text(self.config(variant))
        os.replace(tmp, self.lb_conf)

    def setup(self):
        self.make_cert()
        self.token = "soak-" + os.urandom(8).hex()
        self.token_file = self.dir / "token"
        self.token_file.write_text(self.token + "\n")
        self.token_file.chmod(0o600)  # as deployed: ebb-lb warns about a world-readable token file
        self.app = [Backend(self.bindir, self.logs, f"app{i}") for i in range(3)]
        self.dyn = [Backend(self.bindir, self.logs, f"dyn{i}") for i in range(3)]
        self.spare = [Backend(self.bindir, self.logs, f"spare{i}") for i in range(2)]
        self.admin_port, self.web_port, self.tls_port = free_port(), free_port(), free_port()
        self.lb_conf = self.dir / "lb.toml"
        self.write_config(0)
        self.lb = Child([self.bindir / "ebb-lb", "-c", self.lb_conf], self.logs, "ebb-lb")
        for port in (self.web_port, self.tls_port, self.admin_port):
            wait_until(lambda: port_open(port) or not self.lb.alive(), 15, f"ebb-lb on {port}")
            if not self.lb.alive():
                raise RuntimeError("ebb-lb exited at start; see " + str(self.logs / "ebb-lb.err"))
        self.metrics = RequestCounters(self.admin_port)
        for pool, group in (("app", self.app), ("dyn", self.dyn)):
            for b in group:
                self.wait_state(pool, b.address, "healthy", 10)

    # ---- helpers used by the fault threads -----------------------------------------------------
    def anomaly(self, text):
        line = f"{self.elapsed():7.1f}s {text}"
        with self.anomaly_lock:
            self.anomalies.append(line)
        print("ANOMALY " + line, flush=True)

    def elapsed(self):
        return time.monotonic() - self.t0 if hasattr(self, "t0") else 0.0

    def pool_states(self, pool):
        status, body = http_call(self.admin_port, "GET", f"/api/v1/pools/{pool}")
        if status != 200:
            raise RuntimeError(f"GET pool {pool}: {status}")
        return {b["address"]: b["state"] for b in json.loads(body)["backends"]}

    def wait_state(self, pool, address, state, timeout):
        wait_until(lambda: self.pool_states(pool).get(address) == state, timeout,
                   f"{pool}/{address} {state or 'gone'}")

    def api(self, method, path, body=None, expect=(200,)):
        status, data = http_call(self.admin_port, method, path, body, token=self.token)
        if status not in expect:
            raise RuntimeError(f"{method} {path} -> {status} {data[:200]!r}")
        return status

    def run_thread(self, name, fn):
        def body():
            while not self.stop.is_set():
                try:
                    fn()
                except Exception as e:  # a failed step is recorded and the schedule goes on
                    self.anomaly(f"{name}: {e}")
                    self.stop.wait(1.0)
        t = threading.Thread(target=body, name=name, daemon=True)
        t.start()
        return t

    # ---- fault schedules -----------------------------------------------------------------------
    def reload_step(self):
        if self.stop.wait(RELOAD_EVERY):
            return
        self.reloads_sent += 1
        self.write_config(self.reloads_sent % 2)
        self.lb.proc.send_signal(signal.SIGHUP)

    def app_fault_step(self):
        b = self.app[self.app_turn % len(self.app)]
        self.app_turn += 1
        if "crash" in self.args.faults and self.elapsed() >= self.next_crash:
            self.next_crash += CRASH_EVERY
            self.crash(b)
            return
        if "flap" not in self.args.faults:
            self.stop.wait(1.0)
            return
        if b.toggle_health() != "unhealthy":
            raise RuntimeError(f"{b.name} /fail-health did not turn it unhealthy")
        try:
            self.wait_state("app", b.address, "unhealthy", 10)
            self.flaps += 1
            self.stop.wait(FLAP_HOLD)
        finally:
            if b.toggle_health() != "healthy":
                raise RuntimeError(f"{b.name} /fail-health did not turn it healthy again")
        self.wait_state("app", b.address, "healthy", 10)
        self.stop.wait(FLAP_GAP)

    def crash(self, b):
        """SIGKILL without draining: the deliberate errors are that backend's 5xx inside the window."""
        self.metrics.scrape()
        before = self.metrics.requests(backend=b.address, codes={"5xx"})
        b.child.stop(signal.SIGKILL)
        try:
            self.wait_state("app", b.address, "unhealthy", 10)
            time.sleep(CRASH_DOWN)  # the backend stays down this long (the schedule, not a sync)
        finally:
            b.start()
        self.wait_state("app", b.address, "healthy", 10)
        self.metrics.scrape()
        n = self.metrics.requests(backend=b.address, codes={"5xx"}) - before
        self.crashes.append((b.name, n))
        print(f"{self.elapsed():7.1f}s crash of {b.name}: {n} deliberate 5xx", flush=True)
        self.stop.wait(FLAP_GAP)

    def api_step(self):
        if self.stop.wait(API_EVERY):
            return
        k = self.api_turn
        self.api_turn += 1
        step = k % 6
        pool = "/api/v1/pools/dyn/backends"
        if step in (0, 1):
            s = self.spare[step]
            self.api("POST", pool, {"address": s.address, "weight": 1}, expect=(201,))
            self.wait_state("dyn", s.address, "healthy", 10)
        elif step in (2, 4):
            s = self.spare[0 if step == 2 else 1]
            self.metrics.scrape()  # its counters leave /metrics with it
            self.api("DELETE", f"{pool}/{s.address}", expect=(202,))
            self.wait_state("dyn", s.address, None, 15)
        elif step == 3:
            d = self.dyn[(k // 6) % len(self.dyn)]
            self.metrics.scrape()
            before = self.metrics.requests(backend=d.address, codes={"5xx"})
            self.api("DELETE", f"{pool}/{d.address}", expect=(202,))
            self.wait_state("dyn", d.address, None, 15)
            status = d.child.stop()
            if status != 0:
                raise RuntimeError(f"{d.name} exited {status} on SIGTERM")
            d.start()
            self.api("POST", pool, {"address": d.address, "weight": 1}, expect=(201,))
            self.wait_state("dyn", d.address, "healthy", 10)
            self.metrics.scrape()
            # not deliberate (it drained first): counted to locate errors, never excused
            self.recycle_5xx += self.metrics.requests(backend=d.address, codes={"5xx"}) - before
            self.recycles += 1
        else:
            d = self.dyn[(k // 6 + 1) % len(self.dyn)]
            self.api("PUT", f"{pool}/{d.address}", {"weight": 1 + (k // 6) % 3}, expect=(200,))
        self.api_steps += 1

    # ---- load and sampling ---------------------------------------------------------------------
    def start_wrk(self):
        lua = self.dir / "soak.lua"
        lua.write_text(WRK_LUA)
        secs = f"{int(self.duration)}s"
        paths = "/,/dyn/,/echo,/dyn/echo"
        self.wrk_web = Child(["wrk", "-t1", "-c8", "-d", secs, "--timeout", "5s", "-s", lua,
                              f"http://127.0.0.1:{self.web_port}/"], self.logs, "wrk-web",
                             env={"SOAK_DELAY_MS": "4", "SOAK_PATHS": paths})
        self.wrk_tls = Child(["wrk", "-t1", "-c2", "-d", secs, "--timeout", "5s", "-s", lua,
                              f"https://127.0.0.1:{self.tls_port}/"], self.logs, "wrk-tls",
                             env={"SOAK_DELAY_MS": "15", "SOAK_PATHS": paths, "SOAK_CLOSE": "1"})

    def lb_rss_fds(self):
        with open(f"/proc/{self.lb.pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{self.lb.pid}/fd"))

    def sample(self, csv):
        self.metrics.scrape()
        rss, fds = self.lb_rss_fds()
        total = self.metrics.requests()
        non2xx = self.metrics.requests(codes={"1xx", "3xx", "4xx", "5xx"})
        s5 = self.metrics.requests(codes={"5xx"})
        ok = self.metrics.gauge("ebb_config_reloads_total", result="success")
        failed = self.metrics.gauge("ebb_config_reloads_total", result="failure")
        active = self.metrics.gauge("ebb_connections_active")
        t = self.elapsed()
        self.samples.append((t, rss, fds, total, non2xx))
        csv.write(f"{t:.0f},{rss},{fds},{total},{non2xx},{s5},{ok},{failed},{active}\n")
        csv.flush()
        return rss, fds, total, non2xx

    def run(self):
        self.setup()
        self.app_turn = self.api_turn = 0
        self.next_crash = min(CRASH_FIRST, self.duration / 3)  # short runs see a crash too
        print(f"soak: {self.duration:.0f}s, warm-up {self.warmup:.0f}s, work dir {self.dir}", flush=True)
        with open(self.csv_path, "w") as csv:
            csv.write("elapsed_s,rss_kib,fds,requests,non_2xx,status_5xx,reloads_ok,reloads_failed,"
                      "connections_active\n")
            self.t0 = time.monotonic()
            self.start_wrk()
            steps = {"reload": self.reload_step, "app": self.app_fault_step, "api": self.api_step}
            wanted = self.args.faults | ({"app"} if self.args.faults & {"flap", "crash"} else set())
            threads = [self.run_thread(name, fn) for name, fn in steps.items() if name in wanted]
            next_sample = 0.0
            while self.elapsed() < self.duration:
                if not self.lb.alive():
                    self.anomaly(f"ebb-lb died: status {self.lb.proc.returncode}")
                    break
                try:
                    rss, fds, total, non2xx = self.sample(csv)
                    if len(self.samples) % 6 == 1:
                        print(f"{self.elapsed():7.1f}s rss {rss} KiB, fds {fds}, requests {total}, "
                              f"non-2xx {non2xx}", flush=True)
                except Exception as e:  # e.g. /metrics did not answer: recorded, sampling goes on
                    self.anomaly(f"sample: {e}")
                next_sample += SAMPLE_EVERY
                time.sleep(max(0.0, min(next_sample, self.duration) - self.elapsed()))  # the 10 s cadence
            self.stop.set()
            for t in threads:
                t.join(timeout=40)
                if t.is_alive():
                    self.anomaly(f"fault thread {t.name} did not finish")
            for w in (self.wrk_web, self.wrk_tls):
                try:
                    w.proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.anomaly(f"{w.name} did not finish")
            if self.lb.alive():
                self.sample(csv)
        return self.finish()

    # ---- results -------------------------------------------------------------------------------
    def wrk_result(self, w):
        w.stop()
        text = (self.logs / f"{w.name}.out").read_text(errors="replace")
        m = re.search(r"SOAK_RESULT requests=(\d+) connect=(\d+) read=(\d+) write=(\d+) status=(\d+) "
                      r"timeout=(\d+) codes=(\S*)", text)
        if not m:
            self.anomaly(f"{w.name}: no result line (see {self.logs / (w.name + '.out')})")
            return {"requests": 0, "socket_errors": 0, "codes": {}}
        codes = {}
        for item in filter(None, m.group(7).split(",")):
            code, n = item.split(":")
            codes[int(code)] = int(n)
        return {"requests": int(m.group(1)), "codes": codes,
                "socket_errors": sum(int(m.group(i)) for i in (2, 3, 4, 6)),
                "errors": dict(zip(("connect", "read", "write", "timeout"),
                                   (int(m.group(i)) for i in (2, 3, 4, 6))))}

    def finish(self):
        lb_alive = self.lb.alive()
        lb_status = self.lb.stop(signal.SIGTERM, timeout=15)
        for b in self.app + self.dyn + self.spare:
            b.child.stop()
        web, tls = self.wrk_result(self.wrk_web), self.wrk_result(self.wrk_tls)

        s = self.samples
        if not s:
            print("soak: FAIL: no sample taken", flush=True)
            return 1
        warm = [x for x in s if x[0] <= self.warmup + 1] or s[:1]
        rss_warm = warm[-1][1]
        rss_end = s[-1][1]
        rss_bound = rss_warm * RSS_FACTOR + RSS_SLACK_KIB
        fd_warm = statistics.median(x[2] for x in warm if x[0] >= self.warmup - 60)  # its last minute
        fd_end = statistics.median(x[2] for x in s[-3:])
        after = [x for x in s if x[0] >= self.warmup]
        slope = 0.0
        if len(after) >= 3:  # least-squares RSS trend after warm-up, KiB per minute
            ts, rs = [x[0] for x in after], [x[1] for x in after]
            mt, mr = statistics.mean(ts), statistics.mean(rs)
            den = sum((t - mt) ** 2 for t in ts)
            slope = sum((t - mt) * (r - mr) for t, r in zip(ts, rs)) / den * 60 if den else 0.0

        codes = {}
        for r in (web, tls):
            for c, n in r["codes"].items():
                codes[c] = codes.get(c, 0) + n
        requests = web["requests"] + tls["requests"]
        non2xx = sum(n for c, n in codes.items() if not 200 <= c < 300)
        deliberate = sum(n for _, n in self.crashes)
        undeliberate = max(0, non2xx - deliberate)
        socket_errors = web["socket_errors"] + tls["socket_errors"]
        reloads_ok = self.metrics.gauge("ebb_config_reloads_total", result="success")
        reloads_failed = self.metrics.gauge("ebb_config_reloads_total", result="failure")

        failures = []
        if rss_end > rss_bound:
            failures.append(f"RSS grew: end {rss_end} KiB > {rss_bound:.0f} KiB (warm-up {rss_warm} KiB x "
                            f"{RSS_FACTOR} + {RSS_SLACK_KIB})")
        if fd_end > fd_warm + FD_SLACK:
            failures.append(f"fds grew: end {fd_end:g} > {fd_warm:g} (end of warm-up) + {FD_SLACK}")
        if undeliberate:
            failures.append(f"{undeliberate} non-2xx responses that were not deliberate")
        if socket_errors:
            failures.append(f"wrk socket errors: web {web.get('errors')}, tls {tls.get('errors')}")
        if reloads_failed or reloads_ok < self.reloads_sent:
            failures.append(f"reloads: {self.reloads_sent} SIGHUPs sent, {reloads_ok} ok, {reloads_failed} failed")
        if self.anomalies:
            failures.append(f"{len(self.anomalies)} failed fault steps or other anomalies")
        if not lb_alive or lb_status != 0:
            failures.append(f"ebb-lb: alive at the end {lb_alive}, exit status on SIGTERM {lb_status}")

        minute = [x for x in s if int(x[0]) % 120 < SAMPLE_EVERY]
        if minute[-1] is not s[-1]:
            minute.append(s[-1])
        lines = [
            f"ebb-lb soak: {s[-1][0]:.0f} s (warm-up {self.warmup:.0f} s), work dir {self.dir}",
            f"RSS KiB: start {s[0][1]}, at warm-up {rss_warm}, min {min(x[1] for x in s)}, "
            f"max {max(x[1] for x in s)}, end {rss_end} (bound {rss_bound:.0f}); trend after warm-up "
            f"{slope:+.1f} KiB/min",
            f"fds: start {s[0][2]}, end of warm-up {fd_warm:g}, max {max(x[2] for x in s)} "
            f"(at {max(s, key=lambda x: x[2])[0]:.0f} s), end {fd_end:g} (bound {fd_warm + FD_SLACK:g})",
            f"requests (wrk): {requests} = web {web['requests']} + tls {tls['requests']} "
            f"({requests / max(1.0, s[-1][0]):.0f}/s); ebb-lb counted {self.metrics.requests()}",
            f"status codes (wrk): " + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())),
            f"non-2xx: {non2xx}; deliberate (5xx of a SIGKILLed backend inside its crash window): {deliberate} "
            f"({', '.join(f'{b}: {n}' for b, n in self.crashes) or 'no crash'}); not deliberate: {undeliberate}",
            f"ebb-lb's own count of non-2xx, by series: " + (", ".join(
                f"{d['listener']}/{d['pool']}/{d['backend'] or '-'} {d['code']}: {v}"
                for d, v in ((dict(k), v) for k, v in sorted(self.metrics.non2xx_by_series().items()))) or "none"),
            f"5xx of dyn backends inside their recycle windows (drained via the API, left the pool, stopped, "
            f"restarted, re-added; {self.recycles} recycles): {self.recycle_5xx} (not deliberate)",
            f"wrk socket errors: web {web.get('errors')}, tls {tls.get('errors')}",
            f"faults: {self.reloads_sent} SIGHUP reloads ({reloads_ok} ok, {reloads_failed} failed), "
            f"{self.flaps} health flaps, {len(self.crashes)} backend crashes, {self.api_steps} admin API steps",
            f"ebb-lb exit status on SIGTERM: {lb_status}",
            "",
            "elapsed_s  rss_kib  fds  requests  non_2xx",
        ]
        lines += [f"{x[0]:9.0f}  {x[1]:7d}  {x[2]:3d}  {x[3]:8d}  {x[4]:7d}" for x in minute]
        lines += [""] + [f"anomaly: {a}" for a in self.anomalies]
        lines.append("RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
        text = "\n".join(lines) + "\n"
        (self.dir / "summary.txt").write_text(text)
        print(text, end="")
        return 0 if not failures else 1

    def cleanup(self):
        for c in [getattr(self, n, None) for n in ("lb", "wrk_web", "wrk_tls")] + \
                 [b.child for b in getattr(self, "app", []) + getattr(self, "dyn", []) + getattr(self, "spare", [])]:
            if c is not None and c.alive():
                c.stop(signal.SIGKILL)


def duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 90s, 30m)")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=duration, default=duration("30m"), help="e.g. 30m (default), 90s")
    p.add_argument("--build-dir", default=str(ROOT / "build"), help="a built tree (default: build)")
    p.add_argument("--workdir", help="where logs, soak.csv and summary.txt go (default: a new /tmp dir)")
    p.add_argument("--csv", help="CSV path (default: WORKDIR/soak.csv)")
    p.add_argument("--faults", type=lambda t: set(filter(None, t.split(","))), default={"reload", "flap", "api", "crash"},
                   help="comma-separated subset of reload,flap,api,crash (default: all; to isolate a finding)")
    args = p.parse_args()
    if args.duration < 60:
        p.error("--duration must be at least 60s")
    soak = Soak(args)
    try:
        return soak.run()
    except Exception as e:
        print(f"soak: set-up failed: {e}", file=sys.stderr)
        return 2
    finally:
        soak.cleanup()


if __name__ == "__main__":
    sys.exit(main())
