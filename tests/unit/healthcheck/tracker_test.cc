// Rise/fall state machine: table-driven sequences of inputs and the expected state after each.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "healthcheck/tracker.h"

using ebb::health::BackendState;
using ebb::health::HealthTracker;
using ebb::health::Origin;
using ebb::health::Policy;

namespace {

// One input: 'P' check pass, 'F' check fail, 'p<n>' passive count n, 't<ms>' tick at ms,
// 'D' drain, 'U' undrain. Each step carries the expected effective state after it.
struct Step {
  std::string input;
  BackendState expect;
  bool expect_transition;
};

struct Case {
  const char* name;
  Policy policy;
  Origin origin;
  BackendState initial;
  std::vector<Step> steps;
};

Policy policy(unsigned rise, unsigned fall, unsigned passive, bool active = true) {
  Policy p;
  p.active = active;
  p.healthy_threshold = rise;
  p.unhealthy_threshold = fall;
  p.passive_failures = passive;
  p.passive_backoff = std::chrono::milliseconds(1000);
  return p;
}

constexpr auto H = BackendState::healthy;
constexpr auto X = BackendState::unhealthy;
constexpr auto U = BackendState::unknown;
constexpr auto D = BackendState::draining;

}  // namespace

TEST_CASE("tracker: transition tables") {
  const std::vector<Case> cases = {
      {"config backend stays healthy when its first check passes", policy(2, 3, 0), Origin::config,
       H, {{"P", H, false}, {"F", H, false}, {"F", H, false}, {"F", X, true}}},
      {"config backend whose first check fails is unhealthy at once", policy(2, 3, 0),
       Origin::config, H, {{"F", X, true}, {"P", X, false}, {"P", H, true}}},
      {"api backend starts unknown and needs rise passes", policy(3, 2, 0), Origin::api, U,
       {{"P", U, false}, {"P", U, false}, {"P", H, true}, {"P", H, false}}},
      {"api backend that keeps failing goes unhealthy after fall failures", policy(2, 2, 0),
       Origin::api, U, {{"F", U, false}, {"F", X, true}, {"P", X, false}, {"P", H, true}}},
      {"a pass in between resets the failure run", policy(2, 3, 0), Origin::config, H,
       {{"P", H, false}, {"F", H, false}, {"F", H, false}, {"P", H, false}, {"F", H, false},
        {"F", H, false}, {"F", X, true}}},
      {"a failure in between resets the pass run", policy(3, 1, 0), Origin::config, H,
       {{"F", X, true}, {"P", X, false}, {"P", X, false}, {"F", X, false}, {"P", X, false},
        {"P", X, false}, {"P", H, true}}},
      {"api backend with checks off is healthy at once", policy(2, 3, 0, false), Origin::api, H,
       {{"F", H, false}, {"F", H, false}, {"F", H, false}, {"F", H, false}}},
      {"passive ejection at the threshold, re-admitted by active checks", policy(2, 3, 5),
       Origin::config, H,
       {{"p4", H, false}, {"p5", X, true}, {"p9", X, false}, {"P", X, false}, {"P", H, true}}},
      {"passive ejection with checks off: back-off then re-admission", policy(2, 3, 3, false),
       Origin::config, H,
       {{"t0", H, false}, {"p3", X, true}, {"t500", X, false}, {"t1000", H, true},
        // re-ejected soon after: the back-off doubles (2 s)
        {"p3", X, true}, {"t2999", X, false}, {"t3000", H, true}}},
      {"passive off ignores any count", policy(2, 3, 0), Origin::config, H,
       {{"p1000", H, false}}},
      {"unknown backends are not passively ejected", policy(2, 3, 1), Origin::api, U,
       {{"p5", U, false}}},
      {"draining overrides health and cancelling restores it", policy(1, 1, 0), Origin::config, H,
       {{"D", D, true}, {"F", D, true}, {"P", D, true}, {"D", D, false}, {"U", H, true},
        {"U", H, false}}},
      {"cancelled drain returns to the current (unhealthy) health", policy(1, 1, 0),
       Origin::config, H, {{"D", D, true}, {"F", D, true}, {"U", X, true}}},
  };

  for (const auto& c : cases) {
    SECTION(c.name) {
      HealthTracker t(c.policy, c.origin);
      REQUIRE(t.state() == c.initial);
      int64_t now = 0;
      for (size_t i = 0; i < c.steps.size(); ++i) {
        const Step& s = c.steps[i];
        INFO("step " << i << " input " << s.input);
        std::optional<ebb::health::Transition> tr;
        switch (s.input[0]) {
          case 'P': tr = t.on_check(true, "HTTP 200", now); break;
          case 'F': tr = t.on_check(false, "connection refused", now); break;
          case 'p': tr = t.on_passive_failures(std::stoul(s.input.substr(1)), now); break;
          case 't':
            now = std::stoll(s.input.substr(1));
            tr = t.on_tick(now);
            break;
          case 'D': tr = t.set_draining(true, "drain requested"); break;
          case 'U': tr = t.set_draining(false, "drain cancelled"); break;
          default: FAIL("bad step");
        }
        CHECK(t.state() == s.expect);
        CHECK(tr.has_value() == s.expect_transition);
        if (tr) {
          CHECK(tr->to == s.expect);
          CHECK_FALSE(tr->reason.empty());
        }
      }
    }
  }
}

