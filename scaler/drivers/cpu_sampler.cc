#include "scaler/drivers/cpu_sampler.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace ebb::scaler {

Result<double> parse_proc_stat_cpu_seconds(const std::string& s, long ticks_per_second) {
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split after the last ')'
  const size_t close = s.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return make_error("malformed /proc stat line");
  std::istringstream in(s.substr(close + 1));
  std::vector<std::string> f;
  for (std::string w; in >> w;) f.push_back(w);
  // f[0] is field 3 (state); utime and stime are fields 14 and 15
  if (f.size() < 13) return make_error("malformed /proc stat line");
  unsigned long long ut = 0, st = 0;
  auto a = std::from_chars(f[11].data(), f[11].data() + f[11].size(), ut);
  auto b = std::from_chars(f[12].data(), f[12].data() + f[12].size(), st);
  if (a.ec != std::errc() || b.ec != std::errc()) return make_error("malformed /proc stat line");
  return static_cast<double>(ut + st) / static_cast<double>(ticks_per_second);
}

Result<double> parse_cgroup_cpu_seconds(const std::string& text) {
  std::istringstream in(text);
  for (std::string key, value; in >> key >> value;) {
    if (key != "usage_usec") continue;
    unsigned long long us = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), us);
    if (r.ec != std::errc()) break;
    return static_cast<double>(us) / 1e6;
  }
  return make_error("no usage_usec in cpu.stat");
}

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<double> CpuSampler::sample(double cpu_s, double wall_s) {
  std::optional<double> out;
  if (have_ && wall_s > wall_) out = std::max(0.0, (cpu_s - cpu_) / (wall_s - wall_) * 100.0);
  have_ = true;
  cpu_ = cpu_s;
  wall_ = wall_s;
  return out;
}

}  // namespace ebb::scaler
