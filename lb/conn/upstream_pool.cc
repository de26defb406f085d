#include "lb/conn/upstream_pool.h"

namespace ebb::lb {

UpstreamPool::UpstreamPool(uv_loop_t* loop) : loop_(loop) {
  uv_timer_init(loop, sweep_timer_.get());
  sweep_timer_.mark_initialized();
  sweep_timer_->data = this;
  uv_timer_start(sweep_timer_.get(), [](uv_timer_t* t) { static_cast<UpstreamPool*>(t->data)->sweep(); },
                 1000, 1000);
  uv_unref(sweep_timer_.handle());
}

UpstreamPool::~UpstreamPool() { close_all(); }

TransportPtr UpstreamPool::take(const std::string& backend) {
  auto it = idle_.find(backend);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  TransportPtr t = std::move(it->second.back().transport);
  it->second.pop_back();
  t->set_handler(nullptr);  // still reading: the new owner sees the response (no epoll_ctl churn)
  return t;
}

void UpstreamPool::put(const std::string& backend, TransportPtr t, uint64_t idle_timeout_ms) {
  auto it = idle_.find(backend);  // no entry: not eligible for new requests (retain_only)
  if (it == idle_.end() || it->second.size() >= kMaxIdlePerBackend) return;  // t closes here
  auto& list = it->second;
  t->set_handler(this);
  t->start_reading();  // to notice the backend closing it
  list.push_back(Idle{std::move(t), uv_now(loop_) + idle_timeout_ms});
}

void UpstreamPool::drop(Transport& t) {
  for (auto& [key, list] : idle_) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].transport.get() == &t) {
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));  // closes it
        return;
      }
    }
  }
}

void UpstreamPool::sweep() {
  uint64_t now = uv_now(loop_);
  for (auto& [key, list] : idle_) {
    std::erase_if(list, [&](const Idle& i) { return i.expires_ms <= now; });
  }
}

void UpstreamPool::retain_only(const std::unordered_set<std::string>& keep) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (keep.count(it->first) == 0) it = idle_.erase(it);  // closes its idle connections
    else ++it;
  }
  for (const auto& address : keep) idle_.try_emplace(address);  // an (empty) entry: put() may park
}

void UpstreamPool::close_all() { idle_.clear(); }

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace ebb::lb
