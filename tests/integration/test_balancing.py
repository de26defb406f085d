"""Balancing algorithms (SPEC §3) through the real ebb-lb: distribution per algorithm, hash
consistency across two ebb-lb processes, least_conn and response_time reacting to real backends.
Loopback only; one worker so the per-worker round-robin state is the only one."""
import signal
import time

import ebbtest
from proxy_support import (Reader, backends, connect, deadline_loop, lb_config, send_request,
                           start_backend, start_lb)


def start_backends(procs, names):
    return {name: start_backend(procs, name) for name in names}


def lb_for(procs, tmp_path, pool, name="ebb-lb"):
    port = ebbtest.free_port()
    listener = {"name": "web", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app"}
    p = {"name": "app"}
    p.update(pool)
    start_lb(procs, tmp_path, lb_config([listener], [p]), wait_ports=[port], name=name)
    return port


def pool_backends(bks, names, weights=None):
    out = []
    for i, n in enumerate(names):
        b = backends(bks[n][0])[0]
        if weights:
            b["weight"] = weights[i]
        out.append(b)
    return out


def picks(port, count, headers_for=lambda i: None, path="/"):
    """X-Backend of `count` sequential requests on one keep-alive client connection."""
    seen = []
    with connect(port) as s:
        rd = Reader(s)
        for i in range(count):
            send_request(s, "GET", path, headers_for(i))
            r = rd.read_response()
            assert r.status == 200, r.body
            seen.append(r.header("X-Backend"))
    return seen


def longest_run(seq):
    best = run = 0
    for i, x in enumerate(seq):
        run = run + 1 if i and seq[i - 1] == x else 1
        best = max(best, run)
    return best


def test_round_robin_rotates_over_all_backends(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port = lb_for(procs, tmp_path, {"balance": "round_robin",
                                    "backends": pool_backends(bks, "abc", weights=[5, 1, 1])})
    seq = picks(port, 30)
    assert all(seq[i] == seq[i - 3] for i in range(3, 30)), seq  # weights ignored: a fixed rotation
    assert {x: seq.count(x) for x in "abc"} == {"a": 10, "b": 10, "c": 10}


def test_weighted_round_robin_exact_shares_interleaved(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port = lb_for(procs, tmp_path, {"balance": "weighted_round_robin",
                                    "backends": pool_backends(bks, "abc", weights=[5, 1, 1])})
    seq = picks(port, 70)
    for start in range(0, 70 - 7 + 1):
        window = seq[start:start + 7]
        assert (window.count("a"), window.count("b"), window.count("c")) == (5, 1, 1), window
    assert longest_run(seq) <= 4, seq  # nginx's a,a,b,a,c,a,a: never a burst of a's


def test_random_is_weight_proportional(procs, tmp_path):
    bks = start_backends(procs, ["a", "b"])
    port = lb_for(procs, tmp_path, {"balance": "random",
                                    "backends": pool_backends(bks, "ab", weights=[1, 3])})
    seq = picks(port, 400)
    share_b = seq.count("b") / len(seq)
    assert 0.65 <= share_b <= 0.85, share_b


def test_hash_on_a_header_pins_each_key_and_round_robins_without_it(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port = lb_for(procs, tmp_path, {"balance": "hash", "hash_key": "header:X-User",
                                    "backends": pool_backends(bks, "abc")})
    users = [f"user-{i}" for i in range(30)]
    seq = picks(port, 90, headers_for=lambda i: {"X-User": users[i % 30]})
    owner = {}
    for i, b in enumerate(seq):
        assert owner.setdefault(users[i % 30], b) == b  # same key, same backend
    assert len(set(owner.values())) == 3
    # No header: round robin.
    seq = picks(port, 9)
    assert {x: seq.count(x) for x in "abc"} == {"a": 3, "b": 3, "c": 3}


def test_hash_maps_keys_identically_on_two_lb_nodes(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c", "d"])
    port1 = lb_for(procs, tmp_path, {"balance": "hash", "hash_key": "cookie:session",
                                     "backends": pool_backends(bks, "abcd")}, name="lb1")
    # The second node lists the backends in another order.
    port2 = lb_for(procs, tmp_path, {"balance": "hash", "hash_key": "cookie:session",
                                     "backends": pool_backends(bks, "dbca")}, name="lb2")
    cookie = lambda i: {"Cookie": f"theme=dark; session=s{i}"}
    one, two = picks(port1, 40, cookie), picks(port2, 40, cookie)
    assert one == two
    assert len(set(one)) >= 3


def test_least_conn_avoids_the_backend_with_a_request_in_flight(procs, tmp_path):
    bks = start_backends(procs, ["a", "b"])
    port = lb_for(procs, tmp_path, {"balance": "least_conn", "backends": pool_backends(bks, "ab")})
    with connect(port) as slow:
        send_request(slow, "GET", "/delay?ms=1500")
        # Wait until the slow request is in flight upstream (it holds one of the two backends).
        seq = None
        for _ in deadline_loop(5.0, 200):
            seq = picks(port, 6)
            if len(set(seq)) == 1:
                break
            time.sleep(0.02)
        assert seq is not None and len(set(seq)) == 1, seq
        busy = Reader(slow).read_response()
        assert busy.status == 200
        assert busy.header("X-Backend") != seq[0]
    # Nothing in flight any more: both are used again.
    assert set(picks(port, 10)) == {"a", "b"}


def test_response_time_moves_away_from_a_stalled_backend(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port = lb_for(procs, tmp_path, {"balance": "response_time", "backends": pool_backends(bks, "abc")})
    assert set(picks(port, 60)) == {"a", "b", "c"}
    stalled = bks["a"][1]
    stalled.signal(signal.SIGSTOP)
    try:
        # Sequential requests until one hangs: it is on the stalled backend. (Equal backends can
        # go unpicked for a while; its estimate decays until it is tried again.)
        answered_slowly = False
        with connect(port) as s:
            rd = Reader(s)
            for _ in deadline_loop(15.0, 100000):
                send_request(s, "GET", "/")
                s.settimeout(0.3)
                try:
                    r = rd.read_response()
                    continue
                except TimeoutError:
                    pass
                # Stalled: keep it so for a moment (the stimulus), then let it answer.
                t0 = time.monotonic()
                time.sleep(0.5)
                stalled.signal(signal.SIGCONT)
                s.settimeout(10.0)
                r = rd.read_response()
                answered_slowly = r.header("X-Backend") == "a" and time.monotonic() - t0 >= 0.5
                break
        assert answered_slowly
        # Its peak-EWMA now says ~0.8 s: traffic stays on the fast ones.
        after = picks(port, 60)
        assert after.count("a") == 0, after
        assert set(after) == {"b", "c"}
    finally:
        stalled.signal(signal.SIGCONT)

def sticky_pool(bks, names):
    return {"balance": "round_robin", "sticky_cookie": "srv", "sticky_ttl": "10m",
            "backends": pool_backends(bks, names)}


def get(port, cookie=None, path="/"):
    with connect(port) as s:
        send_request(s, "GET", path, {"Cookie": cookie} if cookie else None)
        r = Reader(s).read_response()
        assert r.status == 200, r.body
        return r


def test_sticky_cookie_pins_a_client_on_every_node_and_across_restarts(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port1 = lb_for(procs, tmp_path, sticky_pool(bks, "abc"), name="lb1")
    port2 = lb_for(procs, tmp_path, sticky_pool(bks, "cab"), name="lb2")  # another node

    first = get(port1)
    set_cookie = first.header("Set-Cookie")
    assert set_cookie is not None
    pair, *attrs = [x.strip() for x in set_cookie.split(";")]
    assert pair.startswith("srv=")
    assert attrs == ["Path=/", "Max-Age=600", "HttpOnly"]
    token = pair[len("srv="):]
    pinned = first.header("X-Backend")
    assert str(bks[pinned][0]) not in token  # opaque: no address or port inside

    # Pinned on this node and on the other, the application's cookies passed on untouched; a
    # client with a valid cookie gets no new one.
    cookie = f"app=1; srv={token}; theme=dark"
    for port in (port1, port2, port1, port2, port1, port2):
        r = get(port, cookie, "/echo")
        assert r.header("X-Backend") == pinned
        assert r.header("Set-Cookie") is None
        sent = {k.lower(): v for k, v in r.json()["headers"]}
        assert sent["cookie"] == cookie

    # An edited token is not trusted: balanced normally, and a fresh cookie is issued.
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    seen = set()
    for _ in range(6):
        r = get(port1, f"srv={forged}")
        assert r.header("Set-Cookie") is not None
        seen.add(r.header("X-Backend"))
    assert len(seen) > 1

    # A node restarted with the same pool still honours the cookie.
    port3 = lb_for(procs, tmp_path, sticky_pool(bks, "abc"), name="lb1-restarted")
    assert get(port3, f"srv={token}").header("X-Backend") == pinned


def test_sticky_cookie_of_a_removed_backend_is_replaced(procs, tmp_path):
    bks = start_backends(procs, ["a", "b", "c"])
    port1 = lb_for(procs, tmp_path, sticky_pool(bks, "abc"), name="lb1")
    first = get(port1)
    token = first.header("Set-Cookie").split(";")[0][len("srv="):]
    pinned = first.header("X-Backend")
    # A node whose pool no longer has that backend balances normally and re-pins the client.
    others = [n for n in "abc" if n != pinned]
    port2 = lb_for(procs, tmp_path, sticky_pool(bks, others), name="lb2")
    r = get(port2, f"srv={token}")
    assert r.header("X-Backend") in others
    fresh = r.header("Set-Cookie").split(";")[0][len("srv="):]
    assert fresh != token
    assert all(get(port2, f"srv={fresh}").header("X-Backend") == r.header("X-Backend") for _ in range(4))


def test_sticky_cookie_is_secure_on_a_tls_listener(procs, tmp_path):
    import ssl
    from tls_support import make_pki
    pki_dir = tmp_path / "pki"
    pki_dir.mkdir()
    pki = make_pki(pki_dir)
    bks = start_backends(procs, ["a", "b"])
    port = ebbtest.free_port()
    cert, key = pki["site"]
    listener = {"name": "tls", "listen": f"127.0.0.1:{port}", "mode": "http", "pool": "app",
                "tls": {"cert": cert, "key": key}}
    pool = dict(name="app", **sticky_pool(bks, "ab"))
    start_lb(procs, tmp_path, lb_config([listener], [pool]), wait_ports=[port])
    ctx = ssl.create_default_context(cafile=pki["root"])

    def tls_get(cookie=None):
        with ctx.wrap_socket(connect(port), server_hostname="example.com") as s:
            send_request(s, "GET", "/", {"Cookie": cookie} if cookie else None)
            return Reader(s).read_response()

    first = tls_get()
    set_cookie = first.header("Set-Cookie")
    assert set_cookie.endswith("; Path=/; Max-Age=600; HttpOnly; Secure"), set_cookie
    token = set_cookie.split(";")[0][len("srv="):]
    for _ in range(4):
        r = tls_get(f"srv={token}")
        assert r.header("X-Backend") == first.header("X-Backend")
        assert r.header("Set-Cookie") is None
