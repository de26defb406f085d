// ebb-testbackend: the HTTP/1.1 (or raw TCP echo) server that the demo, the integration tests
// and the scaler's process driver put behind ebb-lb. Single-threaded, one libuv loop.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "common/address.h"
#include "common/log.h"
#include "common/uv.h"
#include "tests/support/backend_server.h"
#include "tests/support/request_target.h"

namespace {

constexpr const char* kHelp = R"(usage: ebb-testbackend --listen HOST:PORT [--name NAME] [--tcp-echo | --tcp-greeting] [--unhealthy]
                       [--idle-timeout MS] [--verbose]

An HTTP/1.1 test server (libuv + llhttp, one thread). Every HTTP response carries
"X-Backend: NAME". Keep-alive (HTTP/1.1 default; HTTP/1.0 with "Connection: keep-alive"),
pipelining, Content-Length and chunked request bodies, "Expect: 100-continue".

Options:
  --listen HOST:PORT  address to listen on: IPv4, [IPv6] or a name resolved at start (required)
  --name NAME         name used in X-Backend and bodies (default: the listen address)
  --tcp-echo          raw TCP echo server instead of HTTP: echoes every byte; when the client
                      shuts down its write side, the echo is flushed and ours is shut down too
  --tcp-greeting      like --tcp-echo, but first sends "backend NAME\n" on every connection
                      (shows which backend an L4 balancer picked)
  --unhealthy         start with /healthz failing (as if /fail-health had been called once)
  --idle-timeout MS   close a connection (FIN) after MS ms without a request in progress,
                      like a server's keep-alive timeout (default 0: never)
  --verbose           log each request to stderr
  --help, --version

Routes (any method; unknown paths behave like /):
  /                     200 "backend NAME\n"
  /healthz              200 "ok", or 503 "unhealthy" after /fail-health
  /fail-health          toggles the health state; 200 with the new state: "healthy" | "unhealthy"
  /delay?ms=N           "backend NAME\n" after N ms (0..3600000; a timer, the loop keeps serving)
  /status/N             status N (200..599), body "status N\n" (none for 204/304)
  /echo                 200 application/json: {"backend","method","path" (the raw request target),
                        "version" ("HTTP/1.1"),"headers": [[name,value],...] (as received, in order),
                        "body" (only when the body is <= 65536 bytes),"body_sha256" (hex),
                        "body_length"}; the body is hashed as it arrives, never fully buffered
  /stream?chunks=N&interval_ms=M&size=S[&framing=F]
                        N chunks of S bytes; the first is sent at once, each next one M ms after
                        the previous write completed (defaults 5, 100, 64; N <= 1000000,
                        M <= 60000, 1 <= S <= 262144); framing chunked by default
  /bytes?n=N[&framing=F]
                        a body of N bytes (default 1024, up to 2^40), written piecewise as the
                        client reads (backpressure, constant memory); Content-Length by default
                        framing=length|chunked|close: Content-Length, Transfer-Encoding: chunked
                        (one chunk per write; HTTP/1.0 clients get close), or no length and the
                        body ends when the connection closes
  /cpu?ms=N             burns N ms (<= 60000) of CPU on the loop thread, then "backend NAME\n"
  /headers?count=N&size=S
                        "backend NAME\n" with N extra response headers "X-Fill-<i>: <S pattern
                        bytes>" (defaults 10, 16; N <= 10000, S <= 65536): large response heads
  /ws                   WebSocket echo (RFC 6455) after an "Upgrade: websocket" handshake:
                        data frames echoed unmasked with the same opcode and FIN, ping -> pong,
                        close -> close with the same code, then the connection ends
  /close                "backend NAME\n" with "Connection: close", then closes
  /reset                no response: closes the connection with RST (SO_LINGER 0)

Body pattern of /stream and /bytes: the byte at body offset i is 'a' + (i mod 26)
("abcdefghijklmnopqrstuvwxyzabc..."), continuing across /stream chunks.
Malformed requests get 400 (431 when the head exceeds 64 KiB) and the connection is closed.
SIGTERM and SIGINT: close every connection and exit 0.
)";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ebb-testbackend: %s\nusage: ebb-testbackend --listen HOST:PORT [--name NAME] "
               "[--tcp-echo] [--unhealthy] [--verbose] (see --help)\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ebb::testbackend::Options options;
  std::string listen;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("ebb-testbackend %s\n", EBB_VERSION);
      return 0;
    } else if (arg == "--listen") {
      if (!value(listen)) return usage_error("--listen needs HOST:PORT");
    } else if (arg.starts_with("--listen=")) {
      listen = std::string(arg.substr(9));
    } else if (arg == "--name") {
      if (!value(options.name)) return usage_error("--name needs a value");
    } else if (arg.starts_with("--name=")) {
      options.name = std::string(arg.substr(7));
    } else if (arg == "--tcp-echo") {
      options.tcp_echo = true;
    } else if (arg == "--tcp-greeting") {
      options.tcp_echo = true;
      options.tcp_greeting = true;
    } else if (arg == "--idle-timeout") {
      std::string ms;
      auto parsed = value(ms) ? ebb::testbackend::parse_decimal(ms, 86'400'000) : std::nullopt;
      if (!parsed) return usage_error("--idle-timeout needs milliseconds (0..86400000)");
      options.idle_timeout_ms = *parsed;
    } else if (arg == "--unhealthy") {
      options.start_unhealthy = true;
    } else if (arg == "--verbose" || arg == "-v") {
      options.verbose = true;
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (listen.empty()) return usage_error("--listen HOST:PORT is required");
  auto hp = ebb::parse_host_port(listen);
  if (!hp) return usage_error(hp.error());
  options.listen = *hp;
  if (options.name.empty()) options.name = options.listen.str();
  for (char c : options.name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return usage_error("--name must be printable");

  std::signal(SIGPIPE, SIG_IGN);
  int rc = 0;
  {
    ebb::UvLoop loop;
    ebb::testbackend::Server server(loop.get(), options);
    if (auto started = server.start(); !started) {
      std::fprintf(stderr, "ebb-testbackend: %s\n", started.error().c_str());
      server.stop();
      rc = 1;
    } else if (options.verbose) {
      ebb::log::info("ebb-testbackend " + options.name + " listening on " + options.listen.str() +
                     (options.tcp_echo ? " (tcp echo)" : " (http)"));
    }
    uv_run(loop.get(), UV_RUN_DEFAULT);
  }
  return rc;
}
