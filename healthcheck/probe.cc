#include "healthcheck/probe.h"

#include <llhttp.h>

#include <cstring>

namespace ebb::health {

// libuv requests cannot be cancelled: when the handle closes their callbacks still run (with
// UV_ECANCELED). So a request owns itself and only points back to a Probe that is still alive.
struct Probe::ConnectReq {
  uv_connect_t req;
  Probe* owner;
};

struct Probe::WriteReq {
  uv_write_t req;
  Probe* owner;
  std::string data;
};

struct Probe::Parser {
  llhttp_t parser;
  llhttp_settings_t settings;
  bool status_seen = false;
};

namespace {
std::string uv_detail(int err) {
  if (err == UV_ECONNREFUSED) return "connection refused";
  if (err == UV_ECONNRESET) return "connection reset";
  if (err == UV_ETIMEDOUT) return "connect timed out";
  if (err == UV_EHOSTUNREACH) return "host unreachable";
  if (err == UV_ENETUNREACH) return "network unreachable";
  return std::string(uv_err_name(err)) + ": " + uv_strerror(err);
}

// Errors of this process or host, not of the backend: no socket could be made or bound.
bool local_shortage(int err) {
  return err == UV_EMFILE || err == UV_ENFILE || err == UV_ENOBUFS || err == UV_ENOMEM ||
         err == UV_EADDRNOTAVAIL;
}
}  // namespace

std::unique_ptr<Probe> Probe::start(uv_loop_t* loop, const ProbeSpec& spec, Done done) {
  std::unique_ptr<Probe> p(new Probe(loop, spec, std::move(done)));
  p->begin();
  return p;
}

Probe::Probe(uv_loop_t* loop, const ProbeSpec& spec, Done done)
    : loop_(loop), spec_(spec), done_(std::move(done)) {}

Probe::~Probe() {
  if (pending_connect_) pending_connect_->owner = nullptr;
  if (pending_write_) pending_write_->owner = nullptr;
  // tcp_ and timer_ close themselves (UvHandle); no callback reaches us after uv_close.
}

void Probe::begin() {
  uv_timer_init(loop_, timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
  auto arm = [this](uint64_t ms) {
    uv_timer_start(timer_.get(), [](uv_timer_t* t) { static_cast<Probe*>(t->data)->on_timer(); },
                   ms, 0);
  };

  int rc = uv_tcp_init(loop_, tcp_.get());
  if (rc == 0) {
    tcp_.mark_initialized();
    tcp_->data = this;
    uv_tcp_nodelay(tcp_.get(), 1);
    auto* req = new ConnectReq{{}, this};
    rc = uv_tcp_connect(&req->req, tcp_.get(), reinterpret_cast<const sockaddr*>(&spec_.addr),
                        [](uv_connect_t* r, int status) {
                          std::unique_ptr<ConnectReq> own(reinterpret_cast<ConnectReq*>(r));
                          if (own->owner) {
                            own->owner->pending_connect_ = nullptr;
                            own->owner->on_connect(status);
                          }
                        });
    if (rc == 0) pending_connect_ = req;
    else delete req;
  }
  if (rc != 0) {
    // Report on the next loop turn, never from inside start().
    deferred_failure_ = uv_detail(rc);
    deferred_local_ = local_shortage(rc);
    arm(0);
    return;
  }
  arm(static_cast<uint64_t>(spec_.timeout.count()));
}

void Probe::on_timer() {
  if (deferred_local_) return finish(false, 0, deferred_failure_, /*inconclusive=*/true);
  if (!deferred_failure_.empty()) return finish(false, 0, deferred_failure_);
  return finish(false, 0, "timeout after " + format_duration(spec_.timeout));
}

void Probe::on_connect(int status) {
  if (status != 0) return finish(false, 0, uv_detail(status));
  if (spec_.kind != config::HealthCheck::http) return finish(true, 0, "connected");

  parser_ = std::make_unique<Parser>();
  llhttp_settings_init(&parser_->settings);
  parser_->settings.on_status_complete = [](llhttp_t* p) -> int {
    static_cast<Parser*>(p->data)->status_seen = true;
    return HPE_PAUSED;  // the status line is all a check needs
  };
  llhttp_init(&parser_->parser, HTTP_RESPONSE, &parser_->settings);
  parser_->parser.data = parser_.get();

  auto* w = new WriteReq{{}, this, {}};
  w->data = "GET " + spec_.path + " HTTP/1.1\r\nHost: " + spec_.host_header +
            "\r\nUser-Agent: ebb-health\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, tcp_.stream(), &buf, 1, [](uv_write_t* r, int st) {
    std::unique_ptr<WriteReq> own(reinterpret_cast<WriteReq*>(r));
    if (own->owner) {
      own->owner->pending_write_ = nullptr;
      own->owner->on_write(st);
    }
  });
  if (rc != 0) {
    delete w;
    return finish(false, 0, "write: " + uv_detail(rc));
  }
  pending_write_ = w;
  rc = uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* self = static_cast<Probe*>(h->data);
        *b = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        static_cast<Probe*>(s->data)->on_read(n, b);
      });
  if (rc != 0) return finish(false, 0, "read: " + uv_detail(rc));
}

void Probe::on_write(int status) {
  if (status != 0) return finish(false, 0, "write: " + uv_detail(status));
}

void Probe::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    if (nread == UV_EOF) return finish(false, 0, "connection closed before a response");
    return finish(false, 0, uv_detail(static_cast<int>(nread)));
  }
  llhttp_errno_t err = llhttp_execute(&parser_->parser, buf->base, static_cast<size_t>(nread));
  if (parser_->status_seen) {
    const int code = llhttp_get_status_code(&parser_->parser);
    const bool pass = code >= spec_.expect_min && code <= spec_.expect_max;
    return finish(pass, code, "HTTP " + std::to_string(code));
  }
  if (err != HPE_OK)
    return finish(false, 0, std::string("bad response: ") + llhttp_errno_name(err));
}

void Probe::finish(bool pass, int status, std::string detail, bool inconclusive) {
  if (!done_) return;
  uv_timer_stop(timer_.get());
  if (tcp_.initialized()) {
    uv_read_stop(tcp_.stream());
    tcp_.reset();  // close now: a check holds its connection no longer than needed
  }
  Done done = std::move(done_);
  done_ = nullptr;
  done(ProbeResult{pass, status, std::move(detail), inconclusive});  // may destroy *this
}

}  // namespace ebb::health
