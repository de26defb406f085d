// The state file: round trip, atomic replacement, first start, corruption.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "scaler/state.h"

using namespace ebb::scaler;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ebb-state-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
const TimePoint kT = TimePoint{sys_days{year{2026} / January / 5}} + milliseconds{1234};
}  // namespace

TEST_CASE("state file: round trip keeps instances and the policy's memory") {
  TempDir dir;
  const std::string path = (dir.path / "scaler-app.json").string();
  ScalerState s;
  s.pool = "app";
  s.instances = {{"127.0.0.1:9100", "4242", kT, false}, {"127.0.0.1:9101", "web@9101.service", kT + seconds{5}, true}};
  s.policy.last_action = kT + seconds{5};
  s.policy.history = {{kT, 2}, {kT + seconds{10}, 3}};
  REQUIRE(save_state(path, s).ok());
  CHECK_FALSE(fs::exists(path + ".tmp"));
  auto back = load_state(path);
  REQUIRE(back.ok());
  CHECK(back->pool == "app");
  REQUIRE(back->instances.size() == 2);
  CHECK(back->instances[0].address == "127.0.0.1:9100");
  CHECK(back->instances[0].handle == "4242");
  CHECK(back->instances[0].launched_at == kT);
  CHECK_FALSE(back->instances[0].draining);
  CHECK(back->instances[1].draining);
  CHECK(back->policy.last_action == kT + seconds{5});
  CHECK(back->policy.history == s.policy.history);

  // a second save replaces the file as a whole
  s.instances.pop_back();
  REQUIRE(save_state(path, s).ok());
  CHECK(load_state(path)->instances.size() == 1);
}

TEST_CASE("state file: first start, corruption and unwritable paths are reported") {
  TempDir dir;
  auto empty = load_state((dir.path / "none.json").string());
  REQUIRE(empty.ok());
  CHECK(empty->instances.empty());
  CHECK_FALSE(empty->policy.last_action.has_value());

  struct Row { const char* text; const char* fragment; };
  const Row rows[] = {
      {"{", "corrupt state"},
      {"{\"version\": 2}", "unsupported state file version"},
      {"{\"version\": 1, \"pool\": \"a\"}", "corrupt state"},
      {"{\"version\": 1, \"pool\": \"a\", \"instances\": [{\"address\": 5}], \"policy\": {}}", "corrupt state"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    const auto p = dir.path / "bad.json";
    std::ofstream(p) << r.text;
    auto s = load_state(p.string());
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains(r.fragment));
    CHECK_THAT(s.error(), Catch::Contains("bad.json"));
  }
  auto w = save_state((dir.path / "no" / "such" / "dir" / "s.json").string(), ScalerState{});
  REQUIRE_FALSE(w.ok());
  CHECK_THAT(w.error(), Catch::Contains("cannot create"));
}
