#include "lb/admin/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <algorithm>
#include <limits>
#include <sstream>

#include "common/log.h"

namespace ebb::lb::admin {

namespace {
constexpr uint32_t kCodeClasses = 5;  // 1xx..5xx
constexpr uint32_t kBuckets = kLatencyBuckets.size() + 1;  // + the +Inf bucket

// Nanosecond upper bounds, so the hot path compares integers.
constexpr std::array<uint64_t, kLatencyBuckets.size()> bucket_bounds_ns() {
  std::array<uint64_t, kLatencyBuckets.size()> ns{};
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
    ns[i] = static_cast<uint64_t>(kLatencyBuckets[i] * 1e9 + 0.5);
  return ns;
}
constexpr auto kBoundsNs = bucket_bounds_ns();

uint32_t code_class(int status) {
  if (status < 100 || status > 599) return 4;  // not a valid HTTP status: count it as a 5xx
  return static_cast<uint32_t>(status / 100 - 1);
}
}  // namespace

// Layout of one backend slot in a worker block:
//   [listener row (max_listeners + 1 rows, the last for overflow)][code class]  requests
//   [kBuckets]                                                                 latency buckets
//   [1]                                                                        latency sum (ns)
WorkerMetrics::WorkerMetrics(uint32_t max_listeners, uint32_t slot_stride)
    : max_listeners_(max_listeners),
      slot_stride_(slot_stride),
      listeners_(std::make_unique<Counter[]>((max_listeners + 1) * kListenerFields)) {}

WorkerMetrics::Counter* WorkerMetrics::backend(uint32_t slot) const {
  const uint32_t chunk = slot / kChunkSlots;
  if (chunk >= kMaxChunks) return nullptr;
  Counter* base = chunks_[chunk].load(std::memory_order_acquire);
  if (!base) return nullptr;
  return base + static_cast<size_t>(slot % kChunkSlots) * slot_stride_;
}

void WorkerMetrics::ensure_chunk(uint32_t chunk) {
  if (chunks_[chunk].load(std::memory_order_relaxed)) return;
  owned_chunks_.push_back(std::make_unique<Counter[]>(static_cast<size_t>(kChunkSlots) * slot_stride_));
  chunks_[chunk].store(owned_chunks_.back().get(), std::memory_order_release);
}

void WorkerMetrics::on_request(uint32_t listener_slot, uint32_t backend_slot, int status,
                               uint64_t duration_ns, uint64_t bytes_in, uint64_t bytes_out) {
  bump(listener(listener_slot, kBytesIn), bytes_in);
  bump(listener(listener_slot, kBytesOut), bytes_out);
  Counter* b = backend(backend_slot);
  if (!b) return;
  const uint32_t row = listener_slot < max_listeners_ ? listener_slot : max_listeners_;
  bump(b[row * kCodeClasses + code_class(status)], 1);
  Counter* hist = b + (max_listeners_ + 1) * kCodeClasses;
  uint32_t i = 0;
  while (i < kBoundsNs.size() && duration_ns > kBoundsNs[i]) ++i;
  bump(hist[i], 1);
  bump(hist[kBuckets], duration_ns);
}

MetricsHub::MetricsHub(unsigned workers, uint32_t max_listeners)
    : max_listeners_(max_listeners),
      slot_stride_((max_listeners + 1) * kCodeClasses + kBuckets + 1) {
  for (unsigned i = 0; i < workers; ++i)
    workers_.push_back(std::unique_ptr<WorkerMetrics>(new WorkerMetrics(max_listeners_, slot_stride_)));
}

int64_t MetricsHub::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint32_t MetricsHub::listener_slot(const std::string& name) {
  std::lock_guard lock(mu_);
  return listener_slot_locked(name);
}

uint32_t MetricsHub::listener_slot_locked(const std::string& name) {
  for (uint32_t i = 0; i < listener_names_.size(); ++i)
    if (listener_names_[i] == name) return i;
  if (listener_names_.size() >= max_listeners_) {
    log::warn("metrics: more than " + std::to_string(max_listeners_) +
              " listener names; listener " + name + " is not counted");
    return kNoSlot;
  }
  listener_names_.push_back(name);
  return static_cast<uint32_t>(listener_names_.size() - 1);
}

uint32_t MetricsHub::backend_slot(const std::string& pool, const std::string& backend) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(pool, backend);
  if (auto it = slot_by_key_.find(key); it != slot_by_key_.end()) {
    SlotInfo& s = slots_[it->second];
    if (!s.live) {  // came back within its quarantine: same identity, same slot
      s.live = true;
      std::erase(free_slots_, it->second);
    }
    return it->second;
  }
  uint32_t slot = kNoSlot;
  if (!free_slots_.empty() && now_ms() - slots_[free_slots_.front()].released_ms >= kSlotQuarantineMs) {
    slot = free_slots_.front();
    free_slots_.erase(free_slots_.begin());
    slot_by_key_.erase({slots_[slot].pool, slots_[slot].backend});
    // Start from zero: the quarantine guarantees no worker writes here any more.
    for (auto& w : workers_) {
      WorkerMetrics::Counter* c = w->backend(slot);
      for (uint32_t i = 0; i < slot_stride_; ++i) c[i].store(0, std::memory_order_relaxed);
    }
  } else {
    if (slots_.size() >= static_cast<size_t>(WorkerMetrics::kChunkSlots) * WorkerMetrics::kMaxChunks) {
      log::warn("metrics: backend slots exhausted; " + pool + "/" + backend + " is not counted");
      return kNoSlot;
    }
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    for (auto& w : workers_) w->ensure_chunk(slot / WorkerMetrics::kChunkSlots);
  }
  slots_[slot] = SlotInfo{pool, backend, true, 0};
  slot_by_key_[key] = slot;
  return slot;
}

