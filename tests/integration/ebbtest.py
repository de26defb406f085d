"""Helpers for the integration tests: real binaries, real sockets, loopback only.

Nothing here sleeps to synchronise: every wait polls a condition until a deadline.
"""
import fcntl
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("EBB_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BUILD_DIR = Path(os.environ.get("EBB_BUILD_DIR", SOURCE_DIR / "build"))
BIN_DIR = BUILD_DIR / "bin"


def binary(name):
    path = BIN_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not built")
    return str(path)


# Ports handed out by free_port(). They come from below the kernel's ephemeral range (32768+ on
# Debian), so neither bind(0) nor an outgoing connection's source port can take one between
# free_port() and the bind of the process it is meant for. A lock file held for the life of this
# process keeps a port from being handed out twice here or in a test running in parallel (a
# second free_port() call in one test used to return the port the first had just released).
_PORT_FIRST, _PORT_LAST = 20000, 32000
_PORT_LOCK_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / f"ebbtest-ports-{os.getuid()}"
_held_ports = {}  # port -> open lock file


def free_port():
    """A port on 127.0.0.1 that is free now and that no other free_port() call will return."""
    return free_ports(1)


def free_ports(n):
    """The first of `n` consecutive ports on 127.0.0.1, all free now and held like free_port()'s
    (for the scaler's process driver, which takes a range)."""
    _PORT_LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    span = _PORT_LAST - _PORT_FIRST + 2 - n
    start = random.randrange(span)
    for i in range(span):
        base = _PORT_FIRST + (start + i) % span
        locks = []
        for port in range(base, base + n):
            lock = _take(port)
            if lock is None:
                break
            locks.append(lock)
        if len(locks) == n:
            for port, lock in zip(range(base, base + n), locks):
                _held_ports[port] = lock
            return base
        for lock in locks:
            lock.close()
    raise RuntimeError(f"no {n} free consecutive ports in {_PORT_FIRST}-{_PORT_LAST}")


def _take(port):
    """The lock file of `port` if nobody holds it and the port binds now, else None."""
    if port in _held_ports:
        return None
    lock = open(_PORT_LOCK_DIR / str(port), "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    except OSError:
        lock.close()  # in use by something that does not take our locks
        return None
    return lock


def wait_until(predicate, timeout=10.0, interval=0.01, what="condition"):
    """Polls predicate() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the condition may raise while the thing is starting
            last_exc = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}" +
                               (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    wait_until(lambda: port_open(port, host), timeout, what=f"{host}:{port} to accept")


class Process:
    """A child process with its output in files; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, argv, log_dir, name, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.out_path = log_dir / f"{name}.out"
        self.err_path = log_dir / f"{name}.err"
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=full_env)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10.0):
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()
        self._err.close()
        return self.proc.returncode

    def stdout(self):
        self._out.flush()
        return self.out_path.read_text(errors="replace")

    def stderr(self):
        self._err.flush()
        return self.err_path.read_text(errors="replace")


def run(argv, timeout=30.0, **kw):
    """Runs a command to completion; returns CompletedProcess with text output."""
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)