TEST_CASE("tracker: reasons name the cause") {
  HealthTracker t(policy(2, 2, 3), Origin::config);
  auto first = t.on_check(false, "timeout after 1s", 0);
  REQUIRE(first);
  CHECK(first->reason == "first check failed: timeout after 1s");
  t.on_check(true, "HTTP 200", 0);
  auto up = t.on_check(true, "HTTP 204", 0);
  REQUIRE(up);
  CHECK(up->from == BackendState::unhealthy);
  CHECK(up->to == BackendState::healthy);
  CHECK(up->reason == "2 consecutive passed checks: HTTP 204");
  auto ejected = t.on_passive_failures(3, 0);
  REQUIRE(ejected);
  CHECK(ejected->reason.find("passive: 3 consecutive") == 0);
  CHECK(t.passively_ejected());
  t.on_check(true, "HTTP 200", 0);
  auto back = t.on_check(true, "HTTP 200", 0);
  REQUIRE(back);
  CHECK(back->reason.find("re-admitted after passive ejection") != std::string::npos);
  CHECK_FALSE(t.passively_ejected());
}

TEST_CASE("tracker: draining hides health changes but reports them") {
  HealthTracker t(policy(1, 1, 0), Origin::config);
  REQUIRE(t.set_draining(true, "api"));
  auto tr = t.on_check(false, "HTTP 503", 0);
  REQUIRE(tr);
  CHECK_FALSE(tr->effective_change());
  CHECK(tr->health_from == BackendState::healthy);
  CHECK(tr->health_to == BackendState::unhealthy);
  CHECK(t.health() == BackendState::unhealthy);
  CHECK(t.state() == BackendState::draining);
}

TEST_CASE("tracker: reload policy changes") {
  SECTION("turning checks off makes an unknown backend healthy") {
    HealthTracker t(policy(2, 2, 0), Origin::api);
    REQUIRE(t.state() == BackendState::unknown);
    auto tr = t.set_policy(policy(2, 2, 0, false), 0);
    REQUIRE(tr);
    CHECK(t.state() == BackendState::healthy);
    CHECK(tr->reason == "health checks turned off");
  }
  SECTION("turning checks off keeps a passive ejection until its back-off") {
    HealthTracker t(policy(2, 2, 2), Origin::config);
    REQUIRE(t.on_passive_failures(2, 0));
    CHECK_FALSE(t.set_policy(policy(2, 2, 2, false), 100));
    CHECK(t.state() == BackendState::unhealthy);
    REQUIRE(t.readmit_at_ms());
    CHECK(*t.readmit_at_ms() == 1100);
    CHECK_FALSE(t.on_tick(1099));
    CHECK(t.on_tick(1100));
    CHECK(t.state() == BackendState::healthy);
  }
  SECTION("same policy keeps the counters") {
    HealthTracker t(policy(2, 2, 0), Origin::api);
    t.on_check(true, "HTTP 200", 0);
    CHECK_FALSE(t.set_policy(policy(2, 2, 0), 0));
    CHECK(t.on_check(true, "HTTP 200", 0));
  }
}

TEST_CASE("tracker: Policy::from config") {
  ebb::config::Health h;
  h.check = ebb::config::HealthCheck::none;
  h.healthy_threshold = 4;
  h.unhealthy_threshold = 0;  // clamped: at least one failure
  h.interval = std::chrono::seconds(2);
  const Policy p = Policy::from(h);
  CHECK_FALSE(p.active);
  CHECK(p.healthy_threshold == 4);
  CHECK(p.unhealthy_threshold == 1);
  CHECK(p.passive_backoff == std::chrono::seconds(10));
}
