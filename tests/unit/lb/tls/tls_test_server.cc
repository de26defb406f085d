// ebb-tls-test-server: a tiny HTTPS responder built from the real TLS pieces of ebb-lb
// (RawTcpTransport → TlsTransport → TlsContextSet), so integration tests can talk to them with
// real clients (curl, Python ssl, openssl s_client, testssl.sh) before and independently of the
// proxy wiring. Test support only; not installed.
//
//   ebb-tls-test-server --port P --cert C --key K [--sni CERT,KEY]... [--min-version 1.3]
//                       [--no-tickets] [--handshake-timeout-ms N] [--alpn a,b]
//
// Every request head gets "200 OK" with a body describing the TLS session
// ("version=TLSv1.3 alpn=http/1.1 sni=x resumed=0 cipher=..."); GET /stats answers the
// handshake counters. SIGHUP re-reads the certificate files; SIGTERM exits 0.
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/uv.h"
#include "lb/tls/tls_transport.h"
#include "lb/transport/raw_tcp.h"

using namespace ebb::lb;
using namespace ebb::lb::tls;

namespace {

struct Server;

struct Conn final : TransportHandler {
  Server* server = nullptr;
  TransportPtr t;
  std::string in;
  bool dead = false;

  void on_read(Transport& tr, const char* d, size_t n) override;
  void on_eof(Transport&) override { finish(); }
  void on_error(Transport&, int) override { finish(); }
  void on_write_progress(Transport&) override {}
  void finish();
};

struct Server {
  ebb::UvLoop loop;
  ebb::UvHandle<uv_tcp_t> listener;
  ebb::UvHandle<uv_signal_t> sighup, sigterm;
  ebb::UvHandle<uv_check_t> reaper;
  ebb::config::Tls cfg;
  std::shared_ptr<const TlsContextSet> tls;
  std::chrono::milliseconds handshake_timeout{10000};
  std::vector<std::unique_ptr<Conn>> conns;

  void reap() {
    for (size_t i = conns.size(); i-- > 0;)
      if (conns[i]->dead) conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
  }
};

void Conn::finish() {
  if (dead) return;
  dead = true;
  t.reset();  // closes; memory goes in the close callbacks
}

void Conn::on_read(Transport& tr, const char* d, size_t n) {
  in.append(d, n);
  for (;;) {
    size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::string head = in.substr(0, end);
    in.erase(0, end + 4);
    auto& tt = static_cast<TlsTransport&>(tr);
    const TlsSession& s = tt.session();
    std::string body;
    if (head.rfind("GET /stats", 0) == 0) {
      auto tot = server->tls->stats()->totals();
      body = "ok=" + std::to_string(tot.ok) + " resumed=" + std::to_string(tot.resumed) +
             " failed=" + std::to_string(tot.failed) + " plain_http=" + std::to_string(tot.plain_http) +
             " timeout=" + std::to_string(tot.timeout) + " closed=" + std::to_string(tot.closed) + "\n";
    } else {
      body = "version=" + std::string(s.version()) + " alpn=" + std::string(s.alpn()) +
             " sni=" + std::string(s.server_name()) + " resumed=" + (s.resumed() ? "1" : "0") +
             " cipher=" + s.cipher() + "\n";
    }
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    tr.write2(resp, body);
  }
}

Server* g_server = nullptr;

void on_connection(uv_stream_t* l, int status) {
  if (status < 0) return;
  Server& s = *g_server;
  TransportPtr raw = RawTcpTransport::accept(s.loop.get(), l);
  if (!raw) return;
  auto c = std::make_unique<Conn>();
  c->server = &s;
  c->t = TlsTransport::wrap(s.loop.get(), std::move(raw), s.tls->context(0), s.handshake_timeout);
  c->t->set_handler(c.get());
  c->t->start_reading();
  s.conns.push_back(std::move(c));
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: ebb-tls-test-server --port P --cert C --key K [--sni CERT,KEY]... "
                       "[--min-version 1.2|1.3] [--no-tickets] [--handshake-timeout-ms N] [--alpn a,b]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us on the next write (as ebb-lb)
  Server s;
  g_server = &s;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--port") port = std::atoi(next().c_str());
    else if (a == "--cert") s.cfg.default_cert.cert = next();
    else if (a == "--key") s.cfg.default_cert.key = next();
    else if (a == "--sni") {
      std::string v = next();
      size_t comma = v.find(',');
      if (comma == std::string::npos) usage();
      s.cfg.sni.push_back({v.substr(0, comma), v.substr(comma + 1)});
    } else if (a == "--min-version") s.cfg.min_version = next();
    else if (a == "--no-tickets") s.cfg.session_tickets = false;
    else if (a == "--handshake-timeout-ms") s.handshake_timeout = std::chrono::milliseconds(std::atoi(next().c_str()));
    else if (a == "--alpn") {
      s.cfg.alpn.clear();
      std::string v = next();
      for (size_t p = 0; p <= v.size();) {
        size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        s.cfg.alpn.push_back(v.substr(p, c - p));
        p = c + 1;
      }
    } else usage();
  }
  if (port <= 0) usage();
  auto set = TlsContextSet::build("test", s.cfg, 1, nullptr);
  if (!set) {
    std::fprintf(stderr, "%s\n", set.error().c_str());
    return 1;
  }
  s.tls = *set;

  uv_tcp_init(s.loop.get(), s.listener.get());
  s.listener.mark_initialized();
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", port, &addr);
  int rc = uv_tcp_bind(s.listener.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(s.listener.stream(), 128, on_connection);
  if (rc != 0) {
    std::fprintf(stderr, "listen on 127.0.0.1:%d: %s\n", port, uv_strerror(rc));
    return 1;
  }

  uv_signal_init(s.loop.get(), s.sighup.get());
  s.sighup.mark_initialized();
  uv_signal_start(s.sighup.get(), [](uv_signal_t*, int) {
    Server& sv = *g_server;
    auto next = sv.tls->reload(sv.cfg);
    if (!next) {
      std::fprintf(stderr, "reload failed: %s\n", next.error().c_str());
      return;
    }
    sv.tls = *next;
    std::fprintf(stderr, "reloaded\n");
  }, SIGHUP);
  uv_signal_init(s.loop.get(), s.sigterm.get());
  s.sigterm.mark_initialized();
  uv_signal_start(s.sigterm.get(), [](uv_signal_t*, int) {
    Server& sv = *g_server;
    for (auto& c : sv.conns) c->finish();
    uv_stop(sv.loop.get());
  }, SIGTERM);
  uv_check_init(s.loop.get(), s.reaper.get());
  s.reaper.mark_initialized();
  uv_check_start(s.reaper.get(), [](uv_check_t*) { g_server->reap(); });

  std::printf("ready on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  uv_run(s.loop.get(), UV_RUN_DEFAULT);
  s.conns.clear();
  return 0;
}
