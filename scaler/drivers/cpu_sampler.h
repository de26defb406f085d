// CPU % from cumulative CPU-time counters: the process driver reads /proc/PID/stat, the systemd
// driver the unit cgroup's cpu.stat. Percent of one core over the time between two samples.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace ebb::scaler {

// utime + stime of a process, in seconds, from the text of /proc/PID/stat.
Result<double> parse_proc_stat_cpu_seconds(const std::string& stat_text, long ticks_per_second);
// usage_usec of a cgroup v2 cpu.stat, in seconds.
Result<double> parse_cgroup_cpu_seconds(const std::string& cpu_stat_text);
// Whole-file read; error if it cannot be read.
Result<std::string> read_small_file(const std::string& path);

class CpuSampler {
 public:
  // Records (cpu seconds, wall seconds) and returns the percent since the previous sample, or
  // nullopt for the first sample or a non-increasing wall clock.
  std::optional<double> sample(double cpu_s, double wall_s);

 private:
  bool have_ = false;
  double cpu_ = 0, wall_ = 0;
};

}  // namespace ebb::scaler
