#!/usr/bin/python3
"""Backpressure soak (not a CI test: ~17 minutes by default): one client reads a 1 GiB response
through ebb-lb at 1 MiB/s while ebb-lb's RSS is sampled; prints the RSS curve and fails if it
grows by more than 32 MiB. Usage:

    EBB_BUILD_DIR=build python3 tests/integration/proxy_backpressure_soak.py [GIB] [MIB_PER_S]
"""
import hashlib
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ebbtest  # noqa: E402
from proxy_support import Reader, backends, lb_config, pattern_sha256, send_request  # noqa: E402


def main():
    total = int(float(sys.argv[1] if len(sys.argv) > 1 else 1) * (1 << 30))
    rate = float(sys.argv[2] if len(sys.argv) > 2 else 1) * (1 << 20)
    logs = Path(tempfile.mkdtemp(prefix="ebb-soak-"))
    bport, port = ebbtest.free_port(), ebbtest.free_port()
    backend = ebbtest.Process([ebbtest.binary("ebb-testbackend"), "--listen", f"127.0.0.1:{bport}"], logs, "backend")
    cfg = logs / "lb.toml"
    cfg.write_text(lb_config([{"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}],
                             [{"name": "app", "idle_timeout": "1h", "backends": backends(bport)}]))
    lb = ebbtest.Process([ebbtest.binary("ebb-lb"), "-c", cfg], logs, "ebb-lb")
    try:
        ebbtest.wait_port(bport)
        ebbtest.wait_port(port)

        def rss():
            with open(f"/proc/{lb.pid}/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

        base = peak = rss()
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        send_request(s, "GET", f"/bytes?n={total}")
        rd = Reader(s)
        status, _, _ = rd.read_head()
        assert status == 200, status
        h = hashlib.sha256(rd.buf)
        got, t0, last_print = len(rd.buf), time.monotonic(), 0
        while got < total:
            data = s.recv(min(65536, total - got))
            assert data, f"closed after {got} bytes"
            h.update(data)
            got += len(data)
            ahead = got / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)  # pacing the reader, not synchronisation
            if time.monotonic() - last_print > 10:
                last_print = time.monotonic()
                peak = max(peak, rss())
                print(f"{got >> 20:6d} MiB read, ebb-lb RSS {rss() // 1024} MiB (start {base // 1024} MiB)", flush=True)
        assert h.hexdigest() == pattern_sha256(total), "body corrupted"
        print(f"done: {total >> 20} MiB in {time.monotonic() - t0:.0f} s; RSS start {base // 1024} MiB, "
              f"peak {peak // 1024} MiB")
        return 0 if peak - base < 32 * 1024 else 1
    finally:
        lb.stop()
        backend.stop()


if __name__ == "__main__":
    sys.exit(main())
