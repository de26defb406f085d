#include "scaler/metrics/lb_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace ebb::scaler {
namespace {

std::optional<double> parse_le(const std::string& s) {
  if (s == "+Inf" || s == "Inf" || s == "inf" || s == "+inf") return std::numeric_limits<double>::infinity();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

PoolScrape extract_pool(const Exposition& e, std::string_view pool, TimePoint at) {
  PoolScrape out;
  out.at = at;
  static const std::set<std::string, std::less<>> kPresence = {"ebb_backend_up", "ebb_backend_state"};
  for (const auto& s : e.samples) {
    const std::string* p = s.label("pool");
    const std::string* b = s.label("backend");
    if (!p || !b || *p != pool || b->empty()) continue;
    if (s.name == "ebb_requests_total") {
      out.backends[*b].requests += std::isfinite(s.value) ? s.value : 0;
    } else if (s.name == "ebb_request_duration_seconds_bucket") {
      const std::string* le = s.label("le");
      auto bound = le ? parse_le(*le) : std::nullopt;
      if (!bound) continue;
      out.backends[*b].latency.buckets.push_back({*bound, s.value});
    } else if (s.name == "ebb_request_duration_seconds_sum") {
      out.backends[*b].latency.sum = s.value;
    } else if (s.name == "ebb_request_duration_seconds_count") {
      out.backends[*b].latency.count = s.value;
    } else if (s.name == "ebb_backend_active") {
      auto& a = out.backends[*b].active;
      a = a.value_or(0) + s.value;
    } else if (kPresence.count(s.name)) {
      out.backends[*b];
    }
  }
  for (auto& [addr, c] : out.backends)
    std::sort(c.latency.buckets.begin(), c.latency.buckets.end(),
              [](const Bucket& x, const Bucket& y) { return x.le < y.le; });
  return out;
}

std::map<std::string, BackendRates> derive_rates(const PoolScrape& prev, const PoolScrape& cur) {
  std::map<std::string, BackendRates> out;
  const double dt = std::chrono::duration<double>(cur.at - prev.at).count();
  for (const auto& [addr, c] : cur.backends) {
    BackendRates r;
    r.active = c.active;
    auto it = prev.backends.find(addr);
    if (it != prev.backends.end() && dt > 0) {
      const double inc = c.requests >= it->second.requests ? c.requests - it->second.requests : c.requests;
      r.requests_per_s = inc / dt;
      if (!c.latency.empty()) r.latency = c.latency.delta_since(it->second.latency);
      else if (it->second.latency.empty()) r.latency = Histogram{};  // no request ever: an empty increase
    }
    out.emplace(addr, std::move(r));
  }
  return out;
}

std::map<std::string, BackendRates> combine_lbs(const std::vector<std::map<std::string, BackendRates>>& per_lb) {
  std::map<std::string, BackendRates> out;
  if (per_lb.empty()) return out;
  std::set<std::string> addrs;
  for (const auto& m : per_lb)
    for (const auto& kv : m) addrs.insert(kv.first);
  for (const auto& addr : addrs) {
    BackendRates sum;
    sum.requests_per_s = 0.0;
    sum.active = 0.0;
    sum.latency = Histogram{};
    for (const auto& m : per_lb) {
      auto it = m.find(addr);
      const BackendRates* r = it == m.end() ? nullptr : &it->second;
      if (sum.requests_per_s) {
        if (r && r->requests_per_s) *sum.requests_per_s += *r->requests_per_s;
        else sum.requests_per_s.reset();
      }
      if (sum.active) {
        if (r && r->active) *sum.active += *r->active;
        else sum.active.reset();
      }
      if (sum.latency) {
        if (r && r->latency) sum.latency->merge(*r->latency);
        else sum.latency.reset();
      }
    }
    out.emplace(addr, std::move(sum));
  }
  return out;
}

}  // namespace ebb::scaler
