#include "lb/conn/backend_connector.h"

#include <algorithm>
#include <span>
#include <string>

#include "common/log.h"
#include "lb/balancer/peak_ewma.h"
#include "lb/conn/upstream_pool.h"
#include "lb/transport/raw_tcp.h"
#include "lb/worker.h"

namespace ebb::lb {

namespace {
// A connect that could not even start for lack of local resources (file descriptors, memory).
bool local_resource_error(int err) {
  return err == UV_EMFILE || err == UV_ENFILE || err == UV_ENOBUFS || err == UV_ENOMEM;
}
}  // namespace

BackendConnector::BackendConnector(Worker& worker, Owner& owner) : worker_(worker), owner_(owner) {
  uv_timer_init(worker.loop(), timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
}

BackendConnector::~BackendConnector() { cancel(); }

void BackendConnector::cancel() {
  if (pending_) {
    pending_.reset();
    if (pool_ && current_ != kNoBackend)
      pool_->backends[current_].live->active.fetch_sub(1, std::memory_order_relaxed);
  }
  pool_ = nullptr;
  current_ = kNoBackend;
  prepicked_ = kNoBackend;
  deferred_failure_ = false;
  uv_timer_stop(timer_.get());
}

BackendConnector::Start BackendConnector::connect(const PoolSnapshot& pool, const PickRequest& req,
                                                  bool allow_reuse, size_t pinned) {
  cancel();
  pool_ = &pool;
  req_ = req;
  allow_reuse_ = allow_reuse;
  tried_count_ = 0;
  any_picked_ = false;
  attempts_left_ = std::min<unsigned>(pool.settings.retries + 1, static_cast<unsigned>(std::size(tried_)));
  started_ms_ = uv_now(worker_.loop());
  if (pinned != kNoBackend || (allow_reuse_ && pool.selector)) {
    req_.exclude = {};
    size_t idx = pinned != kNoBackend ? pinned : pool.selector->pick(req_, worker_.pick_state(pool.index));
    if (idx == kNoBackend) {
      pool_ = nullptr;
      return Start::no_backend;
    }
    const Backend& b = pool.backends[idx];
    TransportPtr t = allow_reuse_ ? worker_.upstreams().take(b.address) : nullptr;
    if (t) {
      b.live->active.fetch_add(1, std::memory_order_relaxed);
      b.live->requests.fetch_add(1, std::memory_order_relaxed);
      current_ = idx;
      pending_ = std::move(t);
      return Start::reused;
    }
    prepicked_ = idx;  // nothing idle: connect to this one (the pick already advanced the cursor)
  }
  if (attempt(false)) return Start::pending;
  if (!any_picked_) {
    pool_ = nullptr;
    return Start::no_backend;
  }
  deliver_failure();  // deferred: the owner hears it from a later callback
  return Start::pending;
}

TransportPtr BackendConnector::take_reused(size_t* backend_index) {
  *backend_index = current_;
  pool_ = nullptr;
  current_ = kNoBackend;
  return std::move(pending_);
}

bool BackendConnector::attempt(bool may_reuse) {
  while (attempts_left_ > 0) {
    size_t idx = prepicked_;
    prepicked_ = kNoBackend;
    if (idx == kNoBackend) {
      req_.exclude = std::span<const uint32_t>(tried_, tried_count_);
      idx = pool_->selector ? pool_->selector->pick(req_, worker_.pick_state(pool_->index)) : kNoBackend;
    }
    if (idx == kNoBackend) return false;
    any_picked_ = true;
    tried_[tried_count_++] = static_cast<uint32_t>(idx);
    --attempts_left_;
    const Backend& b = pool_->backends[idx];
    b.live->active.fetch_add(1, std::memory_order_relaxed);
    b.live->requests.fetch_add(1, std::memory_order_relaxed);
    current_ = idx;
    if (may_reuse && allow_reuse_) {
      // A retry after a failed connect: an idle keep-alive connection to the backend picked now
      // saves a new one (after a backend dies, its share would otherwise open a burst of them).
      if (TransportPtr t = worker_.upstreams().take(b.address)) {
        pool_ = nullptr;
        current_ = kNoBackend;
        owner_.on_connected(idx, std::move(t), true);
        return true;
      }
    }
    int err = 0;
    pending_ = RawTcpTransport::connect(worker_.loop(), reinterpret_cast<const sockaddr*>(&b.sockaddr), this, &err);
    if (pending_) {
      uv_timer_start(timer_.get(), [](uv_timer_t* t) {
        auto* self = static_cast<BackendConnector*>(t->data);
        self->pending_.reset();
        self->fail_attempt();
      }, static_cast<uint64_t>(pool_->settings.connect_timeout.count()), 0);
      return true;
    }
    b.live->active.fetch_sub(1, std::memory_order_relaxed);
    if (local_resource_error(err)) log_local_error(err, b.address);
    else b.live->consecutive_failures.fetch_add(1, std::memory_order_relaxed);
    current_ = kNoBackend;
  }
  return false;
}

void BackendConnector::log_local_error(int err, const std::string& address) {
  // Our process is out of descriptors or memory: not the backend's fault, so no passive-health
  // failure (that would eject healthy backends). Logged at most once a second per worker.
  thread_local uint64_t next_log_ms = 0;
  uint64_t now = uv_now(worker_.loop());
  if (now < next_log_ms) return;
  next_log_ms = now + 1000;
  log::warn("worker " + std::to_string(worker_.id()) + ": cannot open a connection to backend " + address +
            ": " + uv_strerror(err));
}

void BackendConnector::on_connect(Transport&, int status) {
  uv_timer_stop(timer_.get());
  if (status == 0) {
    // consecutive_failures is reset by the owner: on connect for TCP, on a non-5xx response
    // for HTTP (SPEC §2: passive failures are connect errors and 5xx responses).
    size_t idx = current_;
    TransportPtr t = std::move(pending_);
    pool_ = nullptr;
    current_ = kNoBackend;
    t->set_handler(nullptr);
    owner_.on_connected(idx, std::move(t), false);
    return;
  }
  pending_.reset();
  fail_attempt();
}

void BackendConnector::fail_attempt() {
  if (pool_ == nullptr) return;
  if (current_ != kNoBackend) {
    const Backend& b = pool_->backends[current_];
    b.live->active.fetch_sub(1, std::memory_order_relaxed);
    b.live->consecutive_failures.fetch_add(1, std::memory_order_relaxed);
    if (pool_->settings.balance == config::Balance::response_time)
      record_failure(*b.live, static_cast<int64_t>(uv_hrtime()));
    current_ = kNoBackend;
  }
  if (attempt(true)) return;
  pool_ = nullptr;
  owner_.on_connect_failed(!any_picked_);
}

void BackendConnector::deliver_failure() {
  deferred_failure_ = true;
  uv_timer_start(timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<BackendConnector*>(t->data);
    self->deferred_failure_ = false;
    self->pool_ = nullptr;
    self->owner_.on_connect_failed(!self->any_picked_);
  }, 0, 0);
}

}  // namespace ebb::lb
