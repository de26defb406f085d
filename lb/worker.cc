#include "lb/worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "common/log.h"
#include "lb/conn/http_session.h"
#include "lb/conn/session.h"
#include "lb/conn/tcp_session.h"
#include "lb/conn/upstream_pool.h"
#include "lb/connection_balance.h"
#include "lb/tls/tls_transport.h"
#include "lb/transport/raw_tcp.h"

namespace ebb::lb {

namespace {
constexpr uint64_t kAcceptPauseMs = 100;  // after an accept() error (see on_accept_error)
}  // namespace

Worker::Worker(unsigned id, WorkerShared& shared) : id_(id), shared_(shared) {
  uv_async_init(loop_.get(), async_.get(), [](uv_async_t* a) { static_cast<Worker*>(a->data)->drain_posts(); });
  async_.mark_initialized();
  async_->data = this;
  uv_check_init(loop_.get(), check_.get());
  check_.mark_initialized();
  check_->data = this;
  uv_check_start(check_.get(), [](uv_check_t* c) { static_cast<Worker*>(c->data)->reap(); });
  uv_unref(check_.handle());
  uv_timer_init(loop_.get(), grace_timer_.get());
  grace_timer_.mark_initialized();
  grace_timer_->data = this;
  upstreams_ = std::make_unique<UpstreamPool>(loop_.get());
}

Worker::~Worker() {
  if (thread_.joinable()) thread_.join();
  // Normally empty: sessions finish or are aborted before the loop ends.
  while (sessions_ != nullptr) {
    Session* s = sessions_;
    s->abort();
    if (sessions_ == s) session_finished(s);  // a session that did not finish itself
  }
  reap();
  listeners_.clear();
  upstreams_.reset();
}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  std::string name = "ebb-worker-" + std::to_string(id_);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // visible in top -H, perf
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  reap();
  if (shared_.on_worker_exit) shared_.on_worker_exit();
}

void Worker::post(std::function<void(Worker&)> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(task));
  }
  uv_async_send(async_.get());
}

void Worker::drain_posts() {
  std::vector<std::function<void(Worker&)>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t(*this);
}

int64_t Worker::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PickState& Worker::pick_state(size_t pool_index) {
  // A session may pick from a snapshot other than the worker's (a retry after a reload, a
  // connection handed over by a worker that got the reload first), with more pools in it.
  if (pool_index >= pick_states_.size()) pick_states_.resize(pool_index + 1);
  return pick_states_[pool_index];
}

void Worker::apply_snapshot(std::shared_ptr<const Snapshot> snap, ListenerFds new_fds) {
  if (exiting_) return;  // fds close with new_fds
  if (!snapshot_ || snapshot_->runtime.access_log != snap->runtime.access_log ||
      snap->runtime.access_log != "off")
    access_log_.configure(snap->runtime.access_log);  // reload reopens (log rotation)
  snapshot_ = std::move(snap);

  pick_states_.assign(snapshot_->pools.size(), PickState{});
  for (size_t i = 0; i < pick_states_.size(); ++i) {
    pick_states_[i].rng ^= (uint64_t{id_} + 1) * 0x2545F4914F6CDD1Dull + snapshot_->generation + i;
    pick_states_[i].generation = snapshot_->generation;
  }

  // Listeners: drop the ones gone from the snapshot, repoint the rest, open the new ones.
  for (size_t i = listeners_.size(); i-- > 0;) {
    const ListenerSnapshot* ls = snapshot_->find_listener(listeners_[i]->key);
    if (ls == nullptr) close_listener(i);
    else listeners_[i]->config = ls;
  }
  if (!shutting_down_) {
    for (auto& [key, fd] : new_fds) {
      const ListenerSnapshot* ls = snapshot_->find_listener(key);
      if (ls == nullptr) continue;
      auto l = std::make_unique<WorkerListener>();
      l->worker = this;
      l->key = key;
      l->config = ls;
      l->spare = UniqueFd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
      uv_timer_init(loop_.get(), l->resume_timer.get());
      l->resume_timer.mark_initialized();
      l->resume_timer->data = l.get();
      int rc = listen_on(*l, fd);
      if (rc != 0) {
        log::error("worker " + std::to_string(id_) + ": cannot listen on " + key + ": " + uv_strerror(rc));
        continue;
      }
      listeners_.push_back(std::move(l));
    }
  }

  // Work on backends that left their pool ends now (their drain_timeout is over).
  for (Session* s = sessions_; s != nullptr;) {
    Session* next = s->next_;
    s->on_snapshot(*snapshot_);
    s = next;
  }

  // Idle upstream connections only to backends that may still receive requests.
  std::unordered_set<std::string> keep;
  for (const auto& p : snapshot_->pools)
    for (const auto& b : p.backends)
      if (b.state == BackendState::healthy) keep.insert(b.address);
  upstreams_->retain_only(keep);
}

