#include "scaler/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace ebb::scaler {
namespace {

using nlohmann::json;

double to_seconds(TimePoint t) { return epoch_seconds(t); }
TimePoint from_seconds(double s) {
  return TimePoint{Millis{static_cast<int64_t>(std::llround(s * 1000.0))}};
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string state_to_json(const ScalerState& s) {
  json instances = json::array();
  for (const auto& i : s.instances)
    instances.push_back({{"address", i.address},
                         {"handle", i.handle},
                         {"launched_at", to_seconds(i.launched_at)},
                         {"draining", i.draining}});
  json history = json::array();
  for (const auto& [t, n] : s.policy.history) history.push_back({to_seconds(t), n});
  json j = {{"version", 1},
            {"pool", s.pool},
            {"instances", instances},
            {"policy",
             {{"last_action", s.policy.last_action ? json(to_seconds(*s.policy.last_action)) : json(nullptr)},
              {"history", history}}}};
  return j.dump(2) + "\n";
}

Result<ScalerState> state_from_json(const std::string& text) {
  // nlohmann throws on bad input and type mismatches: keep that inside this function.
  try {
    json j = json::parse(text);
    if (j.value("version", 0) != 1) return make_error("unsupported state file version");
    ScalerState s;
    s.pool = j.at("pool").get<std::string>();
    for (const auto& i : j.at("instances")) {
      InstanceRecord r;
      r.address = i.at("address").get<std::string>();
      r.handle = i.value("handle", "");
      r.launched_at = from_seconds(i.at("launched_at").get<double>());
      r.draining = i.value("draining", false);
      s.instances.push_back(std::move(r));
    }
    const json& p = j.at("policy");
    if (!p.at("last_action").is_null()) s.policy.last_action = from_seconds(p.at("last_action").get<double>());
    for (const auto& h : p.at("history"))
      s.policy.history.emplace_back(from_seconds(h.at(0).get<double>()), h.at(1).get<unsigned>());
    return s;
  } catch (const std::exception& e) {
    return make_error(std::string("corrupt state: ") + e.what());
  }
}

Result<void> save_state(const std::string& path, const ScalerState& s) {
  const std::string data = state_to_json(s);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(tmp + ": cannot create: " + errno_text());
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = tmp + ": write failed: " + errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = tmp + ": fsync failed: " + errno_text();
    ::unlink(tmp.c_str());
    return make_error(err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = path + ": rename failed: " + errno_text();
    ::unlink(tmp.c_str());
    return make_error(err);
  }
  // make the rename itself durable
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<ScalerState> load_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return ScalerState{};
    return make_error(path + ": cannot read: " + errno_text());
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = state_from_json(ss.str());
  if (!s) return make_error(path + ": " + s.error());
  return s;
}

}  // namespace ebb::scaler
