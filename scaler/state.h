// The scaler's state file (SPEC §7 state_file): the instances it launched and the policy's memory,
// so that a restarted scaler re-adopts what still runs instead of launching duplicates. Written
// atomically after every action: a temporary file in the same directory, fsync, rename, fsync of
// the directory — a crash leaves the old file or the new one, never half of one.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "scaler/policies/target_tracking.h"

namespace ebb::scaler {

struct InstanceRecord {
  std::string address;   // host:port registered with the LBs
  std::string handle;    // the driver's handle (pid, unit)
  TimePoint launched_at{};
  bool draining = false;
};

struct ScalerState {
  std::string pool;
  std::vector<InstanceRecord> instances;
  PolicyState policy;
};

std::string state_to_json(const ScalerState& s);
Result<ScalerState> state_from_json(const std::string& text);

// Writes atomically (see above). The error names the path and the failing step.
Result<void> save_state(const std::string& path, const ScalerState& s);
// A missing file is an empty state (first start); an unreadable or corrupt one is an error.
Result<ScalerState> load_state(const std::string& path);

}  // namespace ebb::scaler