int Worker::listen_on(WorkerListener& l, UniqueFd& fd) {
  l.tcp = UvHandle<uv_tcp_t>();
  uv_tcp_init(loop_.get(), l.tcp.get());
  l.tcp.mark_initialized();
  l.tcp->data = &l;
  int rc = uv_tcp_open(l.tcp.get(), fd.get());
  if (rc != 0) return rc;
  fd.release();  // libuv owns it now
  return uv_listen(l.tcp.stream(), 4096, [](uv_stream_t* s, int status) {
    auto* wl = static_cast<WorkerListener*>(s->data);
    if (status < 0) wl->worker->on_accept_error(*wl, status);
    else wl->worker->on_connection(*wl);
  });
}

void Worker::on_accept_error(WorkerListener& l, int status) {
  // libuv reports an accept() error only when its own remedy failed (for EMFILE: a reserve
  // descriptor freed to accept and close the waiting connections, which another thread can take
  // first), and then calls accept() again at once, in a loop that spins at 100 % CPU for as long
  // as the error lasts. Closing the handle ends that loop; the spare descriptor keeps the socket
  // and its backlog until the timer resumes accepting.
  uint64_t now = uv_now(loop_.get());
  bool pause = l.spare.valid() && !shutting_down_;
  if (now >= next_accept_log_ms_) {
    next_accept_log_ms_ = now + 1000;
    log::warn("worker " + std::to_string(id_) + ": accept on " + l.key + " failed: " + uv_strerror(status) +
              (pause ? " (accepting paused, retried every 100 ms)" : ""));
  }
  if (!pause) return;
  l.tcp.reset();  // closes its descriptor now
  if (status == UV_EMFILE || status == UV_ENFILE) {
    // The slot just freed lets us close the connections waiting in the backlog, as libuv's remedy
    // would have: their clients learn at once instead of waiting for descriptors to free up.
    for (int i = 0; i < 64; ++i) {
      int c = ::accept4(l.spare.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      ::close(c);
    }
  }
  arm_resume(l);
}

void Worker::arm_resume(WorkerListener& l) {
  uv_timer_start(l.resume_timer.get(), [](uv_timer_t* t) {
    auto* wl = static_cast<WorkerListener*>(t->data);
    wl->worker->resume_listener(*wl);
  }, kAcceptPauseMs, 0);
}

void Worker::resume_listener(WorkerListener& l) {
  if (shutting_down_) return;
  UniqueFd fd(::fcntl(l.spare.get(), F_DUPFD_CLOEXEC, 0));  // takes the slot the pause freed
  if (fd.valid()) {
    int rc = listen_on(l, fd);
    if (rc == 0) return;
    log::error("worker " + std::to_string(id_) + ": cannot resume listening on " + l.key + ": " + uv_strerror(rc));
  }
  arm_resume(l);  // still no descriptor free (or the error above): try again later
}

void Worker::close_listener(size_t i) {
  listeners_.erase(listeners_.begin() + static_cast<std::ptrdiff_t>(i));
}

void Worker::on_connection(WorkerListener& l) {
  if (shutting_down_ || l.config == nullptr) {
    RawTcpTransport::accept(loop_.get(), l.tcp.stream());  // and drop it
    return;
  }
  uint64_t open = shared_.connections.fetch_add(1, std::memory_order_relaxed);
  if (open >= shared_.max_connections.load(std::memory_order_relaxed)) {
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
    RawTcpTransport::accept(loop_.get(), l.tcp.stream());  // refused: closed before any TLS
    return;
  }
  const auto& all = shared_.workers;
  size_t owner = pick_owner(id_, all.size(), [&](size_t i) { return all[i]->load(); });
  if (owner != id_) return hand_off(*all[owner], l);
  TransportPtr t = RawTcpTransport::accept(loop_.get(), l.tcp.stream());
  if (!t) {
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  start_session(snapshot_, *l.config, std::move(t));
}

int64_t Worker::load() const {
  return counters_.connections_active.load(std::memory_order_relaxed) +
         incoming_.load(std::memory_order_relaxed);
}

void Worker::hand_off(Worker& owner, WorkerListener& l) {
  UniqueFd fd = RawTcpTransport::accept_fd(loop_.get(), l.tcp.stream());
  if (!fd.valid()) {
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  owner.incoming_.fetch_add(1, std::memory_order_relaxed);
  counters_.connections_moved.fetch_add(1, std::memory_order_relaxed);
  // The listener's config lives in our snapshot; the owner uses its own if it has the listener
  // (the usual case), ours if a reload reached the two workers at different moments.
  struct Handed {
    UniqueFd fd;
    std::string key;
    std::shared_ptr<const Snapshot> snap;
    const ListenerSnapshot* config;
  };
  auto h = std::make_shared<Handed>(Handed{std::move(fd), l.key, snapshot_, l.config});
  owner.post([h](Worker& w) { w.adopt_connection(std::move(h->fd), h->key, std::move(h->snap), *h->config); });
}

void Worker::adopt_connection(UniqueFd fd, const std::string& key, std::shared_ptr<const Snapshot> snap,
                              const ListenerSnapshot& accepted_on) {
  incoming_.fetch_sub(1, std::memory_order_relaxed);
  TransportPtr t;
  if (!shutting_down_) t = RawTcpTransport::open(loop_.get(), fd);
  if (!t) {  // shutting down (as every worker is then), or no handle: the descriptor closes
    shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  const ListenerSnapshot* own = snapshot_ ? snapshot_->find_listener(key) : nullptr;
  if (own != nullptr) start_session(snapshot_, *own, std::move(t));
  else start_session(snap, accepted_on, std::move(t));
}

void Worker::start_session(const std::shared_ptr<const Snapshot>& snap, const ListenerSnapshot& listener,
                           TransportPtr t) {
  if (listener.tls)  // TLS termination: the session sees plaintext only (DESIGN point 6)
    t = tls::TlsTransport::wrap(loop_.get(), std::move(t), listener.tls->context(id_),
                                listener.settings.header_timeout);
  counters_.connections_total.fetch_add(1, std::memory_order_relaxed);
  counters_.connections_active.fetch_add(1, std::memory_order_relaxed);
  if (listener.counter_slot < kMaxListenerCounterSlots) {
    ListenerCounters& lc = counters_.listeners[listener.counter_slot];
    lc.connections_total.fetch_add(1, std::memory_order_relaxed);
    lc.connections_active.fetch_add(1, std::memory_order_relaxed);
  }
  std::unique_ptr<Session> s;
  if (listener.settings.mode == config::ListenerMode::tcp)
    s = std::make_unique<TcpSession>(*this, snap, listener, std::move(t));
  else
    s = std::make_unique<HttpSession>(*this, snap, listener, std::move(t));
  adopt(std::move(s));
}

Session* Worker::adopt(std::unique_ptr<Session> s) {
  Session* raw = s.release();
  raw->next_ = sessions_;
  if (sessions_) sessions_->prev_ = raw;
  sessions_ = raw;
  ++session_count_;
  raw->start();
  return raw;
}

void Worker::connection_closed(const ListenerSnapshot& listener) {
  shared_.connections.fetch_sub(1, std::memory_order_relaxed);
  counters_.connections_active.fetch_sub(1, std::memory_order_relaxed);
  if (listener.counter_slot < kMaxListenerCounterSlots)
    counters_.listeners[listener.counter_slot].connections_active.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::session_finished(Session* s) {
  if (s->prev_) s->prev_->next_ = s->next_;
  else sessions_ = s->next_;
  if (s->next_) s->next_->prev_ = s->prev_;
  s->prev_ = s->next_ = nullptr;
  --session_count_;
  graveyard_.push_back(s);
  uv_ref(check_.handle());  // make sure the check callback runs this iteration
}

void Worker::reap() {
  while (!graveyard_.empty()) {
    std::vector<Session*> dead;
    dead.swap(graveyard_);
    for (Session* s : dead) std::unique_ptr<Session> owned(s);
  }
  uv_unref(check_.handle());
  access_log_.flush();
  maybe_exit();
}

void Worker::begin_shutdown(uint64_t grace_ms) {
  if (shutting_down_) return;
  shutting_down_ = true;
  while (!listeners_.empty()) close_listener(listeners_.size() - 1);
  upstreams_->close_all();
  uv_timer_start(grace_timer_.get(), [](uv_timer_t* t) {
    auto* w = static_cast<Worker*>(t->data);
    log::warn("worker " + std::to_string(w->id_) + ": shutdown grace over, closing " +
              std::to_string(w->session_count_) + " connections");
    while (w->sessions_ != nullptr) {
      Session* s = w->sessions_;
      s->abort();
      if (w->sessions_ == s) w->session_finished(s);
    }
    w->reap();
  }, grace_ms, 0);
  // Sessions may finish (and unlink) while we walk: take the next pointer first.
  for (Session* s = sessions_; s != nullptr;) {
    Session* next = s->next_;
    s->begin_shutdown();
    s = next;
  }
  maybe_exit();
}

void Worker::maybe_exit() {
  if (!shutting_down_ || exiting_ || session_count_ != 0 || !graveyard_.empty()) return;
  exiting_ = true;
  access_log_.flush();
  upstreams_->close_all();
  uv_timer_stop(grace_timer_.get());
  uv_stop(loop_.get());
}

}  // namespace ebb::lb
