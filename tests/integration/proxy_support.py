"""Helpers for the ebb-lb proxy integration tests (test_proxy_*.py): start test backends and
ebb-lb with a generated config, raw HTTP/1.1 over sockets. Loopback only; waits poll."""
import hashlib
import os
import re
import socket
import time

import ebbtest


def start_backend(procs, name, tcp_echo=False, verbose=False):
    port = ebbtest.free_port()
    argv = [ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{port}", "--name", name]
    if tcp_echo:
        argv.append("--tcp-echo")
    if verbose:
        argv.append("--verbose")
    p = procs.start(argv, f"backend-{name}")
    ebbtest.wait_port(port)
    return port, p


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def lb_config(listeners, pools, runtime=None):
    """TOML text. listeners/pools: lists of dicts; a pool's "health" dict becomes [pools.health]
    (default check = "none"), a listener's "routes" list becomes [[listeners.routes]] and its
    "tls" dict [listeners.tls]."""
    rt = {"workers": 1, "shutdown_grace": "5s", "log_level": "info"}
    rt.update(runtime or {})
    out = ["[runtime]"] + [f"{k} = {toml_value(v)}" for k, v in rt.items()]
    out += ["[admin]", f'listen = "127.0.0.1:{ebbtest.free_port()}"']
    for l in listeners:
        out.append("[[listeners]]")
        for k, v in l.items():
            if k not in ("routes", "tls"):
                out.append(f"{k} = {toml_value(v)}")
        if "tls" in l:
            out.append("[listeners.tls]")
            out += [f"{k} = {toml_value(v)}" for k, v in l["tls"].items()]
        for r in l.get("routes", []):
            out.append("[[listeners.routes]]")
            out += [f"{k} = {toml_value(v)}" for k, v in r.items()]
    for p in pools:
        out.append("[[pools]]")
        for k, v in p.items():
            if k != "health":
                out.append(f"{k} = {toml_value(v)}")
        out.append("[pools.health]")
        health = {"check": "none"}
        health.update(p.get("health", {}))
        out += [f"{k} = {toml_value(v)}" for k, v in health.items()]
    return "\n".join(out) + "\n"


def admin_port(text):
    """The [admin] listen port of a config made by lb_config()."""
    return int(re.search(r'\[admin\]\nlisten = "127\.0\.0\.1:(\d+)"', text).group(1))


def backends(*ports, weight=None):
    return [dict(address=f"127.0.0.1:{p}", **({"weight": weight} if weight else {})) for p in ports]


class Lb:
    def __init__(self, procs, tmp_path, text, name="ebb-lb", env=None):
        self.path = tmp_path / f"{name}.toml"
        self.path.write_text(text)
        self.proc = procs.start([ebbtest.binary("ebb-lb"), "-c", self.path], name, env=env)

    def rewrite(self, text):
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def start_lb(procs, tmp_path, text, wait_ports=(), **kw):
    lb = Lb(procs, tmp_path, text, **kw)
    for port in wait_ports:
        ebbtest.wait_until(lambda: ebbtest.port_open(port) or not lb.proc.alive(), 10,
                           what=f"ebb-lb on {port}")
        assert lb.proc.alive(), lb.proc.stderr()
    return lb


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        import json
        return json.loads(self.body)


class Reader:
    """Reads HTTP/1.1 responses from a socket (Content-Length, chunked, until-close)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, sep):
        while sep not in self.buf:
            if not self._fill():
                raise EOFError(f"connection closed before {sep!r}; have {self.buf[:200]!r}")
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n, sink=None):
        got = 0
        while got < n:
            if not self.buf and not self._fill():
                raise EOFError(f"closed after {got} of {n} body bytes")
            take = self.buf[: n - got]
            self.buf = self.buf[len(take):]
            got += len(take)
            if sink:
                sink(take)
        return got

    def read_head(self):
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        _, status, *reason = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            if line:
                k, v = line.split(":", 1)
                headers.append((k.strip(), v.strip()))
        return int(status), (reason[0] if reason else ""), headers

    def read_response(self, head_request=False, body_sink=None):
        """One response (skipping 1xx). With body_sink the body is streamed to it, not kept."""
        while True:
            status, reason, headers = self.read_head()
            if 100 <= status < 200 and status != 101:
                continue
            break
        resp = Response(status, reason, headers, b"")
        chunks = []
        sink = body_sink or chunks.append
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if head_request or status in (101, 204, 304):
            pass
        elif te and te.lower() == "chunked":
            while True:
                size_line = self.read_until(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self.read_until(b"\r\n")  # no trailers from ebb-lb
                    break
                self.read_exact(size, sink)
                self.read_until(b"\r\n")
        elif cl is not None:
            self.read_exact(int(cl), sink)
        else:
            while self.buf or self._fill():
                sink(self.buf)
                self.buf = b""
        if body_sink is None:
            resp.body = b"".join(chunks)
        return resp

    def closed(self, timeout=5.0):
        """True if the peer closes (EOF or reset) within timeout with no more bytes."""
        self.sock.settimeout(timeout)
        try:
            while not self.eof:
                if self.buf:
                    return False
                self._fill()
            return not self.buf
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def request(port, method="GET", path="/", headers=None, body=b"", timeout=10.0):
    """One request on a new connection; returns the Response."""
    with connect(port, timeout) as s:
        send_request(s, method, path, headers, body)
        return Reader(s).read_response(head_request=(method == "HEAD"))


def send_request(sock, method="GET", path="/", headers=None, body=b"", host="test"):
    h = {"Host": host}
    h.update(headers or {})
    if body and "Content-Length" not in h and "Transfer-Encoding" not in h:
        h["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    sock.sendall(head.encode("latin-1") + body)


def pattern_sha256(n):
    """sha256 of the testbackend's /bytes and /stream body pattern ('a' + i mod 26)."""
    block = bytes(ord("a") + (i % 26) for i in range(26 * 4096))
    h = hashlib.sha256()
    full, rest = divmod(n, len(block))
    for _ in range(full):
        h.update(block)
    h.update(block[:rest])
    return h.hexdigest()


def deadline_loop(seconds, max_iterations):
    """Yields iteration numbers until the deadline or max_iterations (bounded test loops)."""
    end = time.monotonic() + seconds
    for i in range(max_iterations):
        if time.monotonic() >= end:
            return
        yield i
