#!/usr/bin/python3
"""Writes the hand-written seed corpora of tests/fuzz/corpus/<fuzzer>/ (they are committed; run
this again after editing a seed here). Seeds are small and each one means something: a valid
message, a SPEC §4 smuggling vector, an edge of the framing, a config or scrape as shipped.

Usage: tests/fuzz/make_seeds.py  (writes/overwrites the seeds named here; other files in the
corpus directories, such as captured real /metrics output, are left alone; config seeds also
come from packaging/examples)."""
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"


def write(fuzzer, name, data):
    d = CORPUS / fuzzer
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def http(opts, splits, text):
    """The HTTP fuzzers' input: options byte, three piece sizes, then the stream (see
    fuzz_support.h Splitter)."""
    body = text.encode("latin-1") if isinstance(text, str) else text
    return bytes([opts, *splits]) + body


WHOLE = (0, 0, 0)
BYTEWISE = (1, 1, 1)
ODD = (7, 3, 13)

# ---- requests: options bit 0 pause at the head (the proxy does), 1 small limits, 2 body limit 64,
# 3 TLS, 4-5 client address.
H = "Host: app.example\r\n"
REQUESTS = [
    ("get", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "\r\n"),
    ("get-bytewise", 1, BYTEWISE, "GET /a/b?c=d HTTP/1.1\r\n" + H + "User-Agent: t\r\n\r\n"),
    ("get-no-pause", 0, ODD, "GET /x HTTP/1.1\r\nHost: [::1]:8080\r\nAccept: */*\r\n\r\n"),
    ("head-http10", 1, WHOLE, "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
    ("http10-no-host", 0x21, ODD, "GET /old HTTP/1.0\r\n\r\n"),
    ("post-content-length", 1, ODD, "POST /form HTTP/1.1\r\n" + H + "Content-Length: 11\r\n\r\nhello world"),
    ("post-chunked", 1, ODD,
     "POST /up HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
    ("chunked-ext-trailers", 9, BYTEWISE,
     "PUT /t HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n"),
    ("chunked-upper-te", 1, WHOLE,
     "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
    ("pipelined", 1, (20, 9, 31),
     "GET /1 HTTP/1.1\r\n" + H + "\r\nPOST /2 HTTP/1.1\r\n" + H + "Content-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\n" + H
     + "Connection: close\r\n\r\n"),
    ("pipelined-chunked", 0, (16, 0, 0),
     "POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nGET /b HTTP/1.1\r\n" + H + "\r\n"),
    ("data-after-close", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n" + H + "\r\n"),
    ("leading-crlf", 1, WHOLE, "\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n"),
    ("absolute-form", 1, ODD, "GET http://Other.Example:81/p?q#frag HTTP/1.1\r\n" + H + "\r\n"),
    ("absolute-form-no-path", 1, WHOLE, "GET https://h.example?x=1 HTTP/1.1\r\nHost: h.example\r\n\r\n"),
    ("options-star", 1, WHOLE, "OPTIONS * HTTP/1.1\r\n" + H + "\r\n"),
    ("upgrade-websocket", 1, ODD,
     "GET /ws HTTP/1.1\r\n" + H + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n"),
    ("expect-continue", 1, WHOLE,
     "PUT /big HTTP/1.1\r\n" + H + "Expect: 100-continue\r\nContent-Length: 4\r\n\r\ndata"),
    ("hop-by-hop", 0x19, ODD,
     "GET / HTTP/1.1\r\n" + H + "Connection: keep-alive, X-Secret, TE\r\nX-Secret: s\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
     "Proxy-Connection: x\r\nTrailer: X\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: , 5.6.7.8\r\n"
     "X-Forwarded-Proto: https\r\nX-Forwarded-Port: 1\r\nX-Request-Id: abc\r\n\r\n"),
    ("cookies", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "Cookie: a=1; ebb_sticky=\"t.o.k\"\r\nCookie: b=2\r\n\r\n"),
    ("body-limit", 5, ODD, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n40\r\n" + "x" * 64 + "\r\n1\r\ny\r\n0\r\n\r\n"),
    ("content-length-limit", 4, WHOLE, "POST / HTTP/1.1\r\n" + H + "Content-Length: 65\r\n\r\n"),
    ("small-head-limit", 3, WHOLE, "GET / HTTP/1.1\r\n" + H + "".join(f"X-{i}: {'v' * 30}\r\n" for i in range(8)) + "\r\n"),
    ("cut-mid-body", 1, ODD, "POST / HTTP/1.1\r\n" + H + "Content-Length: 100\r\n\r\nshort"),
    # Path normalisation (lb/http/path.h): forwarded in normal form, or refused with 400.
    ("path-dot-segments", 1, ODD, "GET /api/../admin/./x/ HTTP/1.1\r\n" + H + "\r\n"),
    ("path-encoded", 1, WHOLE, "GET /a//b/%2e%2E/%7e%41%2f%5c%c3%a9?q=/../%2e HTTP/1.1\r\n" + H + "\r\n"),
    ("path-absolute-form", 1, WHOLE, "GET http://h.example//x/../y?z HTTP/1.1\r\nHost: h.example\r\n\r\n"),
    ("path-rejected-encoded-slash-dot", 1, WHOLE, "GET /api/..%2Fadmin HTTP/1.1\r\n" + H + "\r\n"),
    ("path-rejected-semicolon-dot", 1, WHOLE, "GET /api/..;x/admin HTTP/1.1\r\n" + H + "\r\n"),
    ("path-rejected-bad-percent", 0, WHOLE, "GET /a%zz%00 HTTP/1.1\r\n" + H + "\r\n"),
    # SPEC §4 smuggling vectors: every one must be refused.
    ("smuggle-cl-te", 1, WHOLE,
     "POST / HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"),
    ("smuggle-te-cl", 1, ODD,
     "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n"),
    ("smuggle-cl-cl", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nabcde"),
    ("smuggle-cl-list", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nabcde"),
    ("smuggle-cl-sign", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\nabcde"),
    ("smuggle-te-list", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-te-obfuscated", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-te-space", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-te-twice", 1, WHOLE,
     "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"),
    ("smuggle-te-http10", 1, WHOLE, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-obs-fold", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n"),
    ("smuggle-bare-lf", 1, WHOLE, "GET / HTTP/1.1\n" + H + "\n"),
    ("smuggle-bare-cr", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n"),
    ("smuggle-lf-last-chunk", 1, BYTEWISE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\n"),
    ("smuggle-chunk-size", 1, WHOLE, "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"),
    ("smuggle-two-hosts", 1, WHOLE, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("smuggle-nul-value", 1, WHOLE, "GET / HTTP/1.1\r\n" + H + "X: a\0b\r\n\r\n"),
    ("bad-target-tab", 1, WHOLE, "GET /a\tb HTTP/1.1\r\n" + H + "\r\n"),
    ("bad-target-userinfo", 1, WHOLE, "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
    ("bad-host", 1, WHOLE, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
    ("no-host-http11", 1, WHOLE, "GET / HTTP/1.1\r\n\r\n"),
    ("connect", 1, WHOLE, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
    ("http09-version", 1, WHOLE, "GET / HTTP/0.9\r\n\r\n"),
]

# ---- responses: options bit 0 HEAD request, 1 upgrade request, 2 HTTP/1.0 client, 3 proxy closes,
# 4 sticky Set-Cookie, 5 small limits.
RESPONSES = [
    ("ok-content-length", 0, WHOLE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
    ("ok-bytewise", 0x10, BYTEWISE, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("chunked", 0, ODD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n"),
    ("chunked-to-http10", 4, ODD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("until-close", 0, (9, 0, 0), "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until the connection closes"),
    ("until-close-http10-client", 4, WHOLE, "HTTP/1.1 200 OK\r\n\r\nstream"),
    ("keep-alive-http10", 4, WHOLE, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"),
    ("interim-100", 0, ODD, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ("interim-103-http10", 4, WHOLE, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    ("no-content", 0, WHOLE, "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"),
    ("not-modified-chunked", 0, WHOLE, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n"),
    ("head-response", 1, WHOLE, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
    ("head-chunked", 1, WHOLE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("upgrade-101", 2, ODD, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello"),
    ("upgrade-unasked", 0, WHOLE, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
    ("hop-by-hop", 0x18, ODD,
     "HTTP/1.1 200 OK\r\nConnection: X-Private, close\r\nX-Private: p\r\nKeep-Alive: timeout=5\r\nTrailer: T\r\n"
     "Upgrade: h2c\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n"),
    ("reused-connection", 0, (25, 0, 0),
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    ("server-error", 8, WHOLE, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy"),
    ("empty-reason", 0, WHOLE, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
    ("cut-mid-body", 0, ODD, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part"),
    ("small-head-limit", 0x20, WHOLE, "HTTP/1.1 200 OK\r\n" + "".join(f"X-{i}: {'v' * 30}\r\n" for i in range(8)) + "\r\n"),
    ("smuggle-cl-te", 0, WHOLE, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-cl-cl", 0, WHOLE, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
    ("smuggle-te-gzip", 0, WHOLE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ("smuggle-obs-fold", 0, WHOLE, "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\nContent-Length: 0\r\n\r\n"),
    ("smuggle-bare-lf", 0, WHOLE, "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    ("smuggle-lf-last-chunk", 0, BYTEWISE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n"),
    ("bad-status", 0, WHOLE, "HTTP/1.1 99 Odd\r\n\r\n"),
    ("bad-version", 0, WHOLE, "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
]

PROMETHEUS_LB = """# HELP ebb_requests_total Requests proxied, by listener, pool, backend and status class.
# TYPE ebb_requests_total counter
ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9001",code="2xx"} 1027
ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9001",code="5xx"} 3
ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9002",code="2xx"} 998
ebb_requests_total{listener="web",pool="app",backend="",code="5xx"} 1
# HELP ebb_request_duration_seconds Request duration (first byte in to last byte out).
# TYPE ebb_request_duration_seconds histogram
ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.001"} 10
ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.005"} 600
ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.025"} 1000
ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.1"} 1029
ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="+Inf"} 1030
ebb_request_duration_seconds_sum{pool="app",backend="127.0.0.1:9001"} 4.2
ebb_request_duration_seconds_count{pool="app",backend="127.0.0.1:9001"} 1030
# HELP ebb_backend_active In-flight requests per backend.
# TYPE ebb_backend_active gauge
ebb_backend_active{pool="app",backend="127.0.0.1:9001"} 3
ebb_backend_active{pool="app",backend="127.0.0.1:9002"} 0
# TYPE ebb_backend_up gauge
ebb_backend_up{pool="app",backend="127.0.0.1:9001"} 1
ebb_backend_up{pool="app",backend="127.0.0.1:9002"} 0
# TYPE ebb_backend_state gauge
ebb_backend_state{pool="app",backend="127.0.0.1:9002",state="draining"} 1
"""

PROMETHEUS = [
    ("lb-scrape", PROMETHEUS_LB),
    ("lb-two-scrapes", PROMETHEUS_LB + "\f" + PROMETHEUS_LB.replace("1027", "2100").replace("1030", "2200")
     .replace("} 1000", "} 2150").replace("} 600", "} 1500")),
    ("counter-reset", PROMETHEUS_LB + "\f" + PROMETHEUS_LB.replace("1027", "5")),
    ("escapes-crlf", '# HELP m a \\\\ b \\n c\r\n# TYPE m untyped\r\nm{a="x\\"y",b="\\\\",c="l\\n2",} 1 1700000000000\r\n'),
    ("special-values", "a +Inf\nb -Inf\nc NaN\nd -0.5e-3\ne 1E10\nf +3\n"),
    ("other-pool", 'ebb_requests_total{pool="api",backend="10.0.0.2:80",code="2xx"} 7\n'
                   'ebb_request_duration_seconds_bucket{pool="api",backend="10.0.0.2:80",le="-1"} 1\n'
                   'ebb_request_duration_seconds_bucket{pool="api",backend="10.0.0.2:80",le="Inf"} 2\n'),
    ("unsorted-buckets", 'ebb_request_duration_seconds_bucket{pool="app",backend="b:1",le="+Inf"} 9\n'
                         'ebb_request_duration_seconds_bucket{pool="app",backend="b:1",le="0.5"} 4\n'
                         'ebb_request_duration_seconds_bucket{pool="app",backend="b:1",le="0.1"} 7\n'
                         'ebb_request_duration_seconds_bucket{pool="app",backend="b:1",le="nan"} 1\n'),
    ("bad-missing-value", "ebb_requests_total{pool=\"app\"}\n"),
    ("bad-escape", 'm{a="\\t"} 1\n'),
    ("bad-duplicate-label", 'm{a="1",a="2"} 1\n'),
    ("bad-type-twice", "# TYPE m counter\n# TYPE m gauge\nm 1\n"),
    ("bad-timestamp", "m 1 12x\n"),
    ("bad-unterminated", 'm{a="1} 1\n'),
]

ADMIN_POOLS = "/api/v1/pools/app/backends"
ADMIN = [
    ("add-backend", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "127.0.0.1:9002", "weight": 3}}'),
    ("add-then-update-then-drain",
     f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "[::1]:80"}}\0'
     f'PUT {ADMIN_POOLS}/%5B%3A%3A1%5D%3A80 Bearer t0k3n\n{{"weight": 7, "state": "draining"}}\0'
     f'DELETE {ADMIN_POOLS}/%5B%3A%3A1%5D%3A80 Bearer t0k3n\n\0'
     f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "[::1]:80"}}\0'
     f'GET {ADMIN_POOLS}/%5B%3A%3A1%5D%3A80\n'),
    ("update-state", f'PUT {ADMIN_POOLS}/127.0.0.1:9001 Bearer t0k3n\n{{"state": "healthy"}}'),
    ("update-weight-bounds", f'PUT {ADMIN_POOLS}/127.0.0.1:9001 Bearer t0k3n\n{{"weight": 1000001}}\0'
                             f'PUT {ADMIN_POOLS}/127.0.0.1:9001 Bearer t0k3n\n{{"weight": -1}}\0'
                             f'PUT {ADMIN_POOLS}/127.0.0.1:9001 Bearer t0k3n\n{{"weight": 18446744073709551615}}\0'
                             f'PUT {ADMIN_POOLS}/127.0.0.1:9001 Bearer t0k3n\n{{"weight": 2.5}}'),
    ("bad-json", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "a:1",'),
    ("not-object", f'POST {ADMIN_POOLS} Bearer t0k3n\n["127.0.0.1:9002"]'),
    ("unknown-field", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "a:1", "weight": 1, "x": null}}'),
    ("bad-address", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "no-port"}}\0'
                    f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "h:99999"}}\0'
                    f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": 5}}'),
    ("nested-json", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": {{"a": [[[[[1]]]]]}}, "weight": {{}}}}'),
    ("unicode", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "h\\u00e9\\ud83d\\ude00:1"}}'),
    ("no-token", f'POST {ADMIN_POOLS}\n{{"address": "127.0.0.1:9003"}}\0DELETE {ADMIN_POOLS}/127.0.0.1:9001 Bearer wrong\n'),
    ("reload", "POST /api/v1/reload Bearer t0k3n\n\0GET /api/v1/reload\n"),
    ("events", "GET /api/v1/events?since=3&limit=10\n\0GET /api/v1/events?since=x\n\0"
               "HEAD /api/v1/events?limit=18446744073709551616\n"),
    ("reads", "GET /\n\0GET /healthz\n\0GET /metrics\n\0GET /api/v1/pools\n\0GET /api/v1/pools/api\n\0"
              "GET /api/v1/pools/nope/backends\n\0HEAD /api/v1/pools/app/backends/127.0.0.1:9001\n"),
    ("bad-routes", "GET /api/v2/pools\n\0GET /api/v1/pools/%zz\n\0PATCH /api/v1/pools/app/backends Bearer t0k3n\n\0"
                   "GET noslash\n\0POST /api/v1/pools/app/backends/a/b Bearer t0k3n\n{}\n"),
    ("body-too-large", f'POST {ADMIN_POOLS} Bearer t0k3n\n{{"address": "' + "a" * 1100 + '.example:80"}'),
]

CONFIG_BROKEN = [
    ("lb-syntax-error", "[runtime]\nworkers = \n"),
    ("lb-unknown-key", '[[listeners]]\nname = "w"\nlisten = "0.0.0.0:8080"\npool = "p"\nbogus = 1\n'
                       '[[pools]]\nname = "p"\nbackends = [{ address = "127.0.0.1:1" }]\n'),
    ("lb-minimal", '[[listeners]]\nname = "w"\nlisten = "127.0.0.1:8080"\npool = "p"\n'
                   '[[pools]]\nname = "p"\nbalance = "weighted_round_robin"\nbackends = [{ address = "[::1]:9001", weight = 3 }]\n'),
    ("lb-bad-values", '[runtime]\nworkers = -1\nshutdown_grace = "5 parsecs"\n[[listeners]]\nname = "w"\n'
                      'listen = "host"\nmode = "udp"\npool = "missing"\n[[pools]]\nname = "p"\nbackends = []\n'
                      '[pools.health]\nexpect = "500-200"\n'),
    ("lb-tls-missing-files", '[[listeners]]\nname = "w"\nlisten = "127.0.0.1:8443"\npool = "p"\n'
                             '[listeners.tls]\ncert = "/nonexistent/c.pem"\nkey = "k.pem"\nmin_version = "1.1"\n'
                             '[[pools]]\nname = "p"\nbackends = [{ address = "127.0.0.1:1" }]\n'),
    ("lb-deep-nesting", "a = " + "[" * 100 + "]" * 100 + "\n"),
    ("lb-bad-utf8", b"# \xff\xfe\n[runtime]\n"),
    ("lb-types", '[runtime]\nworkers = "four"\nmax_connections = 1.5\n[admin]\nlisten = 9901\n'),
    ("scaler-minimal", '[scaler]\npool = "api"\nlb_admin = ["http://127.0.0.1:9901"]\nmin = 1\nmax = 3\n'
                       '[[scaler.targets]]\nmetric = "requests_per_backend"\ntarget = 100\n'
                       '[driver]\ntype = "exec"\nlaunch = ["/bin/true"]\nterminate = ["/bin/true", "{address}"]\n'),
    ("scaler-bad", '[scaler]\npool = ""\nmin = 5\nmax = 2\ninterval = "0s"\n[[scaler.targets]]\nmetric = "magic"\n'
                   'target = -3\n[[scaler.schedule]]\ncron = "61 25 * * 8"\nduration = "1h"\nmin = 1\n'
                   '[driver]\ntype = "process"\nports = "9200-9100"\n'),
    ("scaler-empty", "# only a comment\n"),
]


def main():
    for name, opts, splits, text in REQUESTS:
        write("http_request", name, http(opts, splits, text))
    for name, opts, splits, text in RESPONSES:
        write("http_response", name, http(opts, splits, text))
    for name, text in PROMETHEUS:
        write("prometheus", name, text)
    for name, text in ADMIN:
        write("admin_json", name, text)
    # config: first byte bit 0 selects scaler.toml.
    for kind, bit in (("lb", b"\x00"), ("scaler", b"\x01")):
        write("config", f"{kind}-example", bit + (ROOT / "packaging/examples" / f"{kind}.toml").read_bytes())
    for name, text in CONFIG_BROKEN:
        bit = b"\x01" if name.startswith("scaler") else b"\x00"
        write("config", name, bit + (text if isinstance(text, bytes) else text.encode()))


if __name__ == "__main__":
    main()
