"""A deliberately misbehaving HTTP backend for the fault-injection tests (test_faults.py,
test_drain_upstream.py): a real TCP server on 127.0.0.1 (blocking sockets, one thread per
connection) that answers each request according to the last segment of its path.

  ok          200 "ok\\n", keep-alive (the connection serves further requests)
  held        like ok, but only once the test calls release() (an in-flight request)
  reset-head  reads the request, then resets the connection (RST, SO_LINGER 0): no response byte
  reset-body  a head promising 1 MiB, 64 KiB of it, then (after release()) RST
  close-head  a head promising 100 bytes, then FIN without any body
  garbage     bytes that are not HTTP, then waits for the peer to close
  stall       reads the request and never answers; waits for the peer to close
  stall-body  a head promising 1 MiB, 64 KiB of it, then waits for the peer to close
  big         an endless Content-Length body (1 TiB promised), sent as fast as the peer takes it
  sink        reads the request body and never answers, counting the bytes (sunk)

With never_read=True the server accepts and reads nothing at all until release_readers():
its receive window fills (the listen socket has a small SO_RCVBUF), so a sender gets
backpressure. After release_readers() it reads and discards until the peer closes.

Accounting, for leak checks: `accepted` connections so far, `open` connections not yet closed
by the peer (or by us), `requests` (paths, in order), `sunk` body bytes. Everything here waits
on real socket events; stop() shuts every connection down.
"""
import socket
import struct
import threading

OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Backend: %s\r\n\r\nok\n"
BLOCK = bytes(ord("a") + (i % 26) for i in range(65536))


class FaultBackend:
    def __init__(self, name="fault", never_read=False):
        self.name = name
        self.never_read = never_read
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.accepted = 0
        self.open = 0
        self.requests = []
        self.sunk = 0
        self._released = 0      # held requests the test let go
        self._held = 0          # held requests waiting now
        self._readers_go = threading.Event()
        self._stopping = False
        self._conns = set()
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if never_read:  # inherited by accepted sockets: the window fills after a few KiB
            self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(128)
        self.port = self._srv.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # -- test controls -------------------------------------------------------------------------
    def held(self):
        with self._lock:
            return self._held

    def release(self, n=1):
        """Lets n held requests (held, reset-body) go on."""
        with self._cond:
            self._released += n
            self._cond.notify_all()

    def release_readers(self):
        self._readers_go.set()

    def stats(self):
        with self._lock:
            return {"accepted": self.accepted, "open": self.open, "requests": list(self.requests),
                    "sunk": self.sunk, "held": self._held}

    def stop(self):
        with self._cond:
            self._stopping = True
            self._released += 1 << 30
            self._cond.notify_all()
            conns = list(self._conns)
        self._readers_go.set()
        try:
            self._srv.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not)
        except OSError:
            pass
        self._srv.close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- server --------------------------------------------------------------------------------
    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._srv.accept()
            except OSError:
                return
            with self._lock:
                if self._stopping:
                    conn.close()
                    return
                self.accepted += 1
                self.open += 1
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            if self.never_read:
                self._readers_go.wait()
                self._drain(conn)
            else:
                self._serve_requests(conn)
        except OSError:
            pass  # reset by the peer: counts as closed
        finally:
            with self._lock:
                self.open -= 1
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _drain(conn):
        """Reads and discards until the peer closes (EOF or reset)."""
        while conn.recv(65536):
            pass

    def _serve_requests(self, conn):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            with self._lock:
                self.requests.append(path)
            action = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            if action == "sink":
                with self._lock:
                    self.sunk += len(buf)
                buf = b""
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    with self._lock:
                        self.sunk += len(data)
            # read (and drop) the request body before answering
            while len(buf) < length:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            buf = buf[length:]
            if not self._answer(conn, action):
                return

    def _answer(self, conn, action):
        """Sends the response for `action`; False when the connection is done."""
        name = self.name.encode()
        if action == "held":
            self._wait_release()
            conn.sendall(OK_RESPONSE % name)
            return True
        if action == "reset-head":
            self._reset(conn)
            return False
        if action == "reset-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + BLOCK)
            self._wait_release()  # the test saw the head: a reset now cannot discard it
            self._reset(conn)
            return False
        if action == "close-head":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            conn.shutdown(socket.SHUT_WR)
            self._drain(conn)
            return False
        if action == "garbage":
            conn.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
            self._drain(conn)
            return False
        if action == "stall":
            self._drain(conn)
            return False
        if action == "stall-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + BLOCK)
            self._drain(conn)
            return False
        if action == "big":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (1 << 40))
            while True:  # ends with EPIPE / ECONNRESET once the peer closes
                conn.sendall(BLOCK)
        conn.sendall(OK_RESPONSE % name)
        return True

    def _wait_release(self):
        with self._cond:
            self._held += 1
            self._cond.wait_for(lambda: self._released > 0)
            self._released -= 1
            self._held -= 1

    @staticmethod
    def _reset(conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
