// Building blocks for balancer tests: a pool and a backend vector as a snapshot would hold them.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/lb_config.h"
#include "lb/backend.h"
#include "lb/balancer/balancer.h"

namespace ebb::lb::test {

inline config::Pool make_pool(config::Balance balance, std::string name = "app") {
  config::Pool p;
  p.name = std::move(name);
  p.balance = balance;
  return p;
}

inline Backend make_backend(std::string address, uint32_t weight = 1,
                            BackendState state = BackendState::healthy) {
  Backend b;
  b.address = std::move(address);
  b.weight = weight;
  b.state = state;
  b.live = std::make_shared<BackendLive>();
  return b;
}

// Backends "10.0.0.<i>:80" with the given weights, all healthy.
inline std::vector<Backend> make_backends(const std::vector<uint32_t>& weights) {
  std::vector<Backend> out;
  for (size_t i = 0; i < weights.size(); ++i)
    out.push_back(make_backend("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":80",
                               weights[i]));
  return out;
}

inline std::vector<Backend> make_backends(size_t n) {
  return make_backends(std::vector<uint32_t>(n, 1));
}

// Picks `count` times with one worker's state; returns the sequence.
inline std::vector<size_t> pick_n(const Selector& s, size_t count, PickState& st,
                                  const PickRequest& req = {}) {
  std::vector<size_t> seq;
  seq.reserve(count);
  for (size_t i = 0; i < count; ++i) seq.push_back(s.pick(req, st));
  return seq;
}

inline std::map<size_t, size_t> histogram(const std::vector<size_t>& seq) {
  std::map<size_t, size_t> h;
  for (size_t x : seq) ++h[x];
  return h;
}

}  // namespace ebb::lb::test
