#include "scaler/policies/decision.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "scaler/policies/metric_name.h"

namespace ebb::scaler {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

const char* to_string(Bound b) {
  switch (b) {
    case Bound::tolerance: return "tolerance";
    case Bound::missing_data: return "missing_data";
    case Bound::cooldown: return "cooldown";
    case Bound::stabilisation: return "stabilisation";
    case Bound::step: return "step";
    case Bound::min: return "min";
    case Bound::max: return "max";
    case Bound::schedule: return "schedule";
  }
  return "?";
}

std::string Decision::action() const {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += " + ";
    out += s;
  };
  if (!cancel_drain.empty()) add("cancel_drain " + std::to_string(cancel_drain.size()));
  if (launch > 0) add("launch " + std::to_string(launch));
  if (!drain.empty()) add("drain " + std::to_string(drain.size()));
  return out.empty() ? "none" : out;
}

std::string Decision::log_line() const {
  std::string s = "decision pool=" + pool + " policy=" + policy + " current=" + std::to_string(current) +
                  " warming=" + std::to_string(warming) + " draining=" + std::to_string(draining);
  for (const auto& t : targets) {
    s += std::string(" ") + metric_name(t.metric) + "=" + (t.value ? fmt(*t.value) : "missing") + "/" +
         fmt(t.target) + "->" + std::to_string(t.desired);
    if (!t.note.empty()) s += "(" + t.note + ")";
  }
  s += " recommended=" + std::to_string(recommended) + " stabilised=" + std::to_string(stabilised);
  if (schedule_floor > 0) s += " schedule_floor=" + std::to_string(schedule_floor);
  s += " desired=" + std::to_string(desired) + " bound=";
  if (bounds.empty()) s += "none";
  for (size_t i = 0; i < bounds.size(); ++i) s += (i ? "," : "") + std::string(to_string(bounds[i]));
  if (!missing.empty()) s += " missing=\"" + missing + "\"";
  s += " action=" + action();
  for (const auto& a : cancel_drain) s += " cancel_drain=" + a;
  for (const auto& a : drain) s += " drain=" + a;
  return s;
}

void to_json(nlohmann::json& j, const Decision& d) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : d.targets) {
    targets.push_back({{"metric", metric_name(t.metric)},
                       {"target", t.target},
                       {"value", t.value ? nlohmann::json(*t.value) : nlohmann::json(nullptr)},
                       {"samples", t.samples},
                       {"missing", t.missing},
                       {"desired", t.desired},
                       {"note", t.note}});
  }
  nlohmann::json bounds = nlohmann::json::array();
  for (Bound b : d.bounds) bounds.push_back(to_string(b));
  j = {{"time", epoch_seconds(d.at)},
       {"pool", d.pool},
       {"policy", d.policy},
       {"current", d.current},
       {"warming", d.warming},
       {"draining", d.draining},
       {"targets", targets},
       {"recommended", d.recommended},
       {"stabilised", d.stabilised},
       {"schedule_floor", d.schedule_floor},
       {"schedule_cron", d.schedule_cron},
       {"desired", d.desired},
       {"bounds", bounds},
       {"missing", d.missing},
       {"action", d.action()},
       {"launch", d.launch},
       {"drain", d.drain},
       {"cancel_drain", d.cancel_drain}};
}

}  // namespace ebb::scaler