uint32_t MetricsHub::find_backend_slot(const std::string& pool, const std::string& backend) const {
  std::lock_guard lock(mu_);
  auto it = slot_by_key_.find({pool, backend});
  if (it == slot_by_key_.end() || !slots_[it->second].live) return kNoSlot;
  return it->second;
}

void MetricsHub::release_backend_slot(const std::string& pool, const std::string& backend) {
  std::lock_guard lock(mu_);
  auto it = slot_by_key_.find({pool, backend});
  if (it == slot_by_key_.end() || !slots_[it->second].live) return;
  epoch_.fetch_add(1, std::memory_order_release);
  slots_[it->second].live = false;
  slots_[it->second].released_ms = now_ms();
  free_slots_.push_back(it->second);
  health_checks_.erase({pool, backend});
}

void MetricsHub::on_health_check(const std::string& pool, const std::string& backend, bool pass) {
  std::lock_guard lock(mu_);
  auto& c = health_checks_[{pool, backend}];
  (pass ? c.first : c.second)++;
}

void MetricsHub::on_reload(bool ok) {
  std::lock_guard lock(mu_);
  (ok ? reloads_ok_ : reloads_failed_)++;
}

void MetricsHub::set_reloads(uint64_t ok, uint64_t failed) {
  std::lock_guard lock(mu_);
  reloads_ok_ = ok;
  reloads_failed_ = failed;
}

void MetricsHub::set_worker_connections(std::vector<WorkerConnections> workers) {
  std::lock_guard lock(mu_);
  worker_connections_ = std::move(workers);
}

void MetricsHub::set_listener_totals(std::map<std::string, ListenerTotals> totals) {
  std::lock_guard lock(mu_);
  listener_totals_ = std::move(totals);
  for (const auto& [name, t] : listener_totals_) listener_slot_locked(name);
}

double MetricsHub::mean_latency_ms(const std::string& pool, const std::string& backend) const {
  std::lock_guard lock(mu_);
  auto it = slot_by_key_.find({pool, backend});
  if (it == slot_by_key_.end() || !slots_[it->second].live) return -1;
  const uint32_t hist = (max_listeners_ + 1) * kCodeClasses;
  uint64_t count = 0, sum_ns = 0;
  for (const auto& w : workers_) {
    const WorkerMetrics::Counter* c = w->backend(it->second);
    for (uint32_t i = 0; i < kBuckets; ++i) count += c[hist + i].load(std::memory_order_relaxed);
    sum_ns += c[hist + kBuckets].load(std::memory_order_relaxed);
  }
  return count == 0 ? -1 : static_cast<double>(sum_ns) / 1e6 / static_cast<double>(count);
}

namespace {
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  return m;
}

void add_counter(MetricFamily& f, std::vector<ClientMetric::Label> labels, uint64_t v) {
  ClientMetric m = labelled(std::move(labels));
  m.counter.value = static_cast<double>(v);
  f.metric.push_back(std::move(m));
}

void add_gauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
  ClientMetric m = labelled(std::move(labels));
  m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

const char* kCodeNames[kCodeClasses] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
}  // namespace

std::string MetricsHub::render(const std::vector<BackendStatus>& backends) const {
  std::lock_guard lock(mu_);
  using L = ClientMetric::Label;
  auto requests = family("ebb_requests_total", "Requests (L7) or connections (L4) proxied, by status class.",
                         MetricType::Counter);
  auto duration = family("ebb_request_duration_seconds",
                         "Time from the request to the end of the response (L7) or connection (L4).",
                         MetricType::Histogram);
  const uint32_t rows = max_listeners_ + 1;
  std::vector<uint64_t> sum(slot_stride_);
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const SlotInfo& info = slots_[slot];
    if (!info.live) continue;
    std::fill(sum.begin(), sum.end(), 0);
    for (const auto& w : workers_) {
      const WorkerMetrics::Counter* c = w->backend(slot);
      for (uint32_t i = 0; i < slot_stride_; ++i) sum[i] += c[i].load(std::memory_order_relaxed);
    }
    for (uint32_t l = 0; l < listener_names_.size(); ++l)
      for (uint32_t k = 0; k < kCodeClasses; ++k)
        if (uint64_t v = sum[l * kCodeClasses + k])
          add_counter(requests,
                      {L{"listener", listener_names_[l]}, L{"pool", info.pool},
                       L{"backend", info.backend}, L{"code", kCodeNames[k]}},
                      v);
    const uint64_t* hist = sum.data() + rows * kCodeClasses;
    if (info.backend.empty() && std::all_of(hist, hist + kBuckets, [](uint64_t v) { return v == 0; }))
      continue;  // the pool's "no backend" slot has no latency series until it is used
    ClientMetric h = labelled({L{"pool", info.pool}, L{"backend", info.backend}});
    uint64_t cumulative = 0;
    for (uint32_t i = 0; i < kBuckets; ++i) {
      cumulative += hist[i];
      h.histogram.bucket.push_back(
          {cumulative, i < kLatencyBuckets.size() ? kLatencyBuckets[i]
                                                  : std::numeric_limits<double>::infinity()});
    }
    h.histogram.sample_count = cumulative;
    h.histogram.sample_sum = static_cast<double>(hist[kBuckets]) / 1e9;
    duration.metric.push_back(std::move(h));
  }

  auto conn_active = family("ebb_connections_active", "Open client connections.", MetricType::Gauge);
  auto conn_total = family("ebb_connections_total", "Client connections accepted.", MetricType::Counter);
  auto bytes = family("ebb_bytes_total", "Bytes received from (in) and sent to (out) clients.",
                      MetricType::Counter);
  auto tls = family("ebb_tls_handshakes_total", "TLS handshakes on a listener, by result.",
                    MetricType::Counter);
  for (uint32_t l = 0; l < listener_names_.size(); ++l) {
    std::array<uint64_t, WorkerMetrics::kListenerFields> f{};
    for (const auto& w : workers_)
      for (uint32_t k = 0; k < WorkerMetrics::kListenerFields; ++k)
        f[k] += w->listeners_[l * WorkerMetrics::kListenerFields + k].load(std::memory_order_relaxed);
    const std::string& name = listener_names_[l];
    if (auto t = listener_totals_.find(name); t != listener_totals_.end()) {
      f[WorkerMetrics::kConnOpen] += t->second.connections_total;
      f[WorkerMetrics::kConnClose] += t->second.connections_total -
                                      static_cast<uint64_t>(std::max<int64_t>(0, t->second.connections_active));
    }
    // Opens and closes are counted by the same worker, but read at slightly different
    // moments: never show a negative gauge.
    const uint64_t open = f[WorkerMetrics::kConnOpen], closed = f[WorkerMetrics::kConnClose];
    add_gauge(conn_active, {L{"listener", name}}, open > closed ? static_cast<double>(open - closed) : 0.0);
    add_counter(conn_total, {L{"listener", name}}, open);
    add_counter(bytes, {L{"listener", name}, L{"direction", "in"}}, f[WorkerMetrics::kBytesIn]);
    add_counter(bytes, {L{"listener", name}, L{"direction", "out"}}, f[WorkerMetrics::kBytesOut]);
    // One label set for both sources: lb/tls's results, plus on_tls_handshake() counts folded
    // into "ok" / "failed".
    std::vector<std::pair<std::string, uint64_t>> results = {
        {"ok", 0}, {"failed", 0}, {"timeout", 0}, {"closed", 0}};
    bool has_tls = f[WorkerMetrics::kTlsOk] + f[WorkerMetrics::kTlsFail] > 0;
    if (auto t = listener_totals_.find(name); t != listener_totals_.end() && !t->second.tls_results.empty()) {
      has_tls = true;
      for (const auto& rc : t->second.tls_results) {  // no structured binding: clang 14 can't capture one
        auto it = std::find_if(results.begin(), results.end(), [&](const auto& r) { return r.first == rc.first; });
        if (it == results.end()) results.emplace_back(rc.first, rc.second);
        else it->second += rc.second;
      }
    }
    results[0].second += f[WorkerMetrics::kTlsOk];
    results[1].second += f[WorkerMetrics::kTlsFail];
    if (has_tls)
      for (const auto& [result, count] : results)
        add_counter(tls, {L{"listener", name}, L{"result", result}}, count);
  }

  auto active = family("ebb_backend_active", "In-flight requests (L7) or open connections (L4) to a backend.",
                       MetricType::Gauge);
  auto up = family("ebb_backend_up", "1 when the backend is healthy, else 0.", MetricType::Gauge);
  auto state = family("ebb_backend_state", "1 for the backend's current state.", MetricType::Gauge);
  static constexpr BackendState kStates[] = {BackendState::unknown, BackendState::healthy,
                                             BackendState::unhealthy, BackendState::draining};
  static constexpr const char* kStateNames[] = {"unknown", "healthy", "unhealthy", "draining"};
  for (const auto& b : backends) {
    add_gauge(active, {L{"pool", b.pool}, L{"backend", b.address}}, static_cast<double>(b.active));
    add_gauge(up, {L{"pool", b.pool}, L{"backend", b.address}},
              b.state == BackendState::healthy ? 1.0 : 0.0);
    for (size_t i = 0; i < 4; ++i)
      add_gauge(state, {L{"pool", b.pool}, L{"backend", b.address}, L{"state", kStateNames[i]}},
                b.state == kStates[i] ? 1.0 : 0.0);
  }

  auto checks = family("ebb_health_checks_total", "Active health checks, by result.", MetricType::Counter);
  for (const auto& [key, c] : health_checks_) {
    add_counter(checks, {L{"pool", key.first}, L{"backend", key.second}, L{"result", "pass"}}, c.first);
    add_counter(checks, {L{"pool", key.first}, L{"backend", key.second}, L{"result", "fail"}}, c.second);
  }
  auto reloads = family("ebb_config_reloads_total", "Configuration reloads, by result.", MetricType::Counter);
  add_counter(reloads, {L{"result", "success"}}, reloads_ok_);
  add_counter(reloads, {L{"result", "failure"}}, reloads_failed_);

  auto worker_active = family("ebb_worker_connections_active", "Open client connections per worker thread.",
                              MetricType::Gauge);
  auto worker_moved = family("ebb_worker_connections_moved_total",
                             "Client connections a worker accepted and handed to a less-loaded worker.",
                             MetricType::Counter);
  for (size_t w = 0; w < worker_connections_.size(); ++w) {
    const std::string id = std::to_string(w);
    add_gauge(worker_active, {L{"worker", id}},
              static_cast<double>(std::max<int64_t>(0, worker_connections_[w].active)));
    add_counter(worker_moved, {L{"worker", id}}, worker_connections_[w].moved);
  }

  std::vector<MetricFamily> all;
  for (auto* f : {&requests, &duration, &conn_active, &conn_total, &active, &up, &state, &checks,
                  &bytes, &tls, &reloads, &worker_active, &worker_moved})
    all.push_back(std::move(*f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, all);
  return out.str();
}

}  // namespace ebb::lb::admin
